"""Each API family's wire format for success and failure.

Below the API layer everything raises `BrokerError`s; this is the only place that knows
how a family spells them. Every body is JSON.
"""
from __future__ import annotations

import json
import logging
from decimal import Decimal
from enum import Enum
from typing import Any, Callable

from chalice import Response

from chalicelib.domain import money
from chalicelib.domain.errors import BrokerError, InternalError, RateLimited

log = logging.getLogger(__name__)


class Family(str, Enum):
    USER = "user"
    OPENAPI = "openapi"
    ADMIN = "admin"
    ORG = "org"
    OAUTH = "oauth"
    PARTNER = "partner"
    A2A = "a2a"
    PLATFORM = "platform"


def _default(value: Any):
    if isinstance(value, Decimal):
        return money.text(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(body: Any) -> str:
    return json.dumps(body, default=_default, separators=(",", ":"), ensure_ascii=False)


JSON_HEADERS = {"Content-Type": "application/json;charset=UTF-8"}


def ok(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(body=dumps(body), status_code=status, headers={**JSON_HEADERS, **(headers or {})})


# Family-specific renderers of an error: (status, body, extra headers).
ErrorRenderer = Callable[[BrokerError], tuple[int, dict, dict]]


def _bhop(error: BrokerError) -> tuple[int, dict, dict]:
    return error.http_status, {"code": error.code, "msg": error.message}, {}


def _klip(error: BrokerError) -> tuple[int, dict, dict]:
    status = error.http_status if error.http_status in (400, 401, 500) else 400
    return status, {"code": error.code, "err": error.message}, {}


_renderers: dict[Family, ErrorRenderer] = {
    Family.USER: _bhop, Family.ADMIN: _bhop, Family.ORG: _bhop, Family.OAUTH: _bhop,
    Family.PLATFORM: _bhop, Family.OPENAPI: _bhop, Family.PARTNER: _klip, Family.A2A: _klip,
}


def register_error_renderer(family: Family, renderer: ErrorRenderer) -> None:
    _renderers[family] = renderer


def error(family: Family, failure: BrokerError) -> Response:
    status, body, headers = _renderers[family](failure)
    if isinstance(failure, RateLimited):
        headers = {"Retry-After": str(failure.retry_after), **headers}
    return Response(body=dumps(body), status_code=status, headers={**JSON_HEADERS, **headers})


def internal_error(family: Family) -> Response:
    return error(family, InternalError())
