"""Second-factor material: one-time codes sent by email or SMS, the last TOTP step each user
has used, and GA secrets waiting to be confirmed.

* code: `VCODE#<org_id>#<purpose>#<target>` / `META`. A new code for the same purpose and
  target replaces the old one. Only a hash of the code is kept. `attempts` counts wrong
  guesses (conditional ADD, so concurrent guesses cannot exceed the limit together);
  `consumed_by` names the operation that used the code (a conditional write: one
  operation only, and that operation may retry).
* TOTP step: `TOTPSTEP#<uid>` / `META`, written only forward (a code is used once).
* pending GA secret: `GAPENDING#<uid>` / `META`, KMS ciphertext, a few minutes of TTL.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError

from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity


class CodeRecord(Entity):
    order_id = UnicodeAttribute()
    code_hash = UnicodeAttribute()
    uid = UnicodeAttribute(null=True)
    attempts = IntegerAttribute(default=0)
    max_attempts = IntegerAttribute()
    valid_until = IntegerAttribute()  # ms
    consumed_by = UnicodeAttribute(null=True)
    created_at = IntegerAttribute()


class TotpStepRecord(Entity):
    step = IntegerAttribute()


class PendingGaRecord(Entity):
    ciphertext = UnicodeAttribute()
    created_at = IntegerAttribute()


@dataclass(frozen=True)
class StoredCode:
    key: str
    order_id: str
    code_hash: str
    uid: Optional[str]
    attempts: int
    max_attempts: int
    valid_until: int
    consumed_by: Optional[str]
    created_at: int


def now_ms() -> int:
    return int(time.time() * 1000)


def _failed_condition(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def code_key(org_id: str, purpose: str, target: str) -> str:
    return f"VCODE#{org_id}#{purpose}#{target}"


def put_code(key: str, *, order_id: str, code_hash: str, uid: Optional[str], max_attempts: int,
             valid_until: int) -> None:
    now = now_ms()
    CodeRecord(key, "META", order_id=order_id, code_hash=code_hash, uid=uid, attempts=0,
               max_attempts=max_attempts, valid_until=valid_until, created_at=now,
               expires_at=valid_until // 1000 + 3600).save()


def get_code(key: str) -> Optional[StoredCode]:
    try:
        r = CodeRecord.get(key, "META", consistent_read=True)
    except CodeRecord.DoesNotExist:
        return None
    return StoredCode(key, r.order_id, r.code_hash, r.uid, r.attempts or 0, r.max_attempts, r.valid_until,
                      r.consumed_by, r.created_at)


def add_failure(key: str, order_id: str) -> bool:
    """Counts one wrong guess; False when the code is gone, replaced or out of attempts."""
    record = CodeRecord(key, "META")
    try:
        record.update(actions=[CodeRecord.attempts.add(1)],
                      condition=(CodeRecord.order_id == order_id) & (CodeRecord.attempts < CodeRecord.max_attempts))
    except UpdateError as error:
        if _failed_condition(error):
            return False
        raise
    return True


def consume(key: str, order_id: str, code_hash: str, operation: str) -> bool:
    """Marks the code used by `operation`; True also when that operation had used it."""
    record = CodeRecord(key, "META")
    try:
        record.update(
            actions=[CodeRecord.consumed_by.set(operation)],
            condition=(CodeRecord.order_id == order_id) & (CodeRecord.code_hash == code_hash)
            & (CodeRecord.attempts < CodeRecord.max_attempts)
            & (CodeRecord.consumed_by.does_not_exist() | (CodeRecord.consumed_by == operation)))
    except UpdateError as error:
        if _failed_condition(error):
            return False
        raise
    return True


def delete_code(key: str) -> None:
    CodeRecord(key, "META").delete()


def use_totp_step(uid: str, step: int) -> bool:
    """Records `step` as the user's last used TOTP step; False if it (or a later one) was used."""
    record = TotpStepRecord(f"TOTPSTEP#{uid}", "META", step=step)
    try:
        record.save(condition=TotpStepRecord.pk.does_not_exist() | (TotpStepRecord.step < step))
    except PutError as error:
        if _failed_condition(error):
            return False
        raise
    return True


def put_pending_ga(uid: str, ciphertext: str, ttl_seconds: int) -> None:
    now = now_ms()
    PendingGaRecord(f"GAPENDING#{uid}", "META", ciphertext=ciphertext, created_at=now,
                    expires_at=now // 1000 + ttl_seconds).save()


def pending_ga(uid: str, ttl_seconds: int) -> Optional[str]:
    """The ciphertext if it is still fresh (TTL deletion is lazy, so age is checked here)."""
    try:
        record = PendingGaRecord.get(f"GAPENDING#{uid}", "META", consistent_read=True)
    except PendingGaRecord.DoesNotExist:
        return None
    if record.created_at + ttl_seconds * 1000 < now_ms():
        return None
    return record.ciphertext


def drop_pending_ga(uid: str) -> None:
    PendingGaRecord(f"GAPENDING#{uid}", "META").delete()
