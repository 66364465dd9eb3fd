"""Org statistics: counters per time bucket, running levels, and the projector's cursor.

| entity | pk | sk |
|---|---|---|
| bucket of counters | `STAT#<org_id>#<family>#<scope>#<granularity>` | `<bucket start ms:020d>` |
| running level (token holders, holdings) | `STATLEVEL#<org_id>` | `TOKEN#<token>` |
| projector cursor (last org event counted) | `STATCURSOR#<org_id>` | `META` |

A batch of counted events is one transaction: counter increments (ADD), the gauges of
the buckets it touched (SET, the level after the batch's last event in that bucket), the
new levels and the cursor, conditioned on the cursor read. So each event is counted
exactly once however many projectors run.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from pynamodb.attributes import UnicodeAttribute

from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.store.attributes import DecimalAttribute, IntegerAttribute
from chalicelib.store.table import Entity, padded
from chalicelib.store.transaction import Transaction

COUNTERS = (
    "register_count", "login_count", "kyc_submit_count", "kyc_pass_count", "kyc_reject_count",
    "deposit_count", "deposit_amount", "withdraw_count", "withdraw_amount", "balance_change",
    "order_count", "order_quantity", "cancel_count", "cancel_quantity", "trade_count", "trade_quantity",
    "trade_amount",
)
GAUGES = ("holders", "holdings")


class StatRecord(Entity):
    bucket = IntegerAttribute()
    register_count = DecimalAttribute(null=True)
    login_count = DecimalAttribute(null=True)
    kyc_submit_count = DecimalAttribute(null=True)
    kyc_pass_count = DecimalAttribute(null=True)
    kyc_reject_count = DecimalAttribute(null=True)
    deposit_count = DecimalAttribute(null=True)
    deposit_amount = DecimalAttribute(null=True)
    withdraw_count = DecimalAttribute(null=True)
    withdraw_amount = DecimalAttribute(null=True)
    balance_change = DecimalAttribute(null=True)
    order_count = DecimalAttribute(null=True)
    order_quantity = DecimalAttribute(null=True)
    cancel_count = DecimalAttribute(null=True)
    cancel_quantity = DecimalAttribute(null=True)
    trade_count = DecimalAttribute(null=True)
    trade_quantity = DecimalAttribute(null=True)
    trade_amount = DecimalAttribute(null=True)
    holders = DecimalAttribute(null=True)
    holdings = DecimalAttribute(null=True)


class LevelRecord(Entity):
    token = UnicodeAttribute()
    holders = DecimalAttribute()
    holdings = DecimalAttribute()


class CursorRecord(Entity):
    last_event_id = IntegerAttribute()


@dataclass(frozen=True)
class BucketKey:
    family: str
    scope: str
    granularity: str
    bucket: int


def _stat_key(org_id: str, family: str, scope: str, granularity: str) -> str:
    return f"STAT#{org_id}#{family}#{scope}#{granularity}"


def cursor(org_id: str) -> int:
    try:
        return CursorRecord.get(f"STATCURSOR#{org_id}", "META", consistent_read=True).last_event_id
    except CursorRecord.DoesNotExist:
        return 0


def levels(org_id: str) -> dict[str, tuple[Decimal, Decimal]]:
    return {r.token: (r.holders, r.holdings)
            for r in LevelRecord.query(f"STATLEVEL#{org_id}", consistent_read=True)}


def commit_batch(org_id: str, expected_cursor: int, new_cursor: int,
                 counters: dict[BucketKey, dict[str, Decimal]], gauges: dict[BucketKey, dict[str, Decimal]],
                 changed_levels: dict[str, tuple[Decimal, Decimal]]) -> None:
    """One batch of counted events; ConcurrentUpdate if another projector got there first."""
    tx = Transaction()
    condition = CursorRecord.pk.does_not_exist() if expected_cursor == 0 \
        else CursorRecord.last_event_id == expected_cursor
    tx.put(CursorRecord(f"STATCURSOR#{org_id}", "META", last_event_id=new_cursor), condition,
           on_condition_failed=ConcurrentUpdate)
    for key in dict.fromkeys(list(counters) + list(gauges)):
        record = StatRecord(_stat_key(org_id, key.family, key.scope, key.granularity), padded(key.bucket))
        actions = [StatRecord.bucket.set(key.bucket)]
        for name, delta in (counters.get(key) or {}).items():
            if delta:
                actions.append(getattr(StatRecord, name).add(delta))
        for name, value in (gauges.get(key) or {}).items():
            actions.append(getattr(StatRecord, name).set(value))
        tx.update(record, actions)
    for token, (holders, holdings) in changed_levels.items():
        tx.put(LevelRecord(f"STATLEVEL#{org_id}", f"TOKEN#{token}", token=token, holders=holders,
                           holdings=holdings))
    tx.commit()


def buckets(org_id: str, family: str, scope: str, granularity: str, start: int, end: int) -> dict[int, dict]:
    """Stored buckets with start in [start, end], by bucket start."""
    found = {}
    for record in StatRecord.query(_stat_key(org_id, family, scope, granularity),
                                   StatRecord.sk.between(padded(start), padded(end)), consistent_read=True):
        found[record.bucket] = {name: getattr(record, name) for name in COUNTERS + GAUGES
                                if getattr(record, name) is not None}
    return found


def last_gauges_before(org_id: str, family: str, scope: str, granularity: str, start: int) -> Optional[dict]:
    """The gauges of the latest bucket before `start` that has them (levels carried forward)."""
    for record in StatRecord.query(_stat_key(org_id, family, scope, granularity), StatRecord.sk < padded(start),
                                   scan_index_forward=False, consistent_read=True, page_size=50):
        if record.holders is not None:
            return {"holders": record.holders, "holdings": record.holdings}
    return None
