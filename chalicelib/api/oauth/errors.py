"""The OAuth family's error wire format.

* Resource calls and the consent page's JSON: BHOP's `{"code", "msg"}` (400 business,
  401/403 auth, 429 rate with `Retry-After`), plus RFC 6750's `WWW-Authenticate: Bearer
  error="invalid_token" | "insufficient_scope"` header on token failures.
* Protocol endpoints (token, refresh_token, check_token, the error page's JSON): RFC 6749
  §5.2 `{"error", "error_description"}`, which stock OAuth clients parse, with `code` and
  `msg` beside them for the family rule; `Cache-Control: no-store`.
"""
from __future__ import annotations

import logging
from functools import wraps
from typing import Callable

from chalice import Response

from chalicelib.api import rendering
from chalicelib.api.rendering import Family
from chalicelib.domain.errors import BrokerError, InternalError, RateLimited
from chalicelib.domain.oauth_errors import (
    OAuthInsufficientScope,
    OAuthInvalidClient,
    OAuthInvalidToken,
    OAuthMethodNotAllowed,
)

log = logging.getLogger(__name__)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _headers(error: BrokerError) -> dict:
    if isinstance(error, OAuthInvalidToken):
        return {"WWW-Authenticate": 'Bearer realm="oauth2", error="invalid_token"'}
    if isinstance(error, OAuthInsufficientScope):
        return {"WWW-Authenticate": f'Bearer realm="oauth2", error="insufficient_scope", scope="{error.scope}"'}
    if isinstance(error, OAuthInvalidClient):
        return {"WWW-Authenticate": 'Basic realm="oauth2"'}
    if isinstance(error, OAuthMethodNotAllowed):
        return {"Allow": "POST"}
    return {}


def bhop(error: BrokerError) -> tuple[int, dict, dict]:
    return error.http_status, {"code": error.code, "msg": error.message}, _headers(error)


def rfc_name(error: BrokerError) -> str:
    name = getattr(error, "oauth_error", None)
    if name:
        return name
    if isinstance(error, RateLimited) or error.retryable:
        return "temporarily_unavailable"
    if error.http_status >= 500:
        return "server_error"
    return "invalid_request"


def protocol(error: BrokerError) -> tuple[int, dict, dict]:
    status, body, headers = bhop(error)
    return status, {"error": rfc_name(error), "error_description": error.message, **body}, {**NO_STORE, **headers}


rendering.register_error_renderer(Family.OAUTH, bhop)


def protocol_errors(view: Callable) -> Callable:
    """Failures of `view` in the RFC 6749 shape (unexpected ones as `server_error`)."""
    @wraps(view)
    def handle(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except BrokerError as failure:
            return render(protocol, failure)
        except Exception:
            log.exception("unhandled error at an OAuth protocol endpoint")
            return render(protocol, InternalError())
    return handle


def render(renderer: Callable[[BrokerError], tuple[int, dict, dict]], failure: BrokerError) -> Response:
    status, body, headers = renderer(failure)
    if isinstance(failure, RateLimited):
        headers = {"Retry-After": str(failure.retry_after), **headers}
    return Response(body=rendering.dumps(body), status_code=status, headers={**rendering.JSON_HEADERS, **headers})
