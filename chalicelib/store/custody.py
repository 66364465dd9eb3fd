"""Custody records: deposit addresses, deposits, withdrawals, saved addresses, quotas, nonces.

Key layout (all in `broker-main`):

| entity | pk | sk | indexes |
|---|---|---|---|
| deposit address of an account | `DEPADDR#<account_id>` | `<token>#<chain>` | |
| owner of an issued address | `ADDR#<chain>#<address>` | `<tag>` or `-` | |
| shared (tagged) platform address | `ADDR#<chain>#<address>` | `~HUB` | |
| deposit (one chain output) | `DEPOSIT#<chain>#<tx_hash>#<index>` | `META` | gsi1, gsi2, gsi3 (1) |
| withdrawal | `WITHDRAWAL#<id>` | `META` | gsi1, gsi2 (sparse), gsi3 (2) |
| daily withdrawal use | `WDQUOTA#<account_id>#<token>` | `<yyyymmdd>` | TTL |
| saved withdrawal address | `WDADDRBOOK#<uid>` | `<token>#<chain>#<address>#<tag>` | |
| callback nonce | `CBNONCE#<nonce>` | `-` | TTL |

(1) gsi1 `DEPACC#<account_id>` / id, gsi2 `DEPID#<id>` / `-`, gsi3 `DEPORG#<org_id>` / id.
(2) gsi1 `WDACC#<account_id>` / id; gsi2 `WDREVIEW#<org_id>` / id while in review, `WDSEND` / id
while queued or being handed to custody, absent otherwise; gsi3 `WDORG#<org_id>` / id.

Every write of a deposit, withdrawal or quota row is conditioned on the version read, so
concurrent writers cannot both apply a transition; the deposit row's key is the chain
output itself, so one output can only ever be one deposit.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterator, Optional

from pynamodb.attributes import BooleanAttribute, ListAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError

from chalicelib.domain.custody import Deposit, DepositState, Withdrawal, WithdrawalState
from chalicelib.domain.errors import CallbackRejected, ConcurrentUpdate, CustodyUnavailable
from chalicelib.store.attributes import DecimalAttribute, IntegerAttribute
from chalicelib.store.table import Entity, Gsi1, Gsi2, Gsi3, padded, NOTHING, id_range
from chalicelib.store.transaction import Transaction

NO_TAG = "-"
HUB = "~HUB"
QUOTA_RETENTION_SECONDS = 3 * 24 * 3600
NONCE_RETENTION_SECONDS = 15 * 60  # longer than the callback window


def now_ms() -> int:
    return int(time.time() * 1000)


# --- deposit addresses ----------------------------------------------------------------

class DepositAddressRecord(Entity):
    org_id = UnicodeAttribute()
    uid = UnicodeAttribute()
    account_id = UnicodeAttribute()
    token = UnicodeAttribute()
    chain = UnicodeAttribute()
    address = UnicodeAttribute()
    address_tag = UnicodeAttribute(null=True)
    created_at = IntegerAttribute()


class AddressOwnerRecord(Entity):
    org_id = UnicodeAttribute(null=True)
    uid = UnicodeAttribute(null=True)
    account_id = UnicodeAttribute(null=True)
    created_at = IntegerAttribute()


@dataclass(frozen=True)
class DepositAddress:
    org_id: str
    uid: str
    account_id: str
    token: str
    chain: str
    address: str
    address_tag: Optional[str]
    created_at: int


@dataclass(frozen=True)
class AddressOwner:
    org_id: str
    uid: str
    account_id: str


def _owner_key(chain: str, address: str) -> str:
    return f"ADDR#{chain}#{address}"


def get_deposit_address(account_id: str, token: str, chain: str) -> Optional[DepositAddress]:
    try:
        r = DepositAddressRecord.get(f"DEPADDR#{account_id}", f"{token}#{chain}", consistent_read=True)
    except DepositAddressRecord.DoesNotExist:
        return None
    return DepositAddress(r.org_id, r.uid, r.account_id, r.token, r.chain, r.address, r.address_tag, r.created_at)


def stage_deposit_address(tx: Transaction, issued: DepositAddress) -> None:
    """The account's address and its owner entry; the address may already be this
    account's (one address for several tokens of a chain) but never another's."""
    tx.put(DepositAddressRecord(
        f"DEPADDR#{issued.account_id}", f"{issued.token}#{issued.chain}", org_id=issued.org_id, uid=issued.uid,
        account_id=issued.account_id, token=issued.token, chain=issued.chain, address=issued.address,
        address_tag=issued.address_tag, created_at=issued.created_at,
    ), DepositAddressRecord.pk.does_not_exist())
    tx.put(AddressOwnerRecord(
        _owner_key(issued.chain, issued.address), issued.address_tag or NO_TAG, org_id=issued.org_id,
        uid=issued.uid, account_id=issued.account_id, created_at=issued.created_at,
    ), AddressOwnerRecord.pk.does_not_exist() | (AddressOwnerRecord.account_id == issued.account_id),
        on_condition_failed=CustodyUnavailable("Custody issued an address that belongs to another user"))
    if issued.address_tag:
        tx.put(AddressOwnerRecord(_owner_key(issued.chain, issued.address), HUB, created_at=issued.created_at))


def address_owner(chain: str, address: str, tag: Optional[str]) -> Optional[AddressOwner]:
    try:
        r = AddressOwnerRecord.get(_owner_key(chain, address), tag or NO_TAG, consistent_read=True)
    except AddressOwnerRecord.DoesNotExist:
        return None
    return AddressOwner(r.org_id, r.uid, r.account_id) if r.account_id else None


def is_platform_hub(chain: str, address: str) -> bool:
    """A shared address whose users are told apart by tag: without a known tag, sending
    there would reach the platform but no user."""
    try:
        AddressOwnerRecord.get(_owner_key(chain, address), HUB, consistent_read=True)
        return True
    except AddressOwnerRecord.DoesNotExist:
        return False


# --- paging over an index of numeric ids -------------------------------------------------------

def _page(query, key: str, range_attr, *, before_id: Optional[int], after_id: Optional[int], limit: int,
          newest_first: bool) -> Iterator:
    condition = id_range(range_attr, before_id=before_id, after_id=after_id)
    if condition is NOTHING:
        return iter(())
    return query(key, condition, scan_index_forward=not newest_first, limit=limit)


# --- deposits ------------------------------------------------------------------------------------

class DepositRecord(Entity):
    gsi1 = Gsi1()
    gsi2 = Gsi2()
    gsi3 = Gsi3()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    gsi3pk = UnicodeAttribute()
    gsi3sk = UnicodeAttribute()
    deposit_id = IntegerAttribute()
    org_id = UnicodeAttribute()
    uid = UnicodeAttribute()
    account_id = UnicodeAttribute()
    token = UnicodeAttribute()
    chain = UnicodeAttribute()
    tx_hash = UnicodeAttribute()
    output_index = IntegerAttribute()
    address = UnicodeAttribute()
    address_tag = UnicodeAttribute(null=True)
    from_address = UnicodeAttribute(null=True)
    from_address_tag = UnicodeAttribute(null=True)
    amount = DecimalAttribute()
    confirmations = IntegerAttribute()
    required_confirmations = IntegerAttribute()
    state = UnicodeAttribute()
    version = IntegerAttribute()
    internal = BooleanAttribute(default=False)
    created_at = IntegerAttribute()
    updated_at = IntegerAttribute()
    credited_at = IntegerAttribute(null=True)


def _deposit_key(chain: str, tx_hash: str, output_index: int) -> str:
    return f"DEPOSIT#{chain}#{tx_hash}#{output_index}"


def _to_deposit(r: DepositRecord) -> Deposit:
    return Deposit(
        r.deposit_id, r.org_id, r.uid, r.account_id, r.token, r.chain, r.tx_hash, r.output_index, r.address,
        r.address_tag, r.amount, r.confirmations, r.required_confirmations, DepositState(r.state), r.version,
        r.created_at, r.updated_at, r.from_address, r.from_address_tag, bool(r.internal), r.credited_at)


def get_deposit(chain: str, tx_hash: str, output_index: int) -> Optional[Deposit]:
    try:
        return _to_deposit(DepositRecord.get(_deposit_key(chain, tx_hash, output_index), "META",
                                             consistent_read=True))
    except DepositRecord.DoesNotExist:
        return None


def deposit_by_id(deposit_id: int) -> Optional[Deposit]:
    for record in DepositRecord.gsi2.query(f"DEPID#{deposit_id}", limit=1):
        return _to_deposit(record)
    return None


def stage_deposit(tx: Transaction, d: Deposit, expected_version: Optional[int]) -> None:
    """A new deposit (expected_version None) or its next state, version-checked."""
    record = DepositRecord(
        _deposit_key(d.chain, d.tx_hash, d.output_index), "META",
        gsi1pk=f"DEPACC#{d.account_id}", gsi1sk=padded(d.deposit_id),
        gsi2pk=f"DEPID#{d.deposit_id}", gsi2sk="-",
        gsi3pk=f"DEPORG#{d.org_id}", gsi3sk=padded(d.deposit_id),
        deposit_id=d.deposit_id, org_id=d.org_id, uid=d.uid, account_id=d.account_id, token=d.token,
        chain=d.chain, tx_hash=d.tx_hash, output_index=d.output_index, address=d.address,
        address_tag=d.address_tag, from_address=d.from_address, from_address_tag=d.from_address_tag,
        amount=d.amount, confirmations=d.confirmations, required_confirmations=d.required_confirmations,
        state=d.state.value, version=d.version, internal=d.internal, created_at=d.created_at,
        updated_at=d.updated_at, credited_at=d.credited_at,
    )
    condition = DepositRecord.pk.does_not_exist() if expected_version is None \
        else DepositRecord.version == expected_version
    tx.put(record, condition, on_condition_failed=ConcurrentUpdate())


def deposits_of_account(account_id: str, *, before_id: Optional[int] = None, after_id: Optional[int] = None,
                        limit: int = 100, newest_first: bool = True) -> Iterator[Deposit]:
    for record in _page(DepositRecord.gsi1.query, f"DEPACC#{account_id}", DepositRecord.gsi1sk,
                        before_id=before_id, after_id=after_id, limit=limit, newest_first=newest_first):
        yield _to_deposit(record)


def deposits_of_org(org_id: str, *, before_id: Optional[int] = None, after_id: Optional[int] = None,
                    limit: int = 100, newest_first: bool = True) -> Iterator[Deposit]:
    for record in _page(DepositRecord.gsi3.query, f"DEPORG#{org_id}", DepositRecord.gsi3sk,
                        before_id=before_id, after_id=after_id, limit=limit, newest_first=newest_first):
        yield _to_deposit(record)


# --- withdrawals ------------------------------------------------------------------------------------

class WithdrawalRecord(Entity):
    gsi1 = Gsi1()
    gsi2 = Gsi2()
    gsi3 = Gsi3()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute()
    gsi3sk = UnicodeAttribute()
    withdrawal_id = IntegerAttribute()
    org_id = UnicodeAttribute()
    uid = UnicodeAttribute()
    account_id = UnicodeAttribute()
    token = UnicodeAttribute()
    chain = UnicodeAttribute()
    address = UnicodeAttribute()
    address_tag = UnicodeAttribute(null=True)
    amount = DecimalAttribute()
    fee = DecimalAttribute()
    state = UnicodeAttribute()
    version = IntegerAttribute()
    client_order_id = UnicodeAttribute()
    quota_day = UnicodeAttribute()
    approvals_needed = IntegerAttribute()
    approvals = ListAttribute(of=UnicodeAttribute, default=list)
    internal = BooleanAttribute(default=False)
    target_org_id = UnicodeAttribute(null=True)
    target_uid = UnicodeAttribute(null=True)
    target_account_id = UnicodeAttribute(null=True)
    tx_id = UnicodeAttribute(null=True)
    confirmations = IntegerAttribute()
    required_confirmations = IntegerAttribute()
    reason = UnicodeAttribute(null=True)
    reviewed_by = UnicodeAttribute(null=True)
    created_at = IntegerAttribute()
    updated_at = IntegerAttribute()
    handed_at = IntegerAttribute(null=True)
    finished_at = IntegerAttribute(null=True)


SEND_QUEUE = "WDSEND"


def _work_key(w: Withdrawal) -> Optional[str]:
    if w.state is WithdrawalState.REVIEW:
        return f"WDREVIEW#{w.org_id}"
    if w.state in (WithdrawalState.QUEUED, WithdrawalState.SENDING):
        return SEND_QUEUE
    return None


def _to_withdrawal(r: WithdrawalRecord) -> Withdrawal:
    return Withdrawal(
        r.withdrawal_id, r.org_id, r.uid, r.account_id, r.token, r.chain, r.address, r.address_tag, r.amount,
        r.fee, WithdrawalState(r.state), r.version, r.client_order_id, r.quota_day, r.created_at, r.updated_at,
        r.approvals_needed, tuple(r.approvals or ()), bool(r.internal), r.target_org_id, r.target_uid,
        r.target_account_id, r.tx_id, r.confirmations, r.required_confirmations, r.reason, r.reviewed_by,
        r.handed_at, r.finished_at)


def get_withdrawal(withdrawal_id: int) -> Optional[Withdrawal]:
    try:
        return _to_withdrawal(WithdrawalRecord.get(f"WITHDRAWAL#{withdrawal_id}", "META", consistent_read=True))
    except WithdrawalRecord.DoesNotExist:
        return None


def stage_withdrawal(tx: Transaction, w: Withdrawal, expected_version: Optional[int]) -> None:
    work = _work_key(w)
    tx.put(WithdrawalRecord(
        f"WITHDRAWAL#{w.withdrawal_id}", "META",
        gsi1pk=f"WDACC#{w.account_id}", gsi1sk=padded(w.withdrawal_id),
        gsi2pk=work, gsi2sk=padded(w.withdrawal_id) if work else None,
        gsi3pk=f"WDORG#{w.org_id}", gsi3sk=padded(w.withdrawal_id),
        withdrawal_id=w.withdrawal_id, org_id=w.org_id, uid=w.uid, account_id=w.account_id, token=w.token,
        chain=w.chain, address=w.address, address_tag=w.address_tag, amount=w.amount, fee=w.fee,
        state=w.state.value, version=w.version, client_order_id=w.client_order_id, quota_day=w.quota_day,
        approvals_needed=w.approvals_needed, approvals=list(w.approvals), internal=w.internal,
        target_org_id=w.target_org_id, target_uid=w.target_uid, target_account_id=w.target_account_id,
        tx_id=w.tx_id, confirmations=w.confirmations, required_confirmations=w.required_confirmations,
        reason=w.reason, reviewed_by=w.reviewed_by, created_at=w.created_at, updated_at=w.updated_at,
        handed_at=w.handed_at, finished_at=w.finished_at,
    ), WithdrawalRecord.pk.does_not_exist() if expected_version is None
        else WithdrawalRecord.version == expected_version, on_condition_failed=ConcurrentUpdate())


def withdrawals_of_account(account_id: str, *, before_id: Optional[int] = None, after_id: Optional[int] = None,
                           limit: int = 100, newest_first: bool = True) -> Iterator[Withdrawal]:
    for record in _page(WithdrawalRecord.gsi1.query, f"WDACC#{account_id}", WithdrawalRecord.gsi1sk,
                        before_id=before_id, after_id=after_id, limit=limit, newest_first=newest_first):
        yield _to_withdrawal(record)


def withdrawals_of_org(org_id: str, *, before_id: Optional[int] = None, after_id: Optional[int] = None,
                       limit: int = 100, newest_first: bool = True) -> Iterator[Withdrawal]:
    for record in _page(WithdrawalRecord.gsi3.query, f"WDORG#{org_id}", WithdrawalRecord.gsi3sk,
                        before_id=before_id, after_id=after_id, limit=limit, newest_first=newest_first):
        yield _to_withdrawal(record)


def awaiting_review(org_id: str, *, before_id: Optional[int] = None, limit: int = 100) -> Iterator[Withdrawal]:
    """Oldest first: the review queue is worked in arrival order."""
    for record in _page(WithdrawalRecord.gsi2.query, f"WDREVIEW#{org_id}", WithdrawalRecord.gsi2sk,
                        before_id=before_id, after_id=None, limit=limit, newest_first=False):
        yield _to_withdrawal(record)


def awaiting_custody(created_before_ms: int) -> Iterator[int]:
    """Ids of withdrawals queued for or being handed to custody, created before a time."""
    from chalicelib.domain.ids import first_id_at

    for record in WithdrawalRecord.gsi2.query(SEND_QUEUE, WithdrawalRecord.gsi2sk < padded(
            first_id_at(created_before_ms))):
        yield record.withdrawal_id


# --- daily withdrawal use ----------------------------------------------------------------------------

class QuotaRecord(Entity):
    used = DecimalAttribute()
    version = IntegerAttribute()


@dataclass(frozen=True)
class QuotaUse:
    account_id: str
    token: str
    day: str
    used: Decimal
    version: int


def get_quota(account_id: str, token: str, day: str) -> QuotaUse:
    try:
        r = QuotaRecord.get(f"WDQUOTA#{account_id}#{token}", day, consistent_read=True)
        return QuotaUse(account_id, token, day, r.used, r.version)
    except QuotaRecord.DoesNotExist:
        return QuotaUse(account_id, token, day, Decimal(0), 0)


def stage_quota(tx: Transaction, before: QuotaUse, used: Decimal) -> None:
    tx.put(QuotaRecord(
        f"WDQUOTA#{before.account_id}#{before.token}", before.day, used=used, version=before.version + 1,
        expires_at=int(time.time()) + QUOTA_RETENTION_SECONDS,
    ), QuotaRecord.pk.does_not_exist() if before.version == 0 else QuotaRecord.version == before.version,
        on_condition_failed=ConcurrentUpdate())


# --- saved withdrawal addresses ----------------------------------------------------------------------

class SavedAddressRecord(Entity):
    address_id = IntegerAttribute()
    org_id = UnicodeAttribute()
    uid = UnicodeAttribute()
    token = UnicodeAttribute()
    chain = UnicodeAttribute()
    address = UnicodeAttribute()
    address_tag = UnicodeAttribute(null=True)
    label = UnicodeAttribute(default="")
    created_at = IntegerAttribute()


@dataclass(frozen=True)
class SavedAddress:
    address_id: int
    org_id: str
    uid: str
    token: str
    chain: str
    address: str
    address_tag: Optional[str]
    label: str
    created_at: int


def _book_sort_key(token: str, chain: str, address: str, tag: Optional[str]) -> str:
    return f"{token}#{chain}#{address}#{tag or NO_TAG}"


def _to_saved(r: SavedAddressRecord) -> SavedAddress:
    return SavedAddress(r.address_id, r.org_id, r.uid, r.token, r.chain, r.address, r.address_tag, r.label or "",
                        r.created_at)


def save_address(entry: SavedAddress) -> SavedAddress:
    """Adds an address to the user's book; an address already there is returned as it is."""
    record = SavedAddressRecord(
        f"WDADDRBOOK#{entry.uid}", _book_sort_key(entry.token, entry.chain, entry.address, entry.address_tag),
        address_id=entry.address_id, org_id=entry.org_id, uid=entry.uid, token=entry.token, chain=entry.chain,
        address=entry.address, address_tag=entry.address_tag, label=entry.label, created_at=entry.created_at)
    try:
        record.save(SavedAddressRecord.pk.does_not_exist())
        return entry
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
    return saved_address(entry.uid, entry.token, entry.chain, entry.address, entry.address_tag)


def saved_address(uid: str, token: str, chain: str, address: str, tag: Optional[str]) -> Optional[SavedAddress]:
    try:
        return _to_saved(SavedAddressRecord.get(f"WDADDRBOOK#{uid}", _book_sort_key(token, chain, address, tag),
                                                consistent_read=True))
    except SavedAddressRecord.DoesNotExist:
        return None


def saved_addresses(uid: str, token: Optional[str] = None) -> list[SavedAddress]:
    condition = SavedAddressRecord.sk.startswith(f"{token}#") if token else None
    return [_to_saved(r) for r in SavedAddressRecord.query(f"WDADDRBOOK#{uid}", condition, consistent_read=True)]


def delete_saved_address(entry: SavedAddress) -> None:
    SavedAddressRecord(f"WDADDRBOOK#{entry.uid}",
                       _book_sort_key(entry.token, entry.chain, entry.address, entry.address_tag)).delete()


# --- callback nonces -------------------------------------------------------------------------------------

class CallbackNonceRecord(Entity):
    created_at = IntegerAttribute()


@contextlib.contextmanager
def claimed_nonce(nonce: Optional[str]):
    """Runs the body once per nonce; a nonce seen before is a replay (CallbackRejected).

    If the body fails, the nonce is released so the same delivery may be retried.
    """
    if nonce is None:
        yield
        return
    now = int(time.time())
    record = CallbackNonceRecord(f"CBNONCE#{nonce}", "-", created_at=now, expires_at=now + NONCE_RETENTION_SECONDS)
    try:
        record.save(CallbackNonceRecord.pk.does_not_exist())
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise CallbackRejected("Callback was already delivered (replayed nonce)") from None
        raise
    try:
        yield
    except BaseException:
        record.delete()
        raise
