"""Who owns an account: accounts never change owner, so look-ups are cached for good."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from pynamodb.attributes import UnicodeAttribute

from chalicelib.domain.ledger import SYSTEM_SEPARATOR
from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity
from chalicelib.store.transaction import Transaction


class AccountRecord(Entity):
    account_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    uid = UnicodeAttribute()
    account_type = IntegerAttribute()
    account_index = IntegerAttribute()


@dataclass(frozen=True)
class AccountOwner:
    account_id: str
    org_id: str
    uid: Optional[str]
    account_type: int = 1
    account_index: int = 0


_owners: dict[str, AccountOwner] = {}


def stage_create(tx: Transaction, owner: AccountOwner) -> None:
    tx.put(AccountRecord(
        f"ACCOUNT#{owner.account_id}", "META", account_id=owner.account_id, org_id=owner.org_id,
        uid=owner.uid or "", account_type=owner.account_type, account_index=owner.account_index,
    ), AccountRecord.pk.does_not_exist())


def owner_of(account_id: str) -> Optional[AccountOwner]:
    if SYSTEM_SEPARATOR in account_id:
        return AccountOwner(account_id, account_id.split(SYSTEM_SEPARATOR)[0], None)
    cached = _owners.get(account_id)
    if cached:
        return cached
    try:
        record = AccountRecord.get(f"ACCOUNT#{account_id}", "META")
    except AccountRecord.DoesNotExist:
        return None
    owner = AccountOwner(record.account_id, record.org_id, record.uid or None, record.account_type,
                         record.account_index)
    _owners[account_id] = owner
    return owner


def forget_cached_owners() -> None:
    """For tests that recreate the table: the cache must not outlive the data."""
    _owners.clear()
