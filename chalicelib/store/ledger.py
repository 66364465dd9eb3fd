"""Balances and balance flows: each balance write is version-checked and carries its flow row."""
from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Iterator, Optional

from pynamodb.attributes import UnicodeAttribute

from chalicelib.domain.ledger import Balance, Movement
from chalicelib.store.attributes import DecimalAttribute, IntegerAttribute
from chalicelib.store.table import Entity, Gsi1, padded, NOTHING, id_range
from chalicelib.store.transaction import Transaction


class BalanceRecord(Entity):
    account_id = UnicodeAttribute()
    token = UnicodeAttribute()
    available = DecimalAttribute()
    locked = DecimalAttribute()
    position = DecimalAttribute()
    version = IntegerAttribute()
    updated_at = IntegerAttribute()


class FlowRecord(Entity):
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    flow_id = IntegerAttribute()
    account_id = UnicodeAttribute()
    token = UnicodeAttribute()
    subject = IntegerAttribute()
    available_change = DecimalAttribute()
    locked_change = DecimalAttribute()
    position_change = DecimalAttribute()
    total_after = DecimalAttribute()
    reference = UnicodeAttribute()
    created_at = IntegerAttribute()


@dataclass(frozen=True)
class Flow:
    flow_id: int
    account_id: str
    token: str
    subject: int
    available_change: Decimal
    locked_change: Decimal
    position_change: Decimal
    total_after: Decimal
    reference: str
    created_at: int

    @property
    def change(self) -> Decimal:
        return self.available_change + self.locked_change + self.position_change


def _balance_key(account_id: str) -> str:
    return f"BAL#{account_id}"


def _to_balance(record: BalanceRecord) -> Balance:
    return Balance(record.account_id, record.token, record.available, record.locked, record.position, record.version)


def get(account_id: str, token: str) -> Balance:
    try:
        return _to_balance(BalanceRecord.get(_balance_key(account_id), token, consistent_read=True))
    except BalanceRecord.DoesNotExist:
        return Balance(account_id, token)


def get_many(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Balance]:
    wanted = list(dict.fromkeys(keys))
    found = {
        (record.account_id, record.token): _to_balance(record)
        for record in BalanceRecord.batch_get([(_balance_key(a), t) for a, t in wanted], consistent_read=True)
    }
    return {key: found.get(key, Balance(*key)) for key in wanted}


def for_account(account_id: str) -> list[Balance]:
    return [_to_balance(r) for r in BalanceRecord.query(_balance_key(account_id), consistent_read=True)]


def stage_balance(tx: Transaction, before: Balance, after: Balance) -> None:
    """The balance write, conditional on the version that was read."""
    record = BalanceRecord(
        _balance_key(after.account_id), after.token,
        account_id=after.account_id, token=after.token,
        available=after.available, locked=after.locked, position=after.position,
        version=after.version, updated_at=int(time.time() * 1000),
    )
    condition = BalanceRecord.pk.does_not_exist() if before.version == 0 else BalanceRecord.version == before.version
    tx.put(record, condition)


def stage_flow(tx: Transaction, after: Balance, movement: Movement, flow_id: int, subject: int,
               reference: str) -> Flow:
    """The flow row of one posting; `after` is the balance right after it."""
    flow = Flow(flow_id, after.account_id, after.token, int(subject), movement.available, movement.locked,
                movement.position, after.total, reference, int(time.time() * 1000))
    tx.put(FlowRecord(
        f"FLOW#{flow.account_id}", padded(flow_id),
        gsi1pk=f"FLOWTOK#{flow.account_id}#{flow.token}", gsi1sk=padded(flow_id),
        flow_id=flow_id, account_id=flow.account_id, token=flow.token, subject=flow.subject,
        available_change=flow.available_change, locked_change=flow.locked_change,
        position_change=flow.position_change, total_after=flow.total_after,
        reference=reference, created_at=flow.created_at,
    ))
    return flow


def _to_flow(record: FlowRecord) -> Flow:
    return Flow(record.flow_id, record.account_id, record.token, record.subject, record.available_change,
                record.locked_change, record.position_change, record.total_after, record.reference,
                record.created_at)


def flows(account_id: str, *, token: Optional[str] = None, before_id: Optional[int] = None,
          after_id: Optional[int] = None, start_ms: Optional[int] = None, end_ms: Optional[int] = None,
          subjects: Optional[set[int]] = None, limit: int = 50, newest_first: bool = True) -> list[Flow]:
    """Flows of an account, newest first, paged by flow id (both ends exclusive)."""
    if token:
        index_key, query = f"FLOWTOK#{account_id}#{token}", FlowRecord.gsi1.query
        range_attr = FlowRecord.gsi1sk
    else:
        index_key, query = f"FLOW#{account_id}", FlowRecord.query
        range_attr = FlowRecord.sk
    condition = id_range(range_attr, before_id=before_id, after_id=after_id)
    if condition is NOTHING:
        return []
    result: list[Flow] = []
    for record in query(index_key, condition, scan_index_forward=not newest_first):
        flow = _to_flow(record)
        if start_ms is not None and flow.created_at < start_ms:
            if newest_first:
                break
            continue
        if end_ms is not None and flow.created_at > end_ms:
            if newest_first:
                continue
            break
        if subjects and flow.subject not in subjects:
            continue
        result.append(flow)
        if len(result) >= limit:
            break
    return result


def scan_balances() -> Iterator[Balance]:
    for record in BalanceRecord.scan(BalanceRecord.pk.startswith("BAL#")):
        yield _to_balance(record)


def scan_flows() -> Iterator[Flow]:
    for record in FlowRecord.scan(FlowRecord.pk.startswith("FLOW#")):
        yield _to_flow(record)
