"""CSRF defence of the User API: a per-session token, sent back in a header.

Every session gets its own random token at login. The server keeps only its hash (in
the session record); the client receives it once in the login answer and as the
readable cookie `c_token`, and must send it on every state-changing request as the
header `X-CSRF-Token` (or, for a plain HTML form, the field `csrf_token`). A page of
another site can make the browser send the session cookie but cannot read `c_token` nor
set a custom header, so its forged request carries no valid token and is refused
before anything changes. GET requests never change state and need no token.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Optional

HEADER = "X-CSRF-Token"
FIELD = "csrf_token"
COOKIE = "c_token"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def digest(token: str) -> str:
    return hashlib.sha256(("csrf:" + token).encode()).hexdigest()


def matches(presented: Optional[str], stored_digest: str) -> bool:
    if not presented or not stored_digest:
        return False
    return hmac.compare_digest(digest(presented.strip()), stored_digest)
