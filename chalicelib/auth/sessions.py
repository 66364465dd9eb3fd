"""The User API's session cookie on the wire: reading it from requests, writing it to answers.

* `au_token` (BHOP's name): the session token. HttpOnly (scripts cannot read it),
  SameSite=Lax (not sent on cross-site subresource requests and form posts), Path=/,
  Secure outside the local stages, Max-Age = the session's remaining absolute lifetime.
* `c_token`: the session's CSRF token (see `auth.csrf`). Readable by the page's own
  scripts, SameSite=Strict, otherwise like `au_token`.

No Domain attribute: cookies stay on the exact host that served the login, which is
what binds a session to its org (the org comes from the Host).
"""
from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Mapping, Optional
from urllib.parse import urlsplit

from chalicelib import settings
from chalicelib.auth import csrf

SESSION_COOKIE = "au_token"
MAX_TOKEN_LENGTH = 128


def cookie(name: str, value: str, max_age: int, *, http_only: bool, same_site: str, path: str = "/") -> str:
    """One Set-Cookie value; Secure everywhere but the local stages."""
    parts = [f"{name}={value}", f"Path={path}", f"Max-Age={max(0, int(max_age))}", f"SameSite={same_site}"]
    if http_only:
        parts.append("HttpOnly")
    if not settings.is_local():
        parts.append("Secure")
    return "; ".join(parts)


def set_cookies(token: str, csrf_token: str, max_age_seconds: int) -> list[str]:
    return [cookie(SESSION_COOKIE, token, max_age_seconds, http_only=True, same_site="Lax"),
            cookie(csrf.COOKIE, csrf_token, max_age_seconds, http_only=False, same_site="Strict")]


def clear_cookies() -> list[str]:
    return [cookie(SESSION_COOKIE, "", 0, http_only=True, same_site="Lax"),
            cookie(csrf.COOKIE, "", 0, http_only=False, same_site="Strict")]


def _header(headers: Mapping[str, str], name: str) -> Optional[str]:
    if headers is None:
        return None
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    if value is None and isinstance(headers, dict):
        for key, candidate in headers.items():
            if str(key).lower() == name.lower():
                return candidate
    return value


def cookies(headers: Mapping[str, str]) -> dict[str, str]:
    raw = _header(headers, "cookie") or ""
    jar = SimpleCookie()
    try:
        jar.load(raw)
        return {name: morsel.value for name, morsel in jar.items()}
    except CookieError:
        found = {}
        for part in raw.split(";"):
            name, _, value = part.strip().partition("=")
            if name and name not in found:
                found[name] = value
        return found


def session_token(headers: Mapping[str, str]) -> Optional[str]:
    token = cookies(headers).get(SESSION_COOKIE)
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return token


def csrf_token(headers: Mapping[str, str], params: Mapping[str, object]) -> Optional[str]:
    value = _header(headers, csrf.HEADER)
    if not value:
        field = params.get(csrf.FIELD) if params else None
        value = field if isinstance(field, str) else None
    return value


def host(headers: Mapping[str, str]) -> str:
    return _header(headers, "host") or ""


def origin_host(headers: Mapping[str, str]) -> Optional[str]:
    """The host of the Origin header (sent by browsers on WebSocket upgrades), if any."""
    origin = _header(headers, "origin")
    if not origin or origin == "null":
        return None
    return urlsplit(origin).hostname or None
