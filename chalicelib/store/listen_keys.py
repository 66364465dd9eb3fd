"""User data stream keys: `LISTENKEY#<key>` / `META`, expiring through the table's TTL.

DynamoDB deletes expired items lazily (up to days later), so every read also compares
`expires_at` with the clock: an expired key is gone whether or not TTL removed it yet.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import DeleteError, UpdateError

from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity


class ListenKeyRecord(Entity):
    org_id = UnicodeAttribute()
    uid = UnicodeAttribute()
    account_id = UnicodeAttribute()
    api_key = UnicodeAttribute()
    created_at = IntegerAttribute()


@dataclass(frozen=True)
class ListenKey:
    listen_key: str
    org_id: str
    uid: str
    account_id: str
    api_key: str
    created_at: int
    expires_at: int


def _key(listen_key: str) -> str:
    return f"LISTENKEY#{listen_key}"


def _failed_condition(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def create(key: ListenKey) -> None:
    ListenKeyRecord(_key(key.listen_key), "META", org_id=key.org_id, uid=key.uid, account_id=key.account_id,
                    api_key=key.api_key, created_at=key.created_at, expires_at=key.expires_at
                    ).save(condition=ListenKeyRecord.pk.does_not_exist())


def get(listen_key: str, now_seconds: Optional[int] = None) -> Optional[ListenKey]:
    try:
        record = ListenKeyRecord.get(_key(listen_key), "META", consistent_read=True)
    except ListenKeyRecord.DoesNotExist:
        return None
    now_seconds = int(time.time()) if now_seconds is None else now_seconds
    if (record.expires_at or 0) <= now_seconds:
        return None
    return ListenKey(listen_key, record.org_id, record.uid, record.account_id, record.api_key,
                     record.created_at, record.expires_at)


def extend(listen_key: str, uid: str, expires_at: int, now_seconds: int) -> bool:
    """Moves the expiry of a live key the user owns; False if there is none."""
    try:
        ListenKeyRecord(_key(listen_key), "META").update(
            actions=[ListenKeyRecord.expires_at.set(expires_at)],
            condition=ListenKeyRecord.pk.exists() & (ListenKeyRecord.uid == uid)
            & (ListenKeyRecord.expires_at > now_seconds))
    except UpdateError as error:
        if _failed_condition(error):
            return False
        raise
    return True


def delete(listen_key: str, uid: str) -> bool:
    try:
        ListenKeyRecord(_key(listen_key), "META").delete(
            condition=ListenKeyRecord.pk.exists() & (ListenKeyRecord.uid == uid))
    except DeleteError as error:
        if _failed_condition(error):
            return False
        raise
    return True
