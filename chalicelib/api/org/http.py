"""The Org API blueprint, its request parameters and its route registration.

Every path is registered for GET and POST only (the seed's rule); each view declares the
key level it needs and receives an authenticated `OrgRequest`. Parameters come from the
query string and a form body (`application/x-www-form-urlencoded`), or from the fields
of a `multipart/form-data` body (uploads); each name may appear once. JSON bodies are
refused: every parameter is a `k=v` text value, which is what the signature covers.
Each view declares a pydantic model of its parameters (`chalicelib.api.org.params`),
checked after authentication and before the view, and registered for the OpenAPI document.
"""
from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from email import policy
from email.parser import BytesParser
from typing import Callable, Iterable, Optional
from urllib.parse import parse_qsl

from chalice import Blueprint
from pydantic import BaseModel

from chalicelib.api import operations
from chalicelib.api.operations import Operation
from chalicelib.api.rendering import Family
from chalicelib.api.routing import FORM, JSON, MULTIPART, route
from chalicelib.domain import money
from chalicelib.domain.errors import InvalidParameter, MissingParameter, RouteNotFound
from chalicelib.services.api_keys import ApiKeyView

org_blueprint = Blueprint(__name__)

PREFIX = "/api/v2/org"
READ, ASSET = "read", "asset"
METHODS = ("GET", "POST")
CONTENT_TYPES = [FORM, JSON, MULTIPART, "text/plain"]
MAX_PARAMS = 100
MAX_OPERATION_ID = 64
OPERATION_ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,64}$"
_OPERATION_ID = re.compile(OPERATION_ID_PATTERN)
LIST_TYPES = ("simple", "full")
# Never accepted: the org comes from the key, users are named by uid only.
FORBIDDEN_PARAMS = ("org_id", "orgId", "broker_id", "brokerId", "account_id", "accountId")


@dataclass
class OrgRequest:
    """An authenticated Org API call: the key's org and the request's parameters."""

    key: ApiKeyView
    params: dict[str, str]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    source_ip: str = ""
    parsed: Optional[BaseModel] = None  # the view's params model over `params`

    @property
    def org_id(self) -> str:
        return self.key.org_id

    def get(self, *names: str) -> Optional[str]:
        for name in names:
            value = self.params.get(name)
            if value is not None and value != "":
                return value
        return None

    def text(self, *names: str, default: str = "") -> str:
        value = self.get(*names)
        return default if value is None else value

    def require(self, *names: str) -> str:
        value = self.get(*names)
        if value is None:
            raise MissingParameter(names[0])
        return value

    def present(self, name: str) -> bool:
        """Whether the parameter was sent at all (an empty value counts: it clears)."""
        return name in self.params

    def integer(self, *names: str, default: Optional[int] = None) -> Optional[int]:
        value = self.get(*names)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise InvalidParameter(names[0]) from None

    def decimal(self, *names: str) -> Optional[Decimal]:
        value = self.get(*names)
        return None if value is None else money.parse(value, names[0])

    def required_decimal(self, *names: str) -> Decimal:
        return money.parse(self.require(*names), names[0])

    def flag(self, *names: str, default: Optional[bool] = None) -> Optional[bool]:
        value = self.get(*names)
        if value is None:
            return default
        text = value.strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise InvalidParameter(names[0], f"Parameter '{names[0]}' must be true or false")

    def uid(self, *names: str) -> str:
        value = self.require(*(names or ("uid", "user_id")))
        if not value.isdigit():
            raise InvalidParameter((names or ("uid",))[0])
        return value

    def optional_uid(self, *names: str) -> Optional[str]:
        value = self.get(*names)
        if value is not None and not value.isdigit():
            raise InvalidParameter(names[0])
        return value

    def operation_id(self) -> str:
        """The caller's unique operation id of an uplink (`client_order_id`, alias `operation_id`)."""
        value = self.get("client_order_id", "operation_id", "clientOrderId")
        if value is None:
            raise MissingParameter("client_order_id", "Every uplink takes a unique client_order_id")
        if not _OPERATION_ID.match(value):
            raise InvalidParameter("client_order_id", f"client_order_id is 1 to {MAX_OPERATION_ID} characters "
                                                      "of letters, digits and _ . : -")
        return value

    def list_type(self) -> str:
        value = (self.get("listType", "list_type") or "full").strip().lower()
        if value not in LIST_TYPES:
            raise InvalidParameter("listType", "listType must be simple or full")
        return value

    def limit(self, default: int = 20, maximum: int = 500) -> int:
        value = self.integer("limit", default=default)
        if not 1 <= value <= maximum:
            raise InvalidParameter("limit", f"limit must be 1 to {maximum}")
        return value

    def id_param(self, *names: str) -> Optional[int]:
        value = self.integer(*names)
        if value is not None and value < 0:
            raise InvalidParameter(names[0])
        return value or None


def parse_params(request) -> tuple[dict[str, str], dict[str, tuple[str, bytes]], dict[str, str]]:
    """(parameters, files, what is signed): query and body, each name once; a file part is
    signed as the hex SHA-256 of its bytes."""
    pairs: list[tuple[str, str]] = []
    multi = request.query_params
    if multi:
        for name in multi:
            getlist = getattr(multi, "getlist", None)
            for value in (getlist(name) if getlist else [multi[name]]):
                pairs.append((name, value))
    files: dict[str, tuple[str, bytes]] = {}
    raw = request.raw_body or b""
    content_type = (request.headers.get("content-type") or "").strip()
    media = content_type.split(";")[0].strip().lower()
    if raw:
        if media in (FORM, "", "text/plain"):
            try:
                pairs += parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
            except (UnicodeDecodeError, ValueError):
                raise InvalidParameter("body", "Form body is not valid") from None
        elif media == MULTIPART:
            fields, files = _multipart(raw, content_type)
            pairs += fields
        else:
            raise InvalidParameter("body", "Send parameters as a form body or in the query string")
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params or name in files:
            raise InvalidParameter(name, f"Parameter '{name}' is given more than once")
        params[name] = value
    if len(params) + len(files) > MAX_PARAMS:
        raise InvalidParameter("body", "Too many parameters")
    signed = {**params, **{name: hashlib.sha256(data).hexdigest() for name, (_, data) in files.items()}}
    return params, files, signed


def _multipart(raw: bytes, content_type: str) -> tuple[list[tuple[str, str]], dict[str, tuple[str, bytes]]]:
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(header + raw)
    if not message.is_multipart():
        raise InvalidParameter("body", "Multipart body is not valid")
    fields: list[tuple[str, str]] = []
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            raise InvalidParameter("body", "A multipart part has no name")
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            if name in files:
                raise InvalidParameter(name, f"Parameter '{name}' is given more than once")
            files[name] = (filename, data)
        else:
            try:
                fields.append((name, data.decode("utf-8")))
            except UnicodeDecodeError:
                raise InvalidParameter(name) from None
    return fields, files


# Seed path (after PREFIX) -> handler. API Gateway allows 300 resources per REST API and
# the Org API has some 60 paths, so the gateway sees only a few variable routes and the
# path is looked up here; an unknown path is the family's own JSON 404.
ROUTES: dict[str, Callable[[], object]] = {}
MAX_SEGMENTS = 3


def endpoint(paths: Iterable[str], *, params: type[BaseModel], summary: str, level: str = READ,
             media: tuple[str, ...] = (FORM,)) -> Callable:
    """Registers an Org API view (GET and POST) on its seed path and aliases, and describes
    each path in `chalicelib.api.operations`. The view gets the authenticated request whose
    parameters `params` has accepted (a refusal answers before the view runs); a view
    taking files (`media` multipart) is described for POST only, as a query has no files."""
    from chalicelib.api.org import auth
    from chalicelib.api.org.params import validate

    paths = list(paths)
    methods = METHODS if FORM in media else ("POST",)

    def decorate(view: Callable[[OrgRequest], object]) -> Callable:
        @functools.wraps(view)
        def handle():
            request = auth.authenticate(org_blueprint.current_request, level)
            request.parsed = validate(params, request.params, request.files)
            return view(request)

        for path in paths:
            if path in ROUTES or path.count("/") > MAX_SEGMENTS:
                raise ValueError(f"Org API path {path} is taken or too deep")
            ROUTES[path] = handle
            notes = (["asset key"] if level == ASSET else []) + (
                [f"alias of `{PREFIX}{paths[0]}`"] if path != paths[0] else [])
            described = f"{summary} ({'; '.join(notes)})" if notes else summary
            operations.register(Operation(Family.ORG, PREFIX + path, methods, params, auth=operations.HMAC,
                                          permission=level, summary=described, body_media=media))
        return view

    return decorate


def _dispatch(**segments: str):
    handle = ROUTES.get("/" + "/".join(segments[name] for name in sorted(segments)))
    if handle is None:
        raise RouteNotFound()
    return handle()


route(org_blueprint, [PREFIX + "".join(f"/{{s{n}}}" for n in range(1, depth + 1))
                      for depth in range(1, MAX_SEGMENTS + 1)],
      family=Family.ORG, methods=METHODS, content_types=CONTENT_TYPES)(_dispatch)
