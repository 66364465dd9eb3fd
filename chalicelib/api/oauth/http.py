"""The OAuth 2.0 blueprint, its operation registry and its request plumbing.

API Gateway allows 300 resources per REST API, so the family uses nine: the seed's five
static paths (`authorize`, `token`, `check_token`, `refresh_token`, `error`) and two
variable ones that dispatch from `DISPATCH` (`/api/v2/oauth2/{group}/{item}` and
`/{group}/{item}/{action}`: the resource calls, the consent page's JSON calls and its
assets). Chalice's local router and API Gateway both try a static sibling before a
variable one; there is no variable sibling of a static path here anyway.

Every operation is registered in `chalicelib.api.operations` (and listed in `OPERATIONS`)
for the OpenAPI generator. Resource calls take the user from the bearer token only.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterable, Optional, Type
from urllib.parse import parse_qsl

from chalice import Blueprint
from pydantic import BaseModel, ValidationError

from chalicelib.api import operations
from chalicelib.api.operations import NONE, OAUTH2, Operation
from chalicelib.api.rendering import Family
from chalicelib.api.routing import ALL_CONTENT_TYPES, FORM, JSON, route, source_ip
from chalicelib.domain.errors import BrokerError, InvalidParameter, MethodNotAllowed, MissingParameter, RouteNotFound
from chalicelib.domain.oauth_errors import OAuthInvalidRequest, OAuthInvalidToken
from chalicelib.services import oauth_server, oauth_tokens
from chalicelib.services.oauth_server import HttpRequest
from chalicelib.services.oauth_tokens import Bearer

oauth_api = Blueprint(__name__)

PREFIX = "/api/v2/oauth2"
F = Family.OAUTH
RESOURCE, PAGE = "resource", "page"
MAX_PARAMS = 50
# Sent by the seed's clients on every resource call; never an input of the call itself.
CREDENTIAL_PARAMS = ("access_token", "client_id", "open_id")


OPERATIONS: list[Operation] = []
# (group, item[, action]) -> (operation, kind, view)
DISPATCH: dict[tuple[str, ...], tuple[Operation, str, Callable]] = {}


def register(path: str, methods: Iterable[str], model: Optional[Type[BaseModel]], *, auth: str,
             scope: Optional[str] = None, summary: str = "", body_media: tuple[str, ...] = (FORM, JSON),
             produces: str = JSON) -> Operation:
    """Describes one of the family's operations (`path` relative to `PREFIX`)."""
    operation = operations.register(Operation(F, f"{PREFIX}/{path}", tuple(methods), model, auth, scope, summary,
                                              body_media=body_media, produces=produces))
    OPERATIONS.append(operation)
    return operation


# --- parameters ------------------------------------------------------------------------------------------

def _body_pairs(request, *, allow_json: bool) -> list[tuple[str, str]]:
    raw = request.raw_body or b""
    if not raw:
        return []
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media == JSON:
        if not allow_json:
            raise OAuthInvalidRequest("Send the parameters as an application/x-www-form-urlencoded body")
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise InvalidParameter("body", "Request body is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise InvalidParameter("body", "Request body must be a JSON object")
        pairs = []
        for name, value in parsed.items():
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise InvalidParameter(str(name), f"Parameter '{name}' must be a string")
            pairs.append((str(name), str(value)))
        return pairs
    if media in (FORM, "", "text/plain"):
        try:
            return parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            raise InvalidParameter("body", "Form body is not valid") from None
    raise InvalidParameter("body", "Send the parameters as a form body")


def query_pairs(request) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    params = request.query_params or {}
    for name in params:
        getlist = getattr(params, "getlist", None)
        for value in (getlist(name) if getlist else [params[name]]):
            pairs.append((name, value))
    return pairs


def pairs_of(request, *, query: bool = True, body: bool = True, allow_json: bool = True) -> list[tuple[str, str]]:
    pairs = (query_pairs(request) if query else []) + (_body_pairs(request, allow_json=allow_json) if body else [])
    if len(pairs) > MAX_PARAMS:
        raise InvalidParameter("body", "Too many parameters")
    return pairs


def single(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Each name once (a repeated parameter is ambiguous, so it is refused)."""
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise InvalidParameter(name, f"Parameter '{name}' is given more than once")
        params[name] = value
    return params


# RFC 6749 Appendix A.3: response-name = 1*response-char, response-char = "_" / DIGIT / ALPHA.
# authlib quotes the response type in its error description and raises ValueError (a 500)
# on any character an error description may not hold, so a malformed one stops here.
_RESPONSE_TYPE = re.compile(r"^[A-Za-z0-9_]+( [A-Za-z0-9_]+)*$")


def http_request(request, pairs: Iterable[tuple[str, str]]) -> HttpRequest:
    pairs = tuple(pairs)
    for name, value in pairs:
        if name == "response_type" and not _RESPONSE_TYPE.match(value):
            raise OAuthInvalidRequest("response_type is not a valid response type", param="response_type")
    headers = dict(request.headers or {})
    return HttpRequest(request.method, headers.get("host") or headers.get("Host") or "", request.path,
                       tuple(pairs), headers, source_ip(request), (headers.get("user-agent") or "")[:512])


def parse(model: Type[BaseModel], params: dict, *, protocol: bool = False) -> BaseModel:
    """The model of an operation from its parameters; a failure names the field, in the
    family's error (`invalid_request` at the protocol endpoints)."""
    try:
        return model.model_validate(params)
    except ValidationError as failure:
        error = failure.errors()[0]
        name = ".".join(str(part) for part in error.get("loc") or ()) or getattr(model, "problem_field", "body")
        detail = str(error.get("msg") or "").removeprefix("Value error, ")
        if not error.get("loc"):
            problem: BrokerError = MissingParameter(name, detail)
        elif error.get("type") == "extra_forbidden":
            problem = InvalidParameter(name, f"Unknown parameter '{name}'")
        elif error.get("type") == "missing":
            problem = MissingParameter(name)
        else:
            problem = InvalidParameter(name, f"Parameter '{name}' is not valid: {detail}")
        if protocol:
            raise OAuthInvalidRequest(problem.message, param=name) from None
        raise problem from None


def bearer_token(request, params: dict) -> Optional[str]:
    """RFC 6750: the Authorization header, or (for the seed's clients) `access_token`;
    never both."""
    header = (request.headers.get("authorization") or "").strip()
    from_header = None
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise OAuthInvalidToken("Use 'Authorization: Bearer <token>'")
        from_header = value.strip()
    from_param = params.get("access_token") or None
    if from_header and from_param:
        raise OAuthInvalidRequest("Send the access token once: in the Authorization header or as access_token")
    return from_header or from_param


# --- dispatching ------------------------------------------------------------------------------------------

def operation(segments: str, *, methods: Iterable[str] = ("GET", "POST"), model: Optional[Type[BaseModel]] = None,
              scope: Optional[str] = None, summary: str = "", kind: str = RESOURCE, produces: str = JSON) -> Callable:
    """Registers a view served through the variable routes at `PREFIX/<segments>`.

    A RESOURCE view is called as `view(bearer, model_instance)` after the bearer token,
    its rate limit and its scope passed; a PAGE view as `view(request, params)`."""
    key = tuple(segments.split("/"))
    assert len(key) in (2, 3), segments

    def decorate(view: Callable) -> Callable:
        op = register(segments, methods, model, auth=OAUTH2 if kind == RESOURCE else NONE, scope=scope,
                      summary=summary or (view.__doc__ or "").strip().split("\n")[0], produces=produces)
        DISPATCH[key] = (op, kind, view)
        return view

    return decorate


def _dispatch(key: tuple[str, ...]) -> Any:
    request = oauth_api.current_request
    entry = DISPATCH.get(key)
    if entry is None:
        raise RouteNotFound()
    op, kind, view = entry
    if request.method.upper() not in op.methods:
        raise MethodNotAllowed(f"Use {' or '.join(op.methods)}")
    if kind != RESOURCE:
        return view(request)
    params = single(pairs_of(request))
    org_id = oauth_server.org_for(request.headers.get("host") or "")
    bearer: Bearer = oauth_tokens.authenticate(org_id, bearer_token(request, params))
    if params.get("client_id") and params["client_id"] != bearer.app.client_id:
        raise InvalidParameter("client_id", "client_id is not the app this token was issued to")
    if params.get("open_id") and params["open_id"] != bearer.open_id:
        raise InvalidParameter("open_id", "open_id is not the user this token acts for")
    if op.permission:
        bearer.require(op.permission)
    inputs = {k: v for k, v in params.items() if k not in CREDENTIAL_PARAMS}
    return view(bearer, parse(op.params, inputs) if op.params else None)


@route(oauth_api, f"{PREFIX}/{{group}}/{{item}}", family=F, methods=("GET", "POST", "PUT", "DELETE"),
       content_types=ALL_CONTENT_TYPES)
def dispatch_two(group, item):
    return _dispatch((group, item))


@route(oauth_api, f"{PREFIX}/{{group}}/{{item}}/{{action}}", family=F, methods=("GET", "POST", "PUT", "DELETE"),
       content_types=ALL_CONTENT_TYPES)
def dispatch_three(group, item, action):
    return _dispatch((group, item, action))
