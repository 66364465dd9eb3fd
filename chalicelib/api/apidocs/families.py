"""What each family's OpenAPI document says besides its operations: title, where its paths
start, its security schemes (and which of them each `operations` auth name requires), its
error body and the shape of a successful answer.

Every family of the platform has an entry, documented or not yet: a family gets a document
as soon as it registers operations in `chalicelib.api.operations`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from chalicelib.api import operations as ops
from chalicelib.api.rendering import Family
from chalicelib.auth import csrf
from chalicelib.domain import oauth

Requirement = list[dict[str, list[str]]]

BHOP_ERROR = {
    "type": "object", "required": ["code", "msg"],
    "properties": {"code": {"type": "integer", "description": "stable error code (banded by subsystem)"},
                   "msg": {"type": "string"}},
}
OAUTH_ERROR = {
    "type": "object", "required": ["code", "msg"],
    "properties": {**BHOP_ERROR["properties"],
                   "error": {"type": "string", "description": "RFC 6749 error name (protocol endpoints)"},
                   "error_description": {"type": "string"}},
}
BHEX_ERROR = {
    "type": "object", "required": ["code", "msg"],
    "properties": {"code": {"type": "integer", "maximum": 0, "description": "BHEX error code"},
                   "msg": {"type": "string"}},
}
KLIP_ERROR = {
    "type": "object", "required": ["code", "err"],
    "properties": {"code": {"type": "integer"}, "err": {"type": "string"}},
}
ANY_JSON: dict = {"description": "JSON"}
ADMIN_ENVELOPE = {
    "type": "object", "required": ["code", "msg", "data"],
    "properties": {"code": {"const": 0}, "msg": {"type": "string"}, "data": {"description": "the action's answer"}},
}


@dataclass(frozen=True)
class FamilyDoc:
    family: Family
    title: str
    base: str                          # the paths' common start; the next segment tags an operation
    description: str
    schemes: dict = field(default_factory=dict)
    # auth name -> security requirement (alternatives; `{}` in the list: also anonymous)
    security: dict[str, Requirement] = field(default_factory=dict)
    error: dict = field(default_factory=lambda: BHOP_ERROR)
    error_statuses: tuple[str, ...] = ("400", "401", "403", "429", "500")
    success: dict = field(default_factory=lambda: ANY_JSON)

    def requirement(self, auth: str, permission: Optional[str]) -> Requirement:
        if auth == ops.NONE:
            return []
        if auth not in self.security:
            raise ValueError(f"the {self.family.value} document has no security scheme for {auth!r}")
        if auth == ops.OAUTH2:
            return [{name: [permission] if permission else [] for name in alternative}
                    for alternative in self.security[auth]]
        return self.security[auth]


def _session(cookie: str, audience: str) -> dict:
    return {
        "schemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": cookie,
                        "description": f"The {audience} session cookie set by the login call."},
            "csrf": {"type": "apiKey", "in": "header", "name": csrf.HEADER,
                     "description": "The session's CSRF token (its cookie's value), on every call that changes "
                                    f"something; the `{csrf.FIELD}` form field also works."},
        },
        "security": {ops.SESSION: [{"session": []}], ops.SESSION_CSRF: [{"session": [], "csrf": []}]},
    }


def _hmac(key_header: str) -> dict:
    return {
        "schemes": {
            "apiKey": {"type": "apiKey", "in": "header", "name": key_header},
            "signature": {"type": "apiKey", "in": "query", "name": "signature",
                          "description": "HMAC-SHA256 (hex) of the query string and body with the key's secret; "
                                         "`timestamp` (ms) and optional `recvWindow` are signed parameters."},
        },
        "security": {ops.HMAC: [{"apiKey": [], "signature": []}]},
    }


_OAUTH_BASE = "/api/v2/oauth2"

FAMILIES: dict[Family, FamilyDoc] = {doc.family: doc for doc in (
    FamilyDoc(Family.USER, "User API", "/api",
              "The web and app back end of a broker: session cookie (+ CSRF token on writes); parameters "
              "snake_case from the query or a form or JSON body; answers bare JSON; errors `{code, msg}`.",
              **_session("au_token", "user")),
    FamilyDoc(Family.OPENAPI, "User OpenAPI (BHEX wire-compatible)", "/openapi",
              "For market makers and quant traders: API key + HMAC-SHA256 signature; errors `{code: -NNNN, msg}`.",
              error=BHEX_ERROR, **_hmac("X-BH-APIKEY")),
    FamilyDoc(Family.ADMIN, "Admin API", "/admin/api/v1",
              "The broker's back office. Every action is `/admin/api/v1/<action>`; reads take GET or POST, "
              "changes POST with the session's CSRF token; each action needs the permission its description "
              "names. Answers `{code: 0, msg, data}`; errors `{code, msg}`.",
              success=ADMIN_ENVELOPE, error_statuses=("400", "401", "403", "404", "405", "429", "500"),
              **_session("admin_token", "admin")),
    FamilyDoc(Family.OAUTH, "OAuth 2.0 API", _OAUTH_BASE,
              "Third-party apps acting for a user: authorization code grant with PKCE (S256; required for "
              "public clients), rotating refresh tokens, and the resource calls each scope allows (two calls "
              "per second per token).",
              schemes={
                  "oauth2": {"type": "oauth2", "description": "Authorization code with PKCE (S256).",
                             "flows": {"authorizationCode": {
                                 "authorizationUrl": f"{_OAUTH_BASE}/authorize", "tokenUrl": f"{_OAUTH_BASE}/token",
                                 "refreshUrl": f"{_OAUTH_BASE}/refresh_token",
                                 "scopes": {s.name: s.description for s in oauth.SCOPES.values()}}}},
                  "clientBasic": {"type": "http", "scheme": "basic",
                                  "description": "A confidential client's id and secret (or `client_id` + "
                                                 "`client_secret` form fields; a public client sends only "
                                                 "`client_id`)."},
                  "consentToken": {"type": "apiKey", "in": "header", "name": "X-OAuth-Consent",
                                   "description": "The consent page's login token (or the `consent_token` field)."},
              },
              security={ops.OAUTH2: [{"oauth2": []}], ops.OAUTH_CLIENT: [{"clientBasic": []}, {}],
                        ops.OAUTH_CONSENT: [{"consentToken": []}, {}]},
              error=OAUTH_ERROR, error_statuses=("400", "401", "403", "405", "429", "500")),
    FamilyDoc(Family.ORG, "Org API", "/api/v2/org",
              "The broker's own back end: org API key + HMAC signature from whitelisted addresses. Every path "
              "takes GET or POST; parameters come from the query and a form body (`multipart/form-data` for "
              "uploads), each name once; JSON bodies are refused. The Host names the org. An operation's "
              "`asset` level needs an asset key bound to an IP whitelist; `read` takes any key of the org. "
              "Answers bare JSON; errors `{code, msg}`.",
              schemes={
                  "apiKey": {"type": "apiKey", "in": "header", "name": "X-ACCESS-KEY",
                             "description": "The org's API key (`X-BH-APIKEY` also works; both must agree)."},
                  "signature": {"type": "apiKey", "in": "query", "name": "signature",
                                "description": "Lowercase hex HMAC-SHA256 with the key's secret of every other "
                                               "parameter (query and body, decoded), sorted by name and joined "
                                               "as `name=value&...`; an uploaded file is signed as the hex "
                                               "SHA-256 of its bytes. `timestamp` (ms) is required and "
                                               "`recvWindow` optional; both are signed. Sent in the query or "
                                               "the body."},
              },
              security={ops.HMAC: [{"apiKey": [], "signature": []}]},
              error_statuses=("400", "401", "403", "404", "429", "500")),
    FamilyDoc(Family.PARTNER, "Partners API (Klip-compatible)", "/v2",
              "Card (NFT) issuing partners: a partner JWT (24 h) in `Authorization`; errors `{code, err}`.",
              schemes={"partnerJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                      "description": "The `access_token` of /v2/partner/auth; Klip's clients send "
                                                     "it raw in `Authorization`, a `Bearer ` prefix works too."}},
              security={ops.PARTNER_JWT: [{"partnerJwt": []}]}, error=KLIP_ERROR,
              error_statuses=("400", "401", "500")),
    FamilyDoc(Family.A2A, "App2App API (Klip-compatible)", "/v2/a2a",
              "BApps asking a user to approve an action on the approval page (`/a2a`); no credential but the "
              "page's own login for approving; errors `{code, err}` (App2App adds `status: error` and "
              "`error: {code, err}`).",
              schemes={"approvalSession": {"type": "apiKey", "in": "header", "name": "X-Approval-Session",
                                           "description": "The `session` of /a2a/api/login, for that one "
                                                          "request (10 minutes at most)."}},
              security={ops.SESSION: [{"approvalSession": []}]},
              error=KLIP_ERROR, error_statuses=("400", "401", "500")),
)}
