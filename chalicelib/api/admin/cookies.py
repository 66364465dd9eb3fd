"""The admin session on the wire: its own cookie names, so an admin and a user session in
one browser never stand in for each other.

* `admin_token`: the admin session token; HttpOnly, SameSite=Strict (the back office is
  never entered through a cross-site link that must carry the session), Path=/admin/,
  Secure outside the local stages.
* `admin_c_token`: the session's CSRF token, readable by the back-office page's scripts,
  which send it back as the `X-CSRF-Token` header (or the `csrf_token` form field) on
  every POST that changes something.
"""
from __future__ import annotations

from typing import Mapping, Optional

from chalicelib.auth import csrf
from chalicelib.auth import sessions as user_cookies

SESSION_COOKIE = "admin_token"
CSRF_COOKIE = "admin_c_token"
CSRF_FIELD = csrf.FIELD
PATH = "/admin/"
MAX_TOKEN_LENGTH = 128


def _cookie(name: str, value: str, max_age: int, *, http_only: bool) -> str:
    return user_cookies.cookie(name, value, max_age, http_only=http_only, same_site="Strict", path=PATH)


def set_cookies(token: str, csrf_token: str, max_age_seconds: int) -> list[str]:
    return [_cookie(SESSION_COOKIE, token, max_age_seconds, http_only=True),
            _cookie(CSRF_COOKIE, csrf_token, max_age_seconds, http_only=False)]


def clear_cookies() -> list[str]:
    return [_cookie(SESSION_COOKIE, "", 0, http_only=True), _cookie(CSRF_COOKIE, "", 0, http_only=False)]


def session_token(headers: Mapping[str, str]) -> Optional[str]:
    token = user_cookies.cookies(headers).get(SESSION_COOKIE)
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return token


def csrf_token(headers: Mapping[str, str], params: Mapping[str, object]) -> Optional[str]:
    return user_cookies.csrf_token(headers, params)


def host(headers: Mapping[str, str]) -> str:
    return user_cookies.host(headers)
