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
)
from chalicelib.services import admins, catalog, login_guard, session_core
from chalicelib.services.session_core import ClientInfo, Limits
from chalicelib.store import sessions as store
from chalicelib.store.sessions import StoredSession
from chalicelib.store.transaction import Transaction

PREFIX = "admin:"
DEFAULT_HOURS = 12
DEFAULT_IDLE_MINUTES = 30
ISSUER = "Broker admin"
NOUN = "Admin session"
TOKEN_FOR = "ADMIN"


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
    expires_in: int = session_core.PENDING_LOGIN_SECONDS


@dataclass(frozen=True)
class AdminPrincipal:
    session: StoredSession
    admin: admins.Admin


def _limits(org_id: str) -> Limits:
    return Limits(session_core.org_setting(org_id, "admin_session_hours", DEFAULT_HOURS, 1, 24),
                  session_core.org_setting(org_id, "admin_idle_minutes", DEFAULT_IDLE_MINUTES, 5, 24 * 60))


def _is_admin(holder: str) -> bool:
    return holder.startswith(PREFIX)


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
            return PendingTotp(session_core.start_pending_login(who, org_id, client, TOKEN_FOR), admin)
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
    pending = session_core.pending_login(org_id, request_id, holds=_is_admin)
    login_guard.check(org_id, pending.uid)
    try:
        admin = admins.get_admin(org_id, pending.uid[len(PREFIX):])
    except NotFound:
        raise LoginRequestExpired() from None
    if not admin.enabled:
        raise AccountDisabled("This admin is disabled")
    if not _totp_ok(admin, totp_code):
        session_core.count_pending_failure(request_id)
        raise _fail(org_id, pending.uid, InvalidSecondFactor("Wrong TOTP code"))
    session_core.take_pending_login(request_id)
    login_guard.record_success(org_id, pending.uid)
    return _open(admin, ClientInfo(client.ip or pending.ip, client.user_agent or pending.user_agent, TOKEN_FOR))


def _open(admin: admins.Admin, client: ClientInfo) -> Issued:
    token, csrf_token, session = session_core.new_session(_who(admin.username), admin.org_id, admin.admin_id,
                                                          _limits(admin.org_id), client, TOKEN_FOR)
    tx = Transaction()
    store.stage_session(tx, session)
    tx.commit()
    return Issued(token, csrf_token, session, admin)


def authenticate(org_id: str, token: Optional[str]) -> AdminPrincipal:
    session = session_core.live_session(org_id, token, noun=NOUN, holds=lambda stored: _is_admin(stored.uid),
                                        log_in_first="Log in to the back office first")
    try:
        admin = admins.get_admin(org_id, session.uid[len(PREFIX):])
    except NotFound:
        admin = None
    if admin is None or admin.admin_id != session.account_id or not admin.enabled \
            or admin.password_changed_at > session.created_at:
        raise session_core.end(session, NOUN)
    session_core.touch(session, _limits(org_id))
    return AdminPrincipal(session, admin)


def csrf_ok(principal: AdminPrincipal, presented: Optional[str]) -> bool:
    return csrf.matches(presented, principal.session.csrf_hash)


def logout(principal: AdminPrincipal) -> None:
    store.delete_session(principal.session.token_hash)


def end_all(org_id: str, username: str) -> int:
    """Ends every session of an admin (disabled, roles or password changed by an owner)."""
    return session_core.end_all(org_id, _who(username))


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
