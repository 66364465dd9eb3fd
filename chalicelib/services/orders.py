"""Placing, cancelling and reading spot orders (the API side of trading).

Placement holds the funds and records the order and a matcher work item in one
transaction, then enqueues the work on the symbol's FIFO group. A lost enqueue is
recovered by `requeue_stale_work`, so no order stays NEW and unseen.

Cancel is decided here, not in the matcher: the order row carries a version and every
write to it (a fill by the matcher, a cancel here) is conditioned on the version it
read, so a fill and a cancel can never both take the same quantity. The matcher learns
of the cancel through a work item and takes the order off its book.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Optional

from chalicelib import settings
from chalicelib.domain import filters, ledger as money_rules
from chalicelib.domain.errors import (
    ConcurrentUpdate, InsufficientBalance, InvalidParameter, MissingParameter, OrderAlreadyCanceled, OrderAlreadyFilled,
    OrderNotFound, TradingFrozen,
)
from chalicelib.domain.events import Event, org_stream, user_stream
from chalicelib.domain.ids import new_id
from chalicelib.domain.ledger import Subject
from chalicelib.domain.orders import Order, OrderStatus, OrderType, Side, funds_to_lock, lock_asset_is_base, \
    locked_remainder, open_order
from chalicelib.gateways import aws
from chalicelib.services import catalog, idempotency, ledger
from chalicelib.store import idempotency as idempotency_records
from chalicelib.store import market as market_store
from chalicelib.store import orders as store
from chalicelib.store.orders import StoredOrder, Work
from chalicelib.store.transaction import Transaction, run_with_retries

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Trader:
    """Who places the order; always taken from the caller's credential."""

    org_id: str
    uid: str
    account_id: str
    may_trade: bool = True


def order_view(stored: StoredOrder) -> dict:
    """The internal JSON form of an order; each family renders its own wire shape from it."""
    order = stored.order
    average = order.average_price
    return {
        "order_id": str(order.order_id), "client_order_id": order.client_order_id,
        "exchange_id": stored.exchange_id, "org_id": order.org_id, "account_id": order.account_id,
        "uid": order.user_id, "symbol": order.symbol, "side": order.side.value, "type": order.type.value,
        "time_in_force": order.time_in_force.value,
        "price": str(order.price) if order.price is not None else None,
        "quantity": str(order.quantity),
        "quote_amount": str(order.quote_amount) if order.quote_amount is not None else None,
        "executed_qty": str(order.executed_qty), "executed_quote": str(order.executed_quote),
        "average_price": str(average) if average is not None else None,
        "fee_paid": str(stored.fee_paid), "fee_asset": stored.fee_asset,
        "status": order.status.value, "created_at": order.created_at, "updated_at": stored.updated_at,
    }


def _lock_asset(order: Order, rules: filters.SymbolRules) -> str:
    return rules.base_asset if lock_asset_is_base(order) else rules.quote_asset


def place_order(trader: Trader, *, symbol: str, side: str, order_type: str, quantity: Decimal,
                price: Optional[Decimal] = None, time_in_force: Optional[str] = None,
                client_order_id: Optional[str] = None, source: str = "api") -> dict:
    """Validates, holds the funds and records the order; returns it as NEW.

    The client order id is the operation id: the same id and terms give back the first
    answer; the same id with other terms is refused.
    """
    org = catalog.org(trader.org_id)
    listing = org.symbol(symbol)
    if not trader.may_trade or not listing.can_trade:
        raise TradingFrozen()
    request = filters.validate_new_order(listing.rules, side=side, order_type=order_type, quantity=quantity,
                                         price=price, time_in_force=time_in_force)
    if (request.side is Side.BUY and not listing.can_buy) or (request.side is Side.SELL and not listing.can_sell):
        raise TradingFrozen(f"{request.side.value} orders are not allowed on {symbol}")
    client_order_id = client_order_id or f"auto-{new_id()}"
    if len(client_order_id) > 64:
        raise InvalidParameter("newClientOrderId", "Client order id is longer than 64 characters")
    payload = {"symbol": symbol, "side": request.side.value, "type": request.type.value,
               "tif": request.time_in_force.value, "quantity": str(quantity),
               "price": str(request.price) if request.price is not None else None}
    order_id = new_id()
    now = store.now_ms()
    order = open_order(request, order_id=order_id, account_id=trader.account_id, org_id=trader.org_id,
                       user_id=trader.uid, client_order_id=client_order_id, created_at=now)
    stored = StoredOrder(order, listing.exchange_id, Decimal(0), None, 1, now)
    work = Work(symbol, "place", order_id, listing.exchange_id, now)

    def build(tx: Transaction) -> dict:
        store.stage_new(tx, stored)
        store.stage_work(tx, work)
        asset = _lock_asset(order, listing.rules)
        ledger.stage(tx, money_rules.postings(Subject.ORDER_LOCK, money_rules.lock(
            trader.account_id, asset, funds_to_lock(order))), reference=f"order:{order_id}")
        view = order_view(stored)
        tx.emit(Event(user_stream(trader.uid), "order", {**view, "fills": []}, trader.org_id, trader.uid))
        if org.settings.get("notify_place_order"):
            tx.emit(Event(org_stream(trader.org_id), "org.placeOrder", view, trader.org_id, trader.uid))
        return view

    view = idempotency.run(f"order:{trader.account_id}", client_order_id, payload, build)
    enqueue(work if view["order_id"] == str(order_id) else Work(
        symbol, "place", int(view["order_id"]), listing.exchange_id, now))
    return view


def enqueue(work: Work) -> None:
    """Hands work to the symbol's matcher; failures are left to `requeue_stale_work`."""
    try:
        aws.client("sqs").send_message(
            QueueUrl=aws.queue_url(settings.matching_queue()), MessageGroupId=work.symbol,
            MessageDeduplicationId=work.dedup_id,
            MessageBody=json.dumps({"kind": work.kind, "order_id": str(work.order_id), "symbol": work.symbol,
                                    "exchange_id": work.exchange_id}))
    except Exception:
        log.exception("enqueue of %s for %s failed; the sweeper will requeue it", work.dedup_id, work.symbol)


def requeue_stale_work(min_age_seconds: float = 30.0) -> int:
    """Re-sends work items that the matcher has not finished (lost enqueue, dead letters)."""
    cutoff = store.now_ms() - int(min_age_seconds * 1000)
    count = 0
    for symbol in set(market_store.symbols_with_state()) | _listed_symbols():
        for work in store.pending_work(symbol, cutoff):
            enqueue(work)
            count += 1
    return count


def _listed_symbols() -> set[str]:
    from chalicelib.store import catalog as catalog_store

    return {listing.symbol for org in catalog_store.all_orgs() for listing in catalog_store.org_symbols(org.org_id)}


def find_order(trader: Trader, *, order_id: Optional[str] = None,
               client_order_id: Optional[str] = None) -> StoredOrder:
    """The trader's own order by id or client id; another account's order does not exist."""
    if order_id not in (None, "", "0"):
        try:
            numeric = int(order_id)
        except (TypeError, ValueError):
            raise InvalidParameter("orderId") from None
        stored = store.get(numeric)
    elif client_order_id:
        record = idempotency_records.get(f"order:{trader.account_id}", client_order_id)
        stored = store.get(int(record.response["order_id"])) if record and record.response else None
    else:
        raise MissingParameter("orderId", "Either orderId or clientOrderId is required")
    if stored is None or stored.order.account_id != trader.account_id:
        raise OrderNotFound()
    return stored


def cancel_order(trader: Trader, *, order_id: Optional[str] = None,
                 client_order_id: Optional[str] = None) -> dict:
    stored = find_order(trader, order_id=order_id, client_order_id=client_order_id)
    return _cancel(stored.order.order_id)


def _cancel(order_id: int) -> dict:
    def attempt() -> dict:
        stored = store.get(order_id)
        order = stored.order
        if order.status is OrderStatus.FILLED:
            raise OrderAlreadyFilled()
        if order.status.is_final:
            raise OrderAlreadyCanceled()
        rules = catalog.exchange_rules(stored.exchange_id, order.symbol)
        released = locked_remainder(order)
        canceled = StoredOrder(
            dataclasses.replace(order, status=OrderStatus.CANCELED), stored.exchange_id, stored.fee_paid, stored.fee_asset, stored.version + 1, store.now_ms())
        tx = Transaction()
        store.stage_change(tx, canceled, stored.version, resting=False, on_changed=ConcurrentUpdate())
        if released > 0:
            try:
                ledger.stage(tx, money_rules.postings(Subject.ORDER_UNLOCK, money_rules.unlock(
                    order.account_id, _lock_asset(order, rules), released)), reference=f"cancel:{order_id}")
            except InsufficientBalance as stale:
                # the lock always covers the remainder: a fill got in since the read; read again
                raise ConcurrentUpdate() from stale
        store.stage_work(tx, Work(order.symbol, "cancel", order_id, stored.exchange_id, store.now_ms()))
        view = order_view(canceled)
        tx.emit(Event(user_stream(order.user_id), "order", {**view, "fills": []}, order.org_id, order.user_id))
        org = catalog.org(order.org_id)
        if org.settings.get("notify_cancel_order"):
            tx.emit(Event(org_stream(order.org_id), "org.cancelOrder", view, order.org_id, order.user_id))
        tx.commit()
        enqueue(Work(order.symbol, "cancel", order_id, stored.exchange_id, store.now_ms()))
        return view

    return run_with_retries(attempt)


def cancel_all(trader: Trader, *, symbol: Optional[str] = None, side: Optional[str] = None) -> list[dict]:
    side_filter = filters.parse_side(side) if side else None
    canceled = []
    for stored in store.open_of_account(trader.account_id, limit=1000):
        order = stored.order
        if (symbol and order.symbol != symbol) or (side_filter and order.side is not side_filter):
            continue
        try:
            canceled.append(_cancel(order.order_id))
        except (OrderAlreadyFilled, OrderAlreadyCanceled):
            continue
    return canceled


def open_orders(trader: Trader, *, symbol: Optional[str] = None, side: Optional[str] = None,
                before_id: Optional[int] = None, limit: int = 500) -> list[dict]:
    side_filter = filters.parse_side(side) if side else None
    result = []
    for stored in store.open_of_account(trader.account_id, before_id=before_id, limit=1000):
        order = stored.order
        if (symbol and order.symbol != symbol) or (side_filter and order.side is not side_filter):
            continue
        result.append(order_view(stored))
        if len(result) >= limit:
            break
    return result


def history_orders(trader: Trader, *, symbol: Optional[str] = None, side: Optional[str] = None,
                   before_id: Optional[int] = None, start_ms: Optional[int] = None,
                   end_ms: Optional[int] = None, limit: int = 500) -> list[dict]:
    """Final orders (filled, canceled, rejected), newest first."""
    side_filter = filters.parse_side(side) if side else None
    result = []
    for stored in store.of_account(trader.account_id, before_id=before_id, limit=limit):
        order = stored.order
        if start_ms is not None and order.created_at < start_ms:
            break
        if not order.status.is_final or (end_ms is not None and order.created_at > end_ms):
            continue
        if (symbol and order.symbol != symbol) or (side_filter and order.side is not side_filter):
            continue
        result.append(order_view(stored))
        if len(result) >= limit:
            break
    return result


def trade_view(trade: market_store.Trade, account_id: str) -> dict:
    """One side's view of a trade; the counterparty's account, user and org are never named."""
    is_buyer = trade.buyer_account == account_id
    return {
        "trade_id": str(trade.trade_id), "symbol": trade.symbol, "price": str(trade.price),
        "qty": str(trade.qty), "quote_qty": str(trade.quote_qty),
        "order_id": str(trade.buyer_order_id if is_buyer else trade.seller_order_id),
        "match_order_id": str(trade.seller_order_id if is_buyer else trade.buyer_order_id),
        "is_buyer": is_buyer, "is_maker": trade.buyer_is_maker == is_buyer,
        "fee": str(trade.buyer_fee if is_buyer else trade.seller_fee),
        "fee_asset": trade.buyer_fee_asset if is_buyer else trade.seller_fee_asset,
        "time": trade.time,
    }


def my_trades(trader: Trader, *, symbol: Optional[str] = None, before_id: Optional[int] = None,
              after_id: Optional[int] = None, start_ms: Optional[int] = None, end_ms: Optional[int] = None,
              order_id: Optional[int] = None, limit: int = 500) -> list[dict]:
    result = []
    for trade in market_store.trades_of_account(trader.account_id, before_id=before_id, after_id=after_id,
                                                limit=1000 if (symbol or order_id or start_ms) else limit):
        if symbol and trade.symbol != symbol:
            continue
        if start_ms is not None and trade.time < start_ms or end_ms is not None and trade.time > end_ms:
            continue
        view = trade_view(trade, trader.account_id)
        if order_id is not None and view["order_id"] != str(order_id):
            continue
        result.append(view)
        if len(result) >= limit:
            break
    return result


def orders_of(trader: Trader, order_ids: Iterable[int]) -> list[dict]:
    return [order_view(s) for s in store.get_many(order_ids).values() if s.order.account_id == trader.account_id]
