"""User API sessions: login (password, then the second factor when GA is bound), the
session check every request makes, listing, revoking, logout, login history.

A session belongs to one user of one org. Its token is 256 random bits shown to the
client once (as the cookie); the table keys the session by the token's hash. A session
ends at the first of: its absolute end (`session_hours`, default 24), `idle_minutes`
(default 120) without a request, logout, revocation, a password change (sessions older
than the user's `password_changed_at` are refused even if a revocation was missed), or
the user being frozen for login.

Login: `login` checks the failed-login guard, then the password. A user with GA bound
either sends `ga_code` with the password or gets a `request_id` to finish with
`complete_login` within five minutes. Every try is written to the login history; the
org stream receives `org.userLogin` with the new session (one transaction).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

from chalicelib.domain import passwords
from chalicelib.domain.errors import (
    AccountDisabled,
    AccountLocked,
    InvalidCredentials,
    InvalidSecondFactor,
    MissingParameter,
    NotFound,
    Unauthenticated,
)
from chalicelib.domain.events import Event, org_stream
from chalicelib.gateways import notifier
from chalicelib.services import catalog, login_guard, session_core, users, verification
from chalicelib.services.session_core import ClientInfo, Limits, token_hash
from chalicelib.store import sessions as store
from chalicelib.store.sessions import StoredSession
from chalicelib.store.transaction import Transaction

DEFAULT_SESSION_HOURS = 24
DEFAULT_IDLE_MINUTES = 120
TOKEN_FOR = ("PC", "MOBILE", "H5", "APP")
NOUN = "Session"


@dataclass(frozen=True)
class Issued:
    """A new session: `token` and `csrf_token` leave the platform once, in this answer."""

    token: str
    csrf_token: str
    session: StoredSession
    user: users.User

    @property
    def max_age_seconds(self) -> int:
        return max(0, (self.session.ends_at - store.now_ms()) // 1000)


@dataclass(frozen=True)
class PendingSecondFactor:
    request_id: str
    user: users.User
    expires_in: int = session_core.PENDING_LOGIN_SECONDS


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: its session and its (fresh) user."""

    session: StoredSession
    user: users.User

    @property
    def org_id(self) -> str:
        return self.session.org_id

    @property
    def uid(self) -> str:
        return self.session.uid

    @property
    def account_id(self) -> str:
        return self.user.main_account_id


def _limits(org_id: str) -> Limits:
    return Limits(session_core.org_setting(org_id, "session_hours", DEFAULT_SESSION_HOURS, 1, 24 * 30),
                  session_core.org_setting(org_id, "session_idle_minutes", DEFAULT_IDLE_MINUTES, 5, 24 * 60 * 30))


def _token_for(value: Optional[str]) -> str:
    value = (value or "PC").strip().upper()
    return value if value in TOKEN_FOR else "PC"


def _log(user: users.User, result: str, client: ClientInfo) -> None:
    store.add_login_log(user.uid, user.org_id, result, ip=client.ip, user_agent=client.user_agent,
                        token_for=_token_for(client.token_for))


def _notify_lock(user: users.User, until_ms: Optional[int]) -> None:
    broker = catalog.org(user.org_id).name
    target = user.email or (f"+{user.national_code}{user.mobile}" if user.mobile else None)
    if not target or until_ms is None:
        return
    lines = [f"Your {broker} account was locked after repeated failed logins.",
             f"It unlocks by itself at {login_guard.iso_time(until_ms)}. If this was not you, reset your password."]
    if user.anti_phishing_code:
        lines.insert(0, f"Anti-phishing code: {user.anti_phishing_code}")
    notifier.send(notifier.Notice(notifier.EMAIL if user.email else notifier.SMS, target, "LOGIN_LOCKED",
                                  f"[{broker}] Account locked", "\n".join(lines), user.org_id, user.uid,
                                  {"locked_until": until_ms}))


def _failed(org_id: str, who: str, user: Optional[users.User], client: ClientInfo, result: str,
            error: Exception) -> Exception:
    """Counts a failed login; the failure that starts a lock answers the lock itself."""
    started_lock = login_guard.record_failure(org_id, who)
    if user is not None:
        _log(user, result, client)
    if started_lock:
        until = login_guard.locked_until(org_id, who)
        if user is not None:
            _log(user, "locked", client)
            _notify_lock(user, until)
        try:
            login_guard.check(org_id, who)
        except AccountLocked as locked:
            return locked
    return error


def login(org_id: str, login_name: str, password: str, *, national_code: Optional[str] = None,
          ga_code: Optional[str] = None, client: ClientInfo = ClientInfo()) -> Union[Issued, PendingSecondFactor]:
    if not login_name:
        raise MissingParameter("username")
    if not password:
        raise MissingParameter("password")
    user = users.find_by_login(org_id, login_name, national_code=national_code)
    who = login_guard.subject(user.uid if user else None, login_name)
    try:
        login_guard.check(org_id, who)
    except AccountLocked:
        if user is not None:
            _log(user, "refused_locked", client)
        raise
    if user is None:
        passwords.burn_time(password)
        raise _failed(org_id, who, None, client, "wrong_password", InvalidCredentials())
    if not users.verify_password(user, password):
        raise _failed(org_id, who, user, client, "wrong_password", InvalidCredentials())
    if user.login_frozen:
        _log(user, "refused_frozen", client)
        raise AccountDisabled("Login is disabled for this account")
    if user.has_ga:
        if not ga_code:
            request_id = session_core.start_pending_login(user.uid, org_id, client, _token_for(client.token_for))
            return PendingSecondFactor(request_id, user)
        if not verification.verify_ga(user, ga_code):
            raise _failed(org_id, who, user, client, "wrong_ga", InvalidSecondFactor())
    login_guard.record_success(org_id, who)
    return _open(user, client)


def complete_login(org_id: str, request_id: str, ga_code: Optional[str], *,
                   client: ClientInfo = ClientInfo()) -> Issued:
    """The second step of a login with GA: the request id from `login` and a GA code."""
    if not request_id:
        raise MissingParameter("request_id")
    if not ga_code:
        raise MissingParameter("ga_code")
    pending = session_core.pending_login(org_id, request_id)
    user = users.get_user(org_id, pending.uid)
    who = login_guard.subject(user.uid, "")
    login_guard.check(org_id, who)
    if user.login_frozen:
        raise AccountDisabled("Login is disabled for this account")
    used = ClientInfo(client.ip or pending.ip, client.user_agent or pending.user_agent, pending.token_for)
    if not verification.verify_ga(user, ga_code):
        session_core.count_pending_failure(request_id)
        raise _failed(org_id, who, user, used, "wrong_ga", InvalidSecondFactor())
    session_core.take_pending_login(request_id)
    login_guard.record_success(org_id, who)
    return _open(user, used)


def open_session(user: users.User, client: ClientInfo = ClientInfo()) -> Issued:
    """A session for a user who has just proved who they are another way (sign-up)."""
    return _open(user, client)


def _open(user: users.User, client: ClientInfo) -> Issued:
    token, csrf_token, session = session_core.new_session(user.uid, user.org_id, user.main_account_id,
                                                          _limits(user.org_id), client, _token_for(client.token_for))
    tx = Transaction()
    store.stage_session(tx, session)
    tx.emit(Event(org_stream(user.org_id), "org.userLogin", {
        "uid": user.uid, "session_id": session.session_id, "ip": client.ip, "token_for": session.token_for,
        "time": session.created_at}, user.org_id, user.uid))
    tx.commit()
    _log(user, "success", client)
    return Issued(token, csrf_token, session, user)


def authenticate(org_id: str, token: Optional[str]) -> Principal:
    """The session of a request; Unauthenticated when it is missing, foreign, expired or revoked."""
    session = session_core.live_session(org_id, token, noun=NOUN, holds=lambda stored: True)
    try:
        user = users.get_user(org_id, session.uid)
    except NotFound:
        store.delete_session(session.token_hash)
        raise Unauthenticated("Session is not valid; log in again") from None
    if user.login_frozen or (user.password_changed_at or 0) > session.created_at:
        raise session_core.end(session, NOUN)
    session_core.touch(session, _limits(org_id))
    return Principal(session, user)


def authenticate_token(token: Optional[str]) -> Principal:
    """A session from its token alone, in whichever org it belongs to (WebSocket upgrades
    reach one stage URL for every org; the caller checks the Origin)."""
    session = store.get_session(token_hash(token)) if token else None
    if session is None:
        raise Unauthenticated("Log in first")
    return authenticate(session.org_id, token)


def is_active(token_hash_value: str) -> bool:
    """Whether a session (by hash) still exists and has not reached its end (WebSocket pushes)."""
    session = store.get_session(token_hash_value)
    now = store.now_ms()
    return session is not None and now < session.ends_at and now < session.idle_until


def logout(principal: Principal) -> None:
    store.delete_session(principal.session.token_hash)


def session_view(session: StoredSession, current_hash: Optional[str] = None) -> dict:
    return {"session_id": session.session_id, "created_at": session.created_at,
            "last_seen_at": session.last_seen_at, "ends_at": session.ends_at, "ip": session.ip,
            "user_agent": session.user_agent, "token_for": session.token_for,
            "current": session.token_hash == current_hash}


def list_sessions(org_id: str, uid: str, *, current_hash: Optional[str] = None) -> list[dict]:
    now = store.now_ms()
    found = [s for s in store.sessions_of(uid) if s.org_id == org_id and now < s.ends_at and now < s.idle_until]
    return [session_view(s, current_hash) for s in sorted(found, key=lambda s: s.created_at, reverse=True)]


def revoke(org_id: str, uid: str, session_id: str) -> None:
    for session in store.sessions_of(uid):
        if session.session_id == str(session_id) and session.org_id == org_id:
            store.delete_session(session.token_hash)
            return
    raise NotFound("Session does not exist")


def revoke_all(org_id: str, uid: str, *, keep_hash: Optional[str] = None) -> int:
    """Ends every session of the user (but `keep_hash`); answers how many ended. Also for
    the Admin API (force logout)."""
    return session_core.end_all(org_id, uid, keep_hash=keep_hash)


def login_history(org_id: str, uid: str, *, before_id: Optional[int] = None, limit: int = 20) -> list[dict]:
    """The user's login attempts, newest first (also for the Admin API)."""
    users.get_user(org_id, uid)
    return store.login_logs(uid, before_id=before_id, limit=max(1, min(int(limit), 100)))
