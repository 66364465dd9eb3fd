"""Failed-login throttling and lock-out, per account, shared by every Lambda instance.

Policy (per org user, or per login name that matches no user, so a lock never tells an
attacker whether an account exists):

* wrong passwords 1 and 2 cost nothing; after the 3rd, 4th and 5th the next attempt must
  wait `THROTTLE_SECONDS[n]` (1, 2, 4 s): faster attempts are refused with 429 before the
  password is even checked, and do not count;
* the `LOCK_AFTER`-th (6th) wrong password in a row locks the account for
  `lock_minutes` (org setting `login_lock_minutes`, default 15): every login, with the
  right password too, is refused with 1015 and the time the lock ends;
* a wrong second-factor code at login counts like a wrong password;
* a successful login clears the count; a lock ends by itself, by a password reset with
  a verification code, or by an admin (`unlock`).

Counters live in `store.sessions` (`LOGINGUARD#...`) and are changed with atomic ADDs.
`now_ms()` is the clock; tests may replace it.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Optional

from chalicelib.domain.errors import AccountLocked, RateLimited
from chalicelib.services import catalog, users
from chalicelib.store import sessions as store

LOCK_AFTER = 6
THROTTLE_SECONDS = {3: 1, 4: 2, 5: 4}
DEFAULT_LOCK_MINUTES = 15
COUNTER_TTL_SECONDS = 24 * 3600


def now_ms() -> int:
    return int(time.time() * 1000)


def subject(uid: Optional[str], login: str) -> str:
    return uid if uid else "login:" + (login or "").strip().lower()


def lock_minutes(org_id: str) -> int:
    try:
        value = int(catalog.org(org_id).settings.get("login_lock_minutes", DEFAULT_LOCK_MINUTES))
    except (TypeError, ValueError):
        value = DEFAULT_LOCK_MINUTES
    return max(1, min(value, 24 * 60))


def iso_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check(org_id: str, who: str) -> None:
    """Raises AccountLocked during a lock, RateLimited while a throttle delay runs."""
    state = store.guard_state(org_id, who)
    now = now_ms()
    if state.locked_until > now:
        raise AccountLocked(f"Account is locked after repeated failed logins until {iso_time(state.locked_until)}",
                            locked_until=state.locked_until)
    delay = THROTTLE_SECONDS.get(state.failures)
    if delay and state.last_failure_at + delay * 1000 > now:
        wait = state.last_failure_at + delay * 1000 - now
        raise RateLimited("Too many failed logins; wait before trying again", retry_after=max(1, -(-wait // 1000)))


def record_failure(org_id: str, who: str) -> bool:
    """Counts one failed login; True when it started a lock."""
    now = now_ms()
    failures = store.add_guard_failure(org_id, who, now, COUNTER_TTL_SECONDS)
    if failures >= LOCK_AFTER:
        store.lock_guard(org_id, who, now + lock_minutes(org_id) * 60_000, COUNTER_TTL_SECONDS)
        return True
    return False


def record_success(org_id: str, who: str) -> None:
    state = store.guard_state(org_id, who)
    if state.failures or state.locked_until:
        store.clear_guard(org_id, who)


def locked_until(org_id: str, who: str) -> Optional[int]:
    state = store.guard_state(org_id, who)
    return state.locked_until if state.locked_until > now_ms() else None


# --- for the Admin API ----------------------------------------------------------------------

def lock_status(org_id: str, uid: str) -> dict:
    """Whether a user is locked out by failed logins, until when, and the current count."""
    users.get_user(org_id, uid)
    state = store.guard_state(org_id, uid)
    locked = state.locked_until > now_ms()
    return {"uid": uid, "locked": locked, "locked_until": state.locked_until if locked else None,
            "failed_attempts": state.failures, "lock_count": state.lock_count,
            "last_failure_at": state.last_failure_at or None}


def unlock(org_id: str, uid: str) -> dict:
    """Ends a lock and clears the count (an admin's decision, or a verified password reset)."""
    users.get_user(org_id, uid)
    store.clear_guard(org_id, uid)
    return lock_status(org_id, uid)
