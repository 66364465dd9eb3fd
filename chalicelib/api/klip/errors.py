"""Klip's error wire format, for both Klip families.

Every body is `{"code": n, "err": "..."}` (specs/klip.md §1.5, §2.2); App2App bodies add
the seed's envelope, `{"status": "error", "error": {"code", "err"}}` plus `request_key`
and `expiration_time` when a request is known, so SDK-style (`res.err`) and
envelope-style (`res.status == "error"`) clients both see the failure. Statuses: 400
request or domain error, 401 bad partner token and account states 420-424, 500 fault.
Failures that are not Klip's own get Klip's generic codes: 401, 6412 for a balance
that is too low, 500, and 400 for everything else.
"""
from __future__ import annotations

from functools import wraps
from typing import Callable

from chalice import Response

from chalicelib.api import rendering
from chalicelib.api.rendering import Family
from chalicelib.domain.errors import BrokerError, InsufficientBalance, InternalError

GENERIC_MESSAGES = {400: "bad request", 401: "invalid token", 500: "internal server error"}


def klip_code(error: BrokerError) -> tuple[int, int, str]:
    """(HTTP status, Klip code, message)."""
    code = getattr(error, "klip_code", None)
    if code is not None:
        return (401 if error.http_status == 401 else 400), code, error.message
    if isinstance(error, InsufficientBalance):
        return 400, 6412, "insufficient funds"
    if isinstance(error, InternalError) or error.http_status >= 500:
        return 500, 500, GENERIC_MESSAGES[500]
    if error.http_status in (401, 403):
        return 401, 401, error.message
    return 400, 400, error.message or GENERIC_MESSAGES[400]


def flat(error: BrokerError) -> tuple[int, dict, dict]:
    status, code, message = klip_code(error)
    return status, {"code": code, "err": message}, {}


def envelope(error: BrokerError) -> tuple[int, dict, dict]:
    status, code, message = klip_code(error)
    body: dict = {"code": code, "err": message}
    if error.details.get("request_key"):
        body["request_key"] = error.details["request_key"]
    if error.details.get("expiration_time") is not None:
        body["expiration_time"] = error.details["expiration_time"]
    body.update(status="error", error={"code": code, "err": message})
    return status, body, {}


def page(error: BrokerError) -> tuple[int, dict, dict]:
    """The approval page's own JSON: Klip codes where there is one, else the internal code."""
    status, code, message = klip_code(error)
    if getattr(error, "klip_code", None) is None:
        code, status = error.code, (error.http_status if error.http_status in (400, 401, 403, 500) else 400)
    return status, {"code": code, "err": message}, {}


rendering.register_error_renderer(Family.PARTNER, flat)
rendering.register_error_renderer(Family.A2A, envelope)


def rendered_with(renderer: Callable[[BrokerError], tuple[int, dict, dict]], headers: dict | None = None):
    """Views whose failures use `renderer` instead of their family's (e.g. /cards: flat)."""
    def decorate(view):
        @wraps(view)
        def handle(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except BrokerError as failure:
                status, body, extra = renderer(failure)
                return Response(body=rendering.dumps(body), status_code=status,
                                headers={**rendering.JSON_HEADERS, **(headers or {}), **extra})
        return handle
    return decorate
