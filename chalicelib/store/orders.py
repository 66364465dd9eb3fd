"""Orders, the matcher's work items, and trades.

Index use: gsi1 = every order of an account (newest first); gsi2 = open orders of an
account (sparse: removed when the order is final); gsi3 = orders resting on a symbol's
book (sparse), which is all the matcher needs to rebuild its in-memory book.
Trades: gsi1 = the buyer account's trades, gsi2 = the seller account's.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Optional

from pynamodb.attributes import UnicodeAttribute

from chalicelib.domain.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from chalicelib.store.attributes import DecimalAttribute, IntegerAttribute
from chalicelib.store.table import Entity, Gsi1, Gsi2, Gsi3, padded, NOTHING, id_range
from chalicelib.store.transaction import Transaction


class OrderRecord(Entity):
    gsi1 = Gsi1()
    gsi2 = Gsi2()
    gsi3 = Gsi3()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    order_id = IntegerAttribute()
    exchange_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    uid = UnicodeAttribute()
    symbol = UnicodeAttribute()
    side = UnicodeAttribute()
    order_type = UnicodeAttribute()
    time_in_force = UnicodeAttribute()
    price = DecimalAttribute(null=True)
    quantity = DecimalAttribute()
    quote_amount = DecimalAttribute(null=True)
    executed_qty = DecimalAttribute()
    executed_quote = DecimalAttribute()
    fee_paid = DecimalAttribute()
    fee_asset = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    client_order_id = UnicodeAttribute()
    priority = IntegerAttribute()
    version = IntegerAttribute()
    created_at = IntegerAttribute()
    updated_at = IntegerAttribute()


@dataclass(frozen=True)
class StoredOrder:
    order: Order
    exchange_id: str
    fee_paid: Decimal
    fee_asset: Optional[str]
    version: int
    updated_at: int


def order_key(order_id: int) -> str:
    return f"ORDER#{order_id}"


def to_record(stored: StoredOrder, resting: bool) -> OrderRecord:
    order = stored.order
    record = OrderRecord(
        order_key(order.order_id), "META",
        gsi1pk=f"ACCTORD#{order.account_id}", gsi1sk=padded(order.order_id),
        order_id=order.order_id, exchange_id=stored.exchange_id, org_id=order.org_id,
        account_id=order.account_id, uid=order.user_id, symbol=order.symbol, side=order.side.value,
        order_type=order.type.value, time_in_force=order.time_in_force.value, price=order.price,
        quantity=order.quantity, quote_amount=order.quote_amount, executed_qty=order.executed_qty,
        executed_quote=order.executed_quote, fee_paid=stored.fee_paid, fee_asset=stored.fee_asset,
        status=order.status.value, client_order_id=order.client_order_id, priority=order.priority,
        version=stored.version, created_at=order.created_at, updated_at=stored.updated_at,
    )
    if order.is_open:
        record.gsi2pk, record.gsi2sk = f"OPENORD#{order.account_id}", padded(order.order_id)
    if resting and order.is_open:
        record.gsi3pk, record.gsi3sk = f"BOOK#{order.symbol}", padded(order.order_id)
    return record


def from_record(record: OrderRecord) -> StoredOrder:
    order = Order(
        order_id=record.order_id, account_id=record.account_id, org_id=record.org_id, user_id=record.uid,
        symbol=record.symbol, side=Side(record.side), type=OrderType(record.order_type),
        time_in_force=TimeInForce(record.time_in_force), price=record.price, quantity=record.quantity,
        quote_amount=record.quote_amount, executed_qty=record.executed_qty,
        executed_quote=record.executed_quote, status=OrderStatus(record.status),
        client_order_id=record.client_order_id, created_at=record.created_at, priority=record.priority,
    )
    return StoredOrder(order, record.exchange_id, record.fee_paid, record.fee_asset, record.version,
                       record.updated_at)


def stage_new(tx: Transaction, stored: StoredOrder) -> None:
    tx.put(to_record(stored, resting=False), OrderRecord.pk.does_not_exist())


def stage_change(tx: Transaction, stored: StoredOrder, expected_version: int, *, resting: bool,
                 on_changed=None) -> None:
    """Writes the order's new state if nobody changed it since `expected_version`."""
    tx.put(to_record(stored, resting), OrderRecord.version == expected_version,
           on_condition_failed=on_changed)


def get(order_id: int) -> Optional[StoredOrder]:
    try:
        return from_record(OrderRecord.get(order_key(order_id), "META", consistent_read=True))
    except OrderRecord.DoesNotExist:
        return None


def get_many(order_ids: Iterable[int]) -> dict[int, StoredOrder]:
    keys = [(order_key(order_id), "META") for order_id in dict.fromkeys(order_ids)]
    return {r.order_id: from_record(r) for r in OrderRecord.batch_get(keys, consistent_read=True)}


def resting_on(symbol: str) -> list[StoredOrder]:
    return [from_record(r) for r in OrderRecord.gsi3.query(f"BOOK#{symbol}")]


def open_of_account(account_id: str, *, before_id: Optional[int] = None, limit: int = 500) -> list[StoredOrder]:
    condition = OrderRecord.gsi2sk < padded(before_id) if before_id else None
    query = OrderRecord.gsi2.query(f"OPENORD#{account_id}", condition, scan_index_forward=False, limit=limit)
    return [from_record(r) for r in query][:limit]


def of_account(account_id: str, *, before_id: Optional[int] = None, after_id: Optional[int] = None,
               limit: int = 500) -> Iterable[StoredOrder]:
    """Every order of an account, newest first (the caller filters and stops)."""
    condition = id_range(OrderRecord.gsi1sk, before_id=before_id or None, after_id=after_id or None)
    if condition is NOTHING:
        return
    for record in OrderRecord.gsi1.query(f"ACCTORD#{account_id}", condition, scan_index_forward=False,
                                         page_size=max(limit, 50)):
        yield from_record(record)


# --- work items: what the matcher still has to do ------------------------------

class WorkRecord(Entity):
    kind = UnicodeAttribute()
    dead = UnicodeAttribute(null=True)
    order_id = IntegerAttribute()
    exchange_id = UnicodeAttribute()
    created_at = IntegerAttribute()


@dataclass(frozen=True)
class Work:
    symbol: str
    kind: str
    order_id: int
    exchange_id: str
    created_at: int

    @property
    def dedup_id(self) -> str:
        return f"{self.kind}-{self.order_id}"


def work_key(symbol: str) -> str:
    return f"MATCHQ#{symbol}"


def stage_work(tx: Transaction, work: Work) -> None:
    tx.put(WorkRecord(work_key(work.symbol), work.dedup_id, kind=work.kind, order_id=work.order_id,
                      exchange_id=work.exchange_id, created_at=work.created_at),
           WorkRecord.pk.does_not_exist())


def stage_work_done(tx: Transaction, work: Work, on_missing) -> None:
    tx.delete(WorkRecord(work_key(work.symbol), work.dedup_id), WorkRecord.pk.exists(),
              on_condition_failed=on_missing)


def work_exists(work: Work) -> bool:
    try:
        WorkRecord.get(work_key(work.symbol), work.dedup_id, consistent_read=True)
        return True
    except WorkRecord.DoesNotExist:
        return False


def pending_work(symbol: str, older_than_ms: int) -> list[Work]:
    return [Work(symbol, r.kind, r.order_id, r.exchange_id, r.created_at)
            for r in WorkRecord.query(work_key(symbol), filter_condition=(WorkRecord.created_at < older_than_ms)
                                      & WorkRecord.dead.does_not_exist())]


def mark_dead(work: Work, reason: str) -> None:
    """Parks a work item whose message went to the dead-letter queue (the sweeper skips it)."""
    try:
        WorkRecord(work_key(work.symbol), work.dedup_id).update(
            actions=[WorkRecord.dead.set(reason[:500])], condition=WorkRecord.pk.exists())
    except Exception as error:
        if getattr(error, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise


def now_ms() -> int:
    return int(time.time() * 1000)
