"""The OpenAPI blueprint, its route registration and request parameters.

Every OpenAPI path is registered for GET, POST, PUT and DELETE; the view checks the
verb itself, so a verb BHEX does not accept answers BHEX's `-1004 Bad request` in JSON
instead of the gateway's own 405. Paths BHEX serves under several names (`/openapi/v1/X`,
`/openapi/X`, `/openapi/account/v1/X`, `/openapi/account/X`) share one view.

Parameters follow BHEX: query string and form body together (the query wins when a name
is in both), JSON bodies are not read, and an empty value is the same as no value.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterable, Optional
from urllib.parse import parse_qsl

from chalice import Blueprint

from chalicelib.api.rendering import Family
from chalicelib.api.routing import FORM, route
from chalicelib.api.openapi.wire import invalid, missing
from chalicelib.domain import money
from chalicelib.domain.errors import MethodNotAllowed

openapi_blueprint = Blueprint(__name__)

VERBS = ("GET", "POST", "PUT", "DELETE")
ANY = VERBS
CONTENT_TYPES = [FORM, "application/json", "text/plain", "multipart/form-data"]


def account_paths(name: str) -> list[str]:
    """BHEX mounts its account controllers at /openapi (and /openapi/account), with and
    without v1. The /openapi/account aliases are left out: no client we know calls them,
    and they would take API Gateway past its default quota of 300 resources."""
    return [f"/openapi/v1/{name}", f"/openapi/{name}"]


def endpoint(paths: Iterable[str], verbs: Iterable[str] = ("GET",)) -> Callable:
    """Registers a view on every alias path; other verbs answer -1004."""
    allowed = {verb.upper() for verb in verbs}

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def checked(*args, **kwargs):
            if openapi_blueprint.current_request.method.upper() not in allowed:
                raise MethodNotAllowed()
            return view(*args, **kwargs)

        route(openapi_blueprint, list(paths), family=Family.OPENAPI, methods=VERBS,
              content_types=CONTENT_TYPES)(checked)
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
