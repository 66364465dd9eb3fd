"""Admin sessions on the User API's session core: same store, token hashing, CSRF tokens,
pending second-factor logins and failed-login guard, with admin identities.

An admin session row is a `SESSION#<hash>` row whose `uid` is `admin:<username>` and whose
`account_id` holds the admin id, so a user session is never an admin session (and the
reverse: the User API finds no user `admin:...`). Sessions last `admin_session_hours`
(org setting, default 12) and end after `admin_idle_minutes` (default 30) idle, at
logout, when the admin is disabled, or when the password changes.

Login: the guard (per org and username: the 6th wrong password in a row locks for the
org's `login_lock_minutes`), the password, then the TOTP code when one is bound: in the
same call (`totp_code`) or a second call with the `request_id` the first one answered.
A TOTP code works once (its time step is spent).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Optional, Union

from chalicelib.auth import csrf, totp
from chalicelib.domain.errors import (
    AccountDisabled,
    AccountLocked,
    GaAlreadyBound,
    GaNotBound,
    InvalidCredentials,
    InvalidSecondFactor,
    LoginRequestExpired,
    MissingParameter,
    NotFound,
    Unauthenticated,
)
from chalicelib.domain.ids import new_id
from chalicelib.services import admins, catalog, login_guard
from chalicelib.services.sessions import ClientInfo, token_hash
from chalicelib.store import sessions as store
from chalicelib.store.sessions import StoredSession
from chalicelib.store.transaction import Transaction

PREFIX = "admin:"
DEFAULT_HOURS = 12
DEFAULT_IDLE_MINUTES = 30
TOUCH_EVERY_MS = 60_000
PENDING_SECONDS = 300
PENDING_ATTEMPTS = 5
ISSUER = "Broker admin"


@dataclass(frozen=True)
class Issued:
    token: str
    csrf_token: str
    session: StoredSession
    admin: admins.Admin

    @property
    def max_age_seconds(self) -> int:
        return max(0, (self.session.ends_at - store.now_ms()) // 1000)


@dataclass(frozen=True)
class PendingTotp:
    request_id: str
    admin: admins.Admin
    expires_in: int = PENDING_SECONDS


@dataclass(frozen=True)
class AdminPrincipal:
    session: StoredSession
    admin: admins.Admin


def _setting(org_id: str, name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(catalog.org(org_id).settings.get(name, default))
    except (TypeError, ValueError):
        value = default
    return max(low, min(value, high))


def _who(username: str) -> str:
    return PREFIX + (username or "").strip().lower()


def _fail(org_id: str, who: str, error: Exception) -> Exception:
    if login_guard.record_failure(org_id, who):
        try:
            login_guard.check(org_id, who)
        except AccountLocked as locked:
            return locked
    return error


def _totp_ok(admin: admins.Admin, code: Optional[str], secret: Optional[str] = None) -> bool:
    step = totp.matching_step(secret or admins.admin_totp_secret(admin) or "", code)
    return step is not None and admins.spend_totp_step(admin, step)


def login(org_id: str, username: str, password: str, *, totp_code: Optional[str] = None,
          client: ClientInfo = ClientInfo()) -> Union[Issued, PendingTotp]:
    if not username:
        raise MissingParameter("username")
    if not password:
        raise MissingParameter("password")
    who = _who(username)
    login_guard.check(org_id, who)
    admin = admins.verify_admin_login(org_id, username, password)
    if admin is None:
        raise _fail(org_id, who, InvalidCredentials("Wrong username or password"))
    if admin.has_totp:
        if not totp_code:
            request_id = secrets.token_urlsafe(24)
            store.create_pending_login(store.PendingLogin(
                token_hash(request_id), who, org_id, 0, store.now_ms() + PENDING_SECONDS * 1000,
                client.ip, client.user_agent[:512], "ADMIN"))
            return PendingTotp(request_id, admin)
        if not _totp_ok(admin, totp_code):
            raise _fail(org_id, who, InvalidSecondFactor("Wrong TOTP code"))
    login_guard.record_success(org_id, who)
    return _open(admin, client)


def complete_login(org_id: str, request_id: str, totp_code: Optional[str], *,
                   client: ClientInfo = ClientInfo()) -> Issued:
    if not request_id:
        raise MissingParameter("request_id")
    if not totp_code:
        raise MissingParameter("totp_code")
    request_hash = token_hash(request_id)
    pending = store.get_pending_login(request_hash)
    if pending is None or pending.org_id != org_id or not pending.uid.startswith(PREFIX) \
            or pending.valid_until < store.now_ms() or pending.attempts >= PENDING_ATTEMPTS:
        raise LoginRequestExpired()
    login_guard.check(org_id, pending.uid)
    try:
        admin = admins.get_admin(org_id, pending.uid[len(PREFIX):])
    except NotFound:
        raise LoginRequestExpired() from None
    if not admin.enabled:
        raise AccountDisabled("This admin is disabled")
    if not _totp_ok(admin, totp_code):
        store.count_pending_failure(request_hash, PENDING_ATTEMPTS)
        raise _fail(org_id, pending.uid, InvalidSecondFactor("Wrong TOTP code"))
    if not store.take_pending_login(request_hash):
        raise LoginRequestExpired()
    login_guard.record_success(org_id, pending.uid)
    return _open(admin, ClientInfo(client.ip or pending.ip, client.user_agent or pending.user_agent, "ADMIN"))


def _open(admin: admins.Admin, client: ClientInfo) -> Issued:
    token, csrf_token = secrets.token_urlsafe(32), csrf.new_token()
    now = store.now_ms()
    ends_at = now + _setting(admin.org_id, "admin_session_hours", DEFAULT_HOURS, 1, 24) * 3_600_000
    idle = _setting(admin.org_id, "admin_idle_minutes", DEFAULT_IDLE_MINUTES, 5, 24 * 60)
    session = StoredSession(token_hash(token), str(new_id()), _who(admin.username), admin.org_id, admin.admin_id,
                            csrf.digest(csrf_token), now, now, min(now + idle * 60_000, ends_at), ends_at,
                            client.ip, client.user_agent[:512], "ADMIN")
    tx = Transaction()
    store.stage_session(tx, session)
    tx.commit()
    return Issued(token, csrf_token, session, admin)


def authenticate(org_id: str, token: Optional[str]) -> AdminPrincipal:
    if not token:
        raise Unauthenticated("Log in to the back office first")
    hashed = token_hash(token)
    session = store.get_session(hashed)
    if session is None or session.org_id != org_id or not session.uid.startswith(PREFIX):
        raise Unauthenticated("Admin session is not valid; log in again")
    now = store.now_ms()
    if now >= session.ends_at or now >= session.idle_until:
        store.delete_session(hashed)
        raise Unauthenticated("Admin session has expired; log in again")
    try:
        admin = admins.get_admin(org_id, session.uid[len(PREFIX):])
    except NotFound:
        admin = None
    if admin is None or admin.admin_id != session.account_id or not admin.enabled \
            or admin.password_changed_at > session.created_at:
        store.delete_session(hashed)
        raise Unauthenticated("Admin session has ended; log in again")
    if now - session.last_seen_at >= TOUCH_EVERY_MS:
        idle = _setting(org_id, "admin_idle_minutes", DEFAULT_IDLE_MINUTES, 5, 24 * 60)
        store.touch_session(hashed, last_seen_at=now, idle_until=min(now + idle * 60_000, session.ends_at))
    return AdminPrincipal(session, admin)


def csrf_ok(principal: AdminPrincipal, presented: Optional[str]) -> bool:
    return csrf.matches(presented, principal.session.csrf_hash)


def logout(principal: AdminPrincipal) -> None:
    store.delete_session(principal.session.token_hash)


def end_all(org_id: str, username: str) -> int:
    """Ends every session of an admin (disabled, roles or password changed by an owner)."""
    ended = 0
    for session in store.sessions_of(_who(username)):
        if session.org_id == org_id:
            store.delete_session(session.token_hash)
            ended += 1
    return ended


def unlock(org_id: str, username: str) -> None:
    store.clear_guard(org_id, _who(username))


# --- TOTP binding ------------------------------------------------------------------------------

def begin_totp(admin: admins.Admin) -> dict:
    """A new secret to scan; bound only once `confirm_totp` sees a code from it."""
    if admin.has_totp:
        raise GaAlreadyBound("TOTP is already bound; an owner can reset it")
    secret = totp.new_secret()
    admins.set_admin_totp_pending(admin.org_id, admin.username, secret)
    account = f"{admin.username}@{catalog.org(admin.org_id).name}"
    return {"secret": secret, "otpauth_uri": totp.provisioning_uri(secret, account, ISSUER)}


def confirm_totp(admin: admins.Admin, code: Optional[str]) -> admins.Admin:
    if admin.has_totp:
        raise GaAlreadyBound("TOTP is already bound")
    pending = admins.admin_totp_pending_secret(admin)
    if not pending:
        raise GaNotBound("Start binding first (auth/totp_bind)")
    if not _totp_ok(admin, code, pending):
        raise InvalidSecondFactor("Wrong TOTP code")
    return admins.promote_admin_totp_pending(admin.org_id, admin.username)


def reset_totp(org_id: str, username: str) -> admins.Admin:
    admins.set_admin_totp_pending(org_id, username, None)
    return admins.set_admin_totp_secret(org_id, username, None)
