"""User API sessions, pending second-factor logins, login history and failed-login counters.

* session: `SESSION#<sha256(token)>` / `META` (gsi1 `USERSESSION#<uid>` / `<session_id>`).
  The cookie's token is never stored, only its hash, so a copy of the table opens no
  session; `session_id` is a separate public id for listing and revoking.
* pending login (password right, second factor to come): `LOGINREQ#<sha256(request id)>`
  / `META`, a few minutes of TTL and a counter of wrong codes.
* login history: `LOGINLOG#<uid>` / `<id:020d>`, newest first, kept 180 days.
* failed-login counter: `LOGINGUARD#<org_id>#<subject>` / `META` (subject: the uid, or the
  login name when no such user exists), updated with conditional ADDs.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import DeleteError, UpdateError

from chalicelib.domain.ids import new_id
from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity, Gsi1, padded
from chalicelib.store.transaction import Transaction

LOGIN_LOG_RETENTION_SECONDS = 180 * 24 * 3600


class SessionRecord(Entity):
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    session_id = UnicodeAttribute()
    uid = UnicodeAttribute()
    org_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    csrf_hash = UnicodeAttribute()
    created_at = IntegerAttribute()
    last_seen_at = IntegerAttribute()
    idle_until = IntegerAttribute()
    ends_at = IntegerAttribute()
    ip = UnicodeAttribute(default="")
    user_agent = UnicodeAttribute(default="")
    token_for = UnicodeAttribute(default="PC")


class LoginRequestRecord(Entity):
    uid = UnicodeAttribute()
    org_id = UnicodeAttribute()
    attempts = IntegerAttribute(default=0)
    created_at = IntegerAttribute()
    valid_until = IntegerAttribute()
    ip = UnicodeAttribute(default="")
    user_agent = UnicodeAttribute(default="")
    token_for = UnicodeAttribute(default="PC")


class LoginLogRecord(Entity):
    log_id = UnicodeAttribute()
    uid = UnicodeAttribute()
    org_id = UnicodeAttribute()
    result = UnicodeAttribute()
    ip = UnicodeAttribute(default="")
    user_agent = UnicodeAttribute(default="")
    token_for = UnicodeAttribute(default="")
    created_at = IntegerAttribute()


class LoginGuardRecord(Entity):
    failures = IntegerAttribute(null=True)
    last_failure_at = IntegerAttribute(null=True)
    locked_until = IntegerAttribute(null=True)
    lock_count = IntegerAttribute(null=True)


@dataclass(frozen=True)
class StoredSession:
    token_hash: str
    session_id: str
    uid: str
    org_id: str
    account_id: str
    csrf_hash: str
    created_at: int
    last_seen_at: int
    idle_until: int
    ends_at: int
    ip: str
    user_agent: str
    token_for: str


@dataclass(frozen=True)
class PendingLogin:
    request_hash: str
    uid: str
    org_id: str
    attempts: int
    valid_until: int
    ip: str
    user_agent: str
    token_for: str


@dataclass(frozen=True)
class GuardState:
    failures: int = 0
    last_failure_at: int = 0
    locked_until: int = 0
    lock_count: int = 0


def now_ms() -> int:
    return int(time.time() * 1000)


def _failed_condition(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


# --- sessions --------------------------------------------------------------------------------

def _session_key(token_hash: str) -> str:
    return f"SESSION#{token_hash}"


def _to_session(r: SessionRecord) -> StoredSession:
    return StoredSession(r.pk[len("SESSION#"):], r.session_id, r.uid, r.org_id, r.account_id, r.csrf_hash,
                         r.created_at, r.last_seen_at, r.idle_until, r.ends_at, r.ip, r.user_agent, r.token_for)


def stage_session(tx: Transaction, s: StoredSession) -> None:
    tx.put(SessionRecord(_session_key(s.token_hash), "META", gsi1pk=f"USERSESSION#{s.uid}", gsi1sk=s.session_id,
                         session_id=s.session_id, uid=s.uid, org_id=s.org_id, account_id=s.account_id,
                         csrf_hash=s.csrf_hash, created_at=s.created_at, last_seen_at=s.last_seen_at,
                         idle_until=s.idle_until, ends_at=s.ends_at, ip=s.ip, user_agent=s.user_agent[:512],
                         token_for=s.token_for, expires_at=s.ends_at // 1000 + 3600),
           SessionRecord.pk.does_not_exist())


def get_session(token_hash: str) -> Optional[StoredSession]:
    try:
        return _to_session(SessionRecord.get(_session_key(token_hash), "META", consistent_read=True))
    except SessionRecord.DoesNotExist:
        return None


def touch_session(token_hash: str, *, last_seen_at: int, idle_until: int) -> bool:
    """Extends the idle window of a session that still exists."""
    try:
        SessionRecord(_session_key(token_hash), "META").update(
            actions=[SessionRecord.last_seen_at.set(last_seen_at), SessionRecord.idle_until.set(idle_until)],
            condition=SessionRecord.pk.exists())
    except UpdateError as error:
        if _failed_condition(error):
            return False
        raise
    return True


def delete_session(token_hash: str) -> None:
    try:
        SessionRecord(_session_key(token_hash), "META").delete()
    except DeleteError:
        pass


def sessions_of(uid: str) -> list[StoredSession]:
    return [_to_session(r) for r in SessionRecord.gsi1.query(f"USERSESSION#{uid}")]


# --- pending second-factor logins ------------------------------------------------------------------

def _request_key(request_hash: str) -> str:
    return f"LOGINREQ#{request_hash}"


def create_pending_login(p: PendingLogin) -> None:
    LoginRequestRecord(_request_key(p.request_hash), "META", uid=p.uid, org_id=p.org_id, attempts=0,
                       created_at=now_ms(), valid_until=p.valid_until, ip=p.ip, user_agent=p.user_agent,
                       token_for=p.token_for, expires_at=p.valid_until // 1000 + 600).save()


def get_pending_login(request_hash: str) -> Optional[PendingLogin]:
    try:
        r = LoginRequestRecord.get(_request_key(request_hash), "META", consistent_read=True)
    except LoginRequestRecord.DoesNotExist:
        return None
    return PendingLogin(request_hash, r.uid, r.org_id, r.attempts or 0, r.valid_until, r.ip, r.user_agent,
                        r.token_for)


def count_pending_failure(request_hash: str, max_attempts: int) -> bool:
    try:
        LoginRequestRecord(_request_key(request_hash), "META").update(
            actions=[LoginRequestRecord.attempts.add(1)],
            condition=LoginRequestRecord.pk.exists() & (LoginRequestRecord.attempts < max_attempts))
    except UpdateError as error:
        if _failed_condition(error):
            return False
        raise
    return True


def take_pending_login(request_hash: str) -> bool:
    """Deletes the pending login; True for exactly one caller."""
    try:
        LoginRequestRecord(_request_key(request_hash), "META").delete(condition=LoginRequestRecord.pk.exists())
    except DeleteError as error:
        if _failed_condition(error):
            return False
        raise
    return True


# --- login history -------------------------------------------------------------------------------

def add_login_log(uid: str, org_id: str, result: str, *, ip: str, user_agent: str, token_for: str) -> None:
    log_id = new_id()
    now = now_ms()
    LoginLogRecord(f"LOGINLOG#{uid}", padded(log_id), log_id=str(log_id), uid=uid, org_id=org_id, result=result,
                   ip=ip, user_agent=user_agent[:512], token_for=token_for, created_at=now,
                   expires_at=now // 1000 + LOGIN_LOG_RETENTION_SECONDS).save()


def login_logs(uid: str, *, before_id: Optional[int] = None, limit: int = 20) -> list[dict]:
    condition = LoginLogRecord.sk < padded(before_id) if before_id else None
    return [{"id": r.log_id, "result": r.result, "ip": r.ip, "user_agent": r.user_agent, "token_for": r.token_for,
             "time": r.created_at}
            for r in LoginLogRecord.query(f"LOGINLOG#{uid}", condition, scan_index_forward=False, limit=limit)]


# --- failed-login counters ------------------------------------------------------------------------

def _guard_key(org_id: str, subject: str) -> str:
    return f"LOGINGUARD#{org_id}#{subject}"


def guard_state(org_id: str, subject: str) -> GuardState:
    try:
        r = LoginGuardRecord.get(_guard_key(org_id, subject), "META", consistent_read=True)
    except LoginGuardRecord.DoesNotExist:
        return GuardState()
    return GuardState(r.failures or 0, r.last_failure_at or 0, r.locked_until or 0, r.lock_count or 0)


def add_guard_failure(org_id: str, subject: str, at_ms: int, ttl_seconds: int) -> int:
    """Adds one failure; returns the count after it."""
    record = LoginGuardRecord(_guard_key(org_id, subject), "META")
    record.update(actions=[LoginGuardRecord.failures.add(1), LoginGuardRecord.last_failure_at.set(at_ms),
                           LoginGuardRecord.expires_at.set(at_ms // 1000 + ttl_seconds)])
    return record.failures or 0


def lock_guard(org_id: str, subject: str, until_ms: int, ttl_seconds: int) -> None:
    """Starts a lock and begins a new count of failures after it."""
    LoginGuardRecord(_guard_key(org_id, subject), "META").update(actions=[
        LoginGuardRecord.locked_until.set(until_ms), LoginGuardRecord.failures.set(0),
        LoginGuardRecord.lock_count.add(1), LoginGuardRecord.expires_at.set(until_ms // 1000 + ttl_seconds)])


def clear_guard(org_id: str, subject: str) -> None:
    try:
        LoginGuardRecord(_guard_key(org_id, subject), "META").delete()
    except DeleteError:
        pass
