"""Idempotency records: the first response of an operation, keyed by its operation id."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Optional

from pynamodb.attributes import UnicodeAttribute

from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity

RETENTION_SECONDS = 90 * 24 * 3600
COMPLETED = "COMPLETED"
IN_PROGRESS = "IN_PROGRESS"


class IdempotencyRecord(Entity):
    payload_hash = UnicodeAttribute()
    status = UnicodeAttribute()
    response = UnicodeAttribute(null=True)
    lease_until = IntegerAttribute(null=True)
    created_at = IntegerAttribute()


@dataclass(frozen=True)
class StoredOperation:
    payload_hash: str
    status: str
    response: Optional[dict]
    lease_until: Optional[int]


def _key(scope: str) -> str:
    return f"IDEM#{scope}"


def completed_record(scope: str, key: str, payload_hash: str, response: dict) -> IdempotencyRecord:
    now = int(time.time())
    return IdempotencyRecord(
        _key(scope), key, payload_hash=payload_hash, status=COMPLETED,
        response=json.dumps(response, separators=(",", ":"), sort_keys=True),
        created_at=now, expires_at=now + RETENTION_SECONDS,
    )


def in_progress_record(scope: str, key: str, payload_hash: str, lease_seconds: int) -> IdempotencyRecord:
    now = int(time.time())
    return IdempotencyRecord(
        _key(scope), key, payload_hash=payload_hash, status=IN_PROGRESS, lease_until=now + lease_seconds,
        created_at=now, expires_at=now + RETENTION_SECONDS,
    )


def _to_stored(record: IdempotencyRecord) -> StoredOperation:
    response = json.loads(record.response) if record.response else None
    return StoredOperation(record.payload_hash, record.status, response, record.lease_until)


def get(scope: str, key: str) -> Optional[StoredOperation]:
    try:
        return _to_stored(IdempotencyRecord.get(_key(scope), key, consistent_read=True))
    except IdempotencyRecord.DoesNotExist:
        return None


def from_raw(raw_item: Optional[dict]) -> Optional[StoredOperation]:
    """The stored operation from the old item a cancelled transaction returned."""
    if not raw_item:
        return None
    record = IdempotencyRecord.from_raw_data(raw_item)
    return _to_stored(record)


def claim(scope: str, key: str, payload_hash: str, lease_seconds: int) -> bool:
    """Takes a lease for an operation with outside effects; False if someone holds it."""
    record = in_progress_record(scope, key, payload_hash, lease_seconds)
    now = int(time.time())
    try:
        record.save(IdempotencyRecord.pk.does_not_exist()
                    | ((IdempotencyRecord.status == IN_PROGRESS) & (IdempotencyRecord.lease_until < now)))
        return True
    except Exception as error:  # pynamodb PutError on a failed condition
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise


def complete(scope: str, key: str, payload_hash: str, response: dict) -> None:
    completed_record(scope, key, payload_hash, response).save()


def release(scope: str, key: str) -> None:
    IdempotencyRecord(_key(scope), key).delete(IdempotencyRecord.status == IN_PROGRESS)
