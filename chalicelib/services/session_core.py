"""What user and admin sessions share: the token and its hash, the stored row, the org's
limits, the live-session check with its idle touch, pending second-factor logins, and
ending every session of one holder.

A session's token is 256 random bits shown to the client once (as the cookie); the table
keys the session by the token's hash, and its CSRF token by a digest. Who holds the
session (a user uid, or `admin:<username>`) and what is checked about the holder on each
request stay with `services.sessions` and `services.admin_sessions`.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Callable, Optional

from chalicelib.auth import csrf
from chalicelib.domain.errors import LoginRequestExpired, Unauthenticated
from chalicelib.domain.ids import new_id
from chalicelib.services import catalog
from chalicelib.store import sessions as store
from chalicelib.store.sessions import StoredSession

TOUCH_EVERY_MS = 60_000
PENDING_LOGIN_SECONDS = 300
PENDING_LOGIN_ATTEMPTS = 5


@dataclass(frozen=True)
class ClientInfo:
    ip: str = ""
    user_agent: str = ""
    token_for: str = "PC"


@dataclass(frozen=True)
class Limits:
    """How long a session lasts: at most `hours`, and `idle_minutes` without a request."""

    hours: int
    idle_minutes: int

    def idle_until(self, now: int, ends_at: int) -> int:
        return min(now + self.idle_minutes * 60_000, ends_at)


def token_hash(token: str) -> str:
    return hashlib.sha256(("session:" + token).encode()).hexdigest()


def org_setting(org_id: str, name: str, default: int, low: int, high: int) -> int:
    """An integer org setting, `default` when unset or not a number, kept within [low, high]."""
    try:
        value = int(catalog.org(org_id).settings.get(name, default))
    except (TypeError, ValueError):
        value = default
    return max(low, min(value, high))


def new_session(holder: str, org_id: str, account_id: str, limits: Limits, client: ClientInfo,
                token_for: str) -> tuple[str, str, StoredSession]:
    """A new session row (not yet stored) with its token and CSRF token, which leave the
    platform once, in the login answer."""
    token, csrf_token = secrets.token_urlsafe(32), csrf.new_token()
    now = store.now_ms()
    ends_at = now + limits.hours * 3_600_000
    session = StoredSession(token_hash(token), str(new_id()), holder, org_id, account_id, csrf.digest(csrf_token),
                            now, now, limits.idle_until(now, ends_at), ends_at, client.ip, client.user_agent[:512],
                            token_for)
    return token, csrf_token, session


def live_session(org_id: str, token: Optional[str], *, noun: str, holds: Callable[[StoredSession], bool],
                 log_in_first: str = "Log in first") -> StoredSession:
    """The stored session of `token` in the org if it is the right kind (`holds`) and has
    not reached its absolute or idle end; an ended one is deleted. `noun` words the errors."""
    if not token:
        raise Unauthenticated(log_in_first)
    hashed = token_hash(token)
    session = store.get_session(hashed)
    if session is None or session.org_id != org_id or not holds(session):
        raise Unauthenticated(f"{noun} is not valid; log in again")
    now = store.now_ms()
    if now >= session.ends_at or now >= session.idle_until:
        store.delete_session(hashed)
        raise Unauthenticated(f"{noun} has expired; log in again")
    return session


def end(session: StoredSession, noun: str) -> Unauthenticated:
    """Deletes a session whose holder may no longer use it; the error to raise."""
    store.delete_session(session.token_hash)
    return Unauthenticated(f"{noun} has ended; log in again")


def touch(session: StoredSession, limits: Limits) -> None:
    """Moves the idle end forward, at most once a minute (a write per request would cost)."""
    now = store.now_ms()
    if now - session.last_seen_at >= TOUCH_EVERY_MS:
        store.touch_session(session.token_hash, last_seen_at=now, idle_until=limits.idle_until(now, session.ends_at))


def end_all(org_id: str, holder: str, *, keep_hash: Optional[str] = None) -> int:
    """Ends every session of the holder in the org (but `keep_hash`); answers how many."""
    ended = 0
    for session in store.sessions_of(holder):
        if session.org_id == org_id and session.token_hash != keep_hash:
            store.delete_session(session.token_hash)
            ended += 1
    return ended


# --- pending second-factor logins ------------------------------------------------------------

def start_pending_login(holder: str, org_id: str, client: ClientInfo, token_for: str) -> str:
    """Stores a login waiting for its second factor; the request id goes to the client."""
    request_id = secrets.token_urlsafe(24)
    store.create_pending_login(store.PendingLogin(
        token_hash(request_id), holder, org_id, 0, store.now_ms() + PENDING_LOGIN_SECONDS * 1000,
        client.ip, client.user_agent[:512], token_for))
    return request_id


def pending_login(org_id: str, request_id: str, *, holds: Callable[[str], bool] = lambda holder: True):
    """The pending login of `request_id` while it can still be finished."""
    pending = store.get_pending_login(token_hash(request_id))
    if pending is None or pending.org_id != org_id or not holds(pending.uid) \
            or pending.valid_until < store.now_ms() or pending.attempts >= PENDING_LOGIN_ATTEMPTS:
        raise LoginRequestExpired()
    return pending


def count_pending_failure(request_id: str) -> None:
    store.count_pending_failure(token_hash(request_id), PENDING_LOGIN_ATTEMPTS)


def take_pending_login(request_id: str) -> None:
    """Spends the pending login (once: a second finish of the same request fails)."""
    if not store.take_pending_login(token_hash(request_id)):
        raise LoginRequestExpired()
