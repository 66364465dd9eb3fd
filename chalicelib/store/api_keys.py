"""API keys of users and orgs: `APIKEY#<api key>` / `META`, the key itself as the item key.

Keying the item by the API key makes it unique (conditional put) and makes the look-up
of every signed request one strongly consistent read. gsi1 lists an owner's keys:
`USERKEYS#<uid>` or `ORGKEYS#<org_id>`, sorted by key id. The secret is stored only as
KMS ciphertext.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

from pynamodb.attributes import BooleanAttribute, ListAttribute, UnicodeAttribute

from chalicelib.domain.errors import NotFound
from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity, Gsi1, padded
from chalicelib.store.transaction import FailureMapping, Transaction

USER, ORG = "user", "org"


class ApiKeyRecord(Entity):
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    api_key = UnicodeAttribute()
    key_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    org_id = UnicodeAttribute()
    uid = UnicodeAttribute(null=True)
    account_id = UnicodeAttribute()
    key_type = IntegerAttribute()
    label = UnicodeAttribute(default="")
    ip_whitelist = ListAttribute(of=UnicodeAttribute, default=list)
    enabled = BooleanAttribute(default=True)
    secret_ciphertext = UnicodeAttribute()
    created_at = IntegerAttribute()
    updated_at = IntegerAttribute()


@dataclass(frozen=True)
class StoredKey:
    api_key: str
    key_id: str
    kind: str
    org_id: str
    uid: Optional[str]
    account_id: str
    key_type: int
    label: str
    ip_whitelist: tuple[str, ...]
    enabled: bool
    created_at: int
    updated_at: int
    secret_ciphertext: str = field(repr=False, default="")


def now_ms() -> int:
    return int(time.time() * 1000)


def _key(api_key: str) -> str:
    return f"APIKEY#{api_key}"


def owner_index(kind: str, org_id: str, uid: Optional[str]) -> str:
    return f"USERKEYS#{uid}" if kind == USER else f"ORGKEYS#{org_id}"


def _to_stored(record: ApiKeyRecord) -> StoredKey:
    return StoredKey(record.api_key, record.key_id, record.kind, record.org_id, record.uid or None,
                     record.account_id, record.key_type, record.label, tuple(record.ip_whitelist or ()),
                     record.enabled, record.created_at, record.updated_at, record.secret_ciphertext)


def stage_create(tx: Transaction, key: StoredKey, *, on_taken: FailureMapping) -> None:
    tx.put(ApiKeyRecord(
        _key(key.api_key), "META", gsi1pk=owner_index(key.kind, key.org_id, key.uid),
        gsi1sk=padded(int(key.key_id)), api_key=key.api_key, key_id=key.key_id, kind=key.kind,
        org_id=key.org_id, uid=key.uid, account_id=key.account_id, key_type=key.key_type, label=key.label,
        ip_whitelist=list(key.ip_whitelist), enabled=key.enabled, secret_ciphertext=key.secret_ciphertext,
        created_at=key.created_at, updated_at=key.updated_at,
    ), ApiKeyRecord.pk.does_not_exist(), on_condition_failed=on_taken)


def get(api_key: str) -> Optional[StoredKey]:
    try:
        return _to_stored(ApiKeyRecord.get(_key(api_key), "META", consistent_read=True))
    except ApiKeyRecord.DoesNotExist:
        return None


def owned_by(kind: str, org_id: str, uid: Optional[str]) -> list[StoredKey]:
    """An owner's keys, oldest first (the index is eventually consistent)."""
    return [_to_stored(record) for record in ApiKeyRecord.gsi1.query(owner_index(kind, org_id, uid))]


def _owner_condition(kind: str, org_id: str, uid: Optional[str]):
    condition = ApiKeyRecord.pk.exists() & (ApiKeyRecord.kind == kind) & (ApiKeyRecord.org_id == org_id)
    return condition & (ApiKeyRecord.uid == uid) if kind == USER else condition


def _failed_condition(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def update(kind: str, org_id: str, uid: Optional[str], api_key: str, **changes) -> StoredKey:
    """Sets fields of a key its owner holds; any other owner gets NotFound, as for a missing key."""
    actions = [ApiKeyRecord.updated_at.set(now_ms())]
    actions += [getattr(ApiKeyRecord, name).set(value) for name, value in changes.items()]
    record = ApiKeyRecord(_key(api_key), "META")
    try:
        record.update(actions=actions, condition=_owner_condition(kind, org_id, uid))
    except Exception as error:  # pynamodb UpdateError
        if _failed_condition(error):
            raise NotFound("API key not found") from None
        raise
    return _to_stored(record)


def delete(kind: str, org_id: str, uid: Optional[str], api_key: str) -> None:
    try:
        ApiKeyRecord(_key(api_key), "META").delete(condition=_owner_condition(kind, org_id, uid))
    except Exception as error:  # pynamodb DeleteError
        if _failed_condition(error):
            raise NotFound("API key not found") from None
        raise
