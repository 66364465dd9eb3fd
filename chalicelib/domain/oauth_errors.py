"""The OAuth family's failures (internal band 12xx), each naming its RFC 6749 / RFC 6750
error. `oauth_error` is the RFC's `error` value; `redirect_to`, when set, is where the
client may hear of the failure (its registered redirect URI with `error` and `state`);
without it the failure is shown on our own error page or answered as JSON.
"""
from __future__ import annotations

from typing import Optional

from chalicelib.domain.errors import BrokerError, NotFound, Unauthenticated


class OAuthProblem(BrokerError):
    code = 1200
    http_status = 400
    oauth_error = "invalid_request"
    default_message = "The request is not a valid OAuth 2.0 request"

    def __init__(self, message: Optional[str] = None, *, redirect_to: Optional[str] = None, **details):
        super().__init__(message, **details)
        self.redirect_to = redirect_to


class OAuthInvalidRequest(OAuthProblem):
    code = 1201


class OAuthInvalidClient(OAuthProblem):
    code, http_status, oauth_error = 1202, 401, "invalid_client"
    default_message = "Client authentication failed"


class OAuthInvalidGrant(OAuthProblem):
    code, oauth_error = 1203, "invalid_grant"
    default_message = "The authorization code or refresh token is invalid, expired, used or revoked"


class OAuthUnauthorizedClient(OAuthProblem):
    code, oauth_error = 1204, "unauthorized_client"
    default_message = "The client may not use this grant"


class OAuthUnsupportedGrantType(OAuthProblem):
    code, oauth_error = 1205, "unsupported_grant_type"
    default_message = "Only authorization_code and refresh_token grants are supported"


class OAuthUnsupportedResponseType(OAuthProblem):
    code, oauth_error = 1206, "unsupported_response_type"
    default_message = "Only response_type=code is supported"


class OAuthInvalidScope(OAuthProblem):
    code, oauth_error = 1207, "invalid_scope"
    default_message = "The requested scope is invalid, unknown or not allowed for this app"


class OAuthAccessDenied(OAuthProblem):
    code, http_status, oauth_error = 1208, 403, "access_denied"
    default_message = "The user denied the request"


class OAuthMethodNotAllowed(OAuthProblem):
    code, http_status = 1209, 405
    default_message = "Use POST with a form body; credentials never go in a URL"


class OAuthInvalidToken(Unauthenticated):
    """RFC 6750 §3.1: missing, unknown, expired or revoked bearer token (HTTP 401)."""

    code, http_status, oauth_error = 1210, 401, "invalid_token"
    default_message = "The access token is missing, expired or revoked"


class OAuthInsufficientScope(BrokerError):
    """RFC 6750 §3.1: the token is good but was not granted this call's scope (HTTP 403)."""

    code, http_status, oauth_error = 1211, 403, "insufficient_scope"
    default_message = "The access token was not granted the scope this call needs"

    def __init__(self, scope: str, message: Optional[str] = None):
        super().__init__(message or f"This call needs the scope '{scope}'", scope=scope)
        self.scope = scope


class OAuthAppNotFound(NotFound):
    code = 1212
    default_message = "OAuth app does not exist"


class OAuthConsentExpired(Unauthenticated):
    code = 1213
    default_message = "The login for this authorization has expired; log in again"


BY_RFC_NAME: dict[str, type[OAuthProblem]] = {cls.oauth_error: cls for cls in (
    OAuthInvalidRequest, OAuthInvalidClient, OAuthInvalidGrant, OAuthUnauthorizedClient, OAuthUnsupportedGrantType,
    OAuthUnsupportedResponseType, OAuthInvalidScope, OAuthAccessDenied)}
