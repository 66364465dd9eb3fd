"""The OpenAPI blueprint, its route registration and request parameters.

Every OpenAPI path is registered for GET, POST, PUT and DELETE; the view checks the
verb itself, so a verb BHEX does not accept answers BHEX's `-1004 Bad request` in JSON
instead of the gateway's own 405. Paths BHEX serves under several names (`/openapi/v1/X`,
`/openapi/X`, `/openapi/account/v1/X`, `/openapi/account/X`) share one view.

Parameters follow BHEX: query string and form body together (the query wins when a name
is in both), JSON bodies are not read, and an empty value is the same as no value.

Each endpoint declares its parameters per verb as pydantic models (`params=`), registered
in `chalicelib.api.operations` for the family's OpenAPI document. `request_params()`
validates a request with the model of its route and verb: public views call it first,
signed ones get it from `auth.signed` once the signature holds (BHEX answers auth errors
before parameter errors). Models keep names they do not declare (BHEX ignores them;
`signature`, `accessKey` travel that way), and the view reads the validated values.
"""
from __future__ import annotations

import functools
import typing
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping, Optional
from urllib.parse import parse_qsl

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict

from chalicelib.api import operations
from chalicelib.api.operations import FORM as FORM_MEDIA, Operation
from chalicelib.api.rendering import Family
from chalicelib.api.routing import FORM, route
from chalicelib.api.openapi.wire import BhexError, invalid, missing
from chalicelib.domain import money
from chalicelib.domain.errors import InvalidParameter, MethodNotAllowed, MissingParameter

openapi_blueprint = Blueprint(__name__)

VERBS = ("GET", "POST", "PUT", "DELETE")
ANY = VERBS
CONTENT_TYPES = [FORM, "application/json", "text/plain", "multipart/form-data"]


def account_paths(name: str) -> list[str]:
    """BHEX mounts its account controllers at /openapi (and /openapi/account), with and
    without v1. The /openapi/account aliases are left out: no client we know calls them,
    and they would take API Gateway past its default quota of 300 resources."""
    return [f"/openapi/v1/{name}", f"/openapi/{name}"]


class BhexParams(BaseModel):
    """Base of the family's params models: undeclared names are kept (and not checked)."""

    model_config = ConfigDict(extra="allow")


class NoParams(BhexParams):
    """The endpoint reads no parameters."""


def endpoint(paths: Iterable[str], verbs: Iterable[str] = ("GET",), *,
             params: Any, auth: str = operations.NONE, summary: str = "") -> Callable:
    """Registers a view on every alias path; other verbs answer -1004. `params` is one
    model for every verb or a mapping verb -> model (one path, several operations);
    None registers no operation (the fallback for unknown paths, which reads nothing)."""
    paths = list(paths)
    allowed = tuple(verb.upper() for verb in verbs)
    by_verb = params if isinstance(params, Mapping) else {verb: params for verb in allowed}
    if params is not None and set(by_verb) != set(allowed):
        raise ValueError(f"params for {sorted(by_verb)} but verbs {sorted(allowed)}")

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def checked(*args, **kwargs):
            if openapi_blueprint.current_request.method.upper() not in allowed:
                raise MethodNotAllowed()
            return view(*args, **kwargs)

        route(openapi_blueprint, list(paths), family=Family.OPENAPI, methods=VERBS,
              content_types=CONTENT_TYPES)(checked)
        description = summary or (view.__doc__ or view.__name__).strip().split("\n\n")[0]
        models: dict[Any, list[str]] = {}
        for verb in allowed:
            models.setdefault(by_verb[verb], []).append(verb)
        for path in paths if params is not None else ():
            for model, model_verbs in models.items():
                operations.register(Operation(Family.OPENAPI, path, tuple(model_verbs), model, auth,
                                              summary=" ".join(description.split()), body_media=(FORM_MEDIA,),
                                              alias_of=paths[0] if path != paths[0] else None))
        return view

    return decorate


@dataclass
class Params:
    """A request's parameters: as received (for the signature) and merged (for use)."""

    query: list[tuple[str, str]] = field(default_factory=list)
    body: list[tuple[str, str]] = field(default_factory=list)
    raw_body: bytes = b""
    values: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> Optional[str]:
        value = self.values.get(name)
        return None if value is None or value == "" else value

    def text(self, name: str, default: str = "") -> str:
        value = self.get(name)
        return default if value is None else value

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise missing(name)
        return value

    def integer(self, name: str, default: Optional[int] = None) -> Optional[int]:
        value = self.get(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise invalid(name) from None

    def decimal(self, name: str) -> Optional[Decimal]:
        value = self.get(name)
        if value is None:
            return None
        try:
            return money.parse(value, name)
        except Exception:
            raise invalid(name) from None

    def flag(self, name: str) -> bool:
        return self.text(name).lower() in ("1", "true", "yes")


def parse_params(request) -> Params:
    query: list[tuple[str, str]] = []
    multi = request.query_params
    if multi:
        for name in multi:
            getlist = getattr(multi, "getlist", None)
            for value in (getlist(name) if getlist else [multi[name]]):
                query.append((name, value))
    raw = request.raw_body or b""
    body: list[tuple[str, str]] = []
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if raw and content_type in (FORM, "", "text/plain"):
        try:
            body = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            raise invalid("body") from None
    values: dict[str, str] = {}
    for name, value in body:
        values[name] = value
    for name, value in query:
        values[name] = value
    return Params(query, body if content_type in (FORM, "", "text/plain") else [],
                  raw if content_type in (FORM, "", "text/plain") else b"", values)


def request() -> object:
    return openapi_blueprint.current_request


QUOTE_PREFIX = "/openapi/quote/"


def validated(request, received: Params) -> Params:
    """`received` checked with the model of the request's route and verb: the same
    parameters, their values as the model reads them. The quote server words its
    parameter errors its own way (-100012 missing, -100002 bad)."""
    path = (request.context or {}).get("resourcePath") or request.path
    operation = operations.find(Family.OPENAPI, path, request.method)
    if operation is None:
        raise LookupError(f"no operation is registered for {request.method} {path}")
    present = {name: value for name, value in received.values.items() if value != ""}
    try:
        args = operations.parse_params(operation.params, present)
    except MissingParameter as error:
        if path.startswith(QUOTE_PREFIX):
            raise BhexError(-100012, f"Parameter {error.param} [null] missing!") from None
        raise missing(error.param) from None
    except InvalidParameter as error:
        if path.startswith(QUOTE_PREFIX):
            raise BhexError(-100002, f"Param {error.param} should be {_expected(operation.params, error.param, present)}.") \
                from None
        raise invalid(error.param) from None
    values = {name: _wire_text(value) for name, value in args.model_dump(exclude_none=True).items()}
    return Params(received.query, received.body, received.raw_body, values)


def request_params() -> Params:
    """The current request's parameters, validated (public endpoints; see `auth.signed`)."""
    current = request()
    return validated(current, parse_params(current))


def _expected(model: Any, name: str, values: dict) -> str:
    """How the quote server words a bad value: an int, an int within bounds, or valid."""
    field_info = getattr(model, "model_fields", {}).get(name)
    if field_info is None or int not in _plain_types(field_info.annotation):
        return "valid"
    if not str(values.get(name, "")).lstrip("+-").isdigit():
        return "int"
    bounds = [meta for meta in field_info.metadata if hasattr(meta, "ge") or hasattr(meta, "le")]
    low = next((meta.ge for meta in bounds if getattr(meta, "ge", None) is not None), None)
    high = next((meta.le for meta in bounds if getattr(meta, "le", None) is not None), None)
    # a range a client can act on; the 63-bit guard bounds just mean "an int"
    if low is not None and high is not None and high < 2**31:
        return f"between {low} and {high}"
    return "int"


def _plain_types(annotation: Any) -> set:
    """The classes an annotation allows, through Optional, Union and Annotated."""
    arguments = typing.get_args(annotation)
    if not arguments:
        return {annotation}
    return set().union(*(_plain_types(argument) for argument in arguments))


def _wire_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
