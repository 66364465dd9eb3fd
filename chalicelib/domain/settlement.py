"""Turns a match plan into what must be committed, as a series of self-consistent steps.

A taker that sweeps many makers can need more writes than one DynamoDB transaction
holds. Each fill therefore becomes a step of its own (the taker partially filled so
far, one maker, one trade, their ledger postings, the level it changes), and a final
step closes the taker (its last state, the lock it gives back, its place on the book).
The matcher packs steps into transactions; any prefix of the steps is a valid state, so
a crash between two commits loses nothing and repeats nothing.

Settlement per fill, fees taken from what each side receives:

    buyer:  locked quote -= quote qty          available base  += qty - buyer fee
    seller: locked base  -= qty                available quote += quote qty - seller fee
    fee accounts of the buyer's and the seller's orgs receive the two fees

so each fill is conserved per asset on its own.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Optional

from chalicelib.domain import ledger as money
from chalicelib.domain.ledger import Movement, Posting, Subject
from chalicelib.domain.market_data import Kline, KlineInterval, MarketTrade, add_trade, bucket_start
from chalicelib.domain.matching import MatchResult, OrderUpdate
from chalicelib.domain.orders import Order, OrderStatus, Side
from chalicelib.domain.trades import Trade

ZERO = Decimal(0)
FEE_SHARDS = 8


@dataclass(frozen=True)
class OrderChange:
    order: Order
    fee_paid: Decimal
    fee_asset: Optional[str]
    resting: bool


@dataclass
class Step:
    """One committable piece of work: everything is the state after this step."""

    orders: dict[int, OrderChange] = field(default_factory=dict)
    trades: list[Trade] = field(default_factory=list)
    postings: list[Posting] = field(default_factory=list)
    depth: dict[tuple[Side, Decimal], Decimal] = field(default_factory=dict)
    closed_klines: dict[tuple[str, int], Kline] = field(default_factory=dict)
    open_klines: dict[str, Kline] = field(default_factory=dict)
    last_trade_id: int = 0
    book_version: int = 0
    finishes_work: bool = False


@dataclass
class MarketCursor:
    """The market state that steps advance: trade ids and open klines."""

    last_trade_id: int
    open_klines: dict[str, Kline]
    closed_minutes: list[Kline] = field(default_factory=list)

    def record(self, trade: MarketTrade, closed: dict[tuple[str, int], Kline]) -> None:
        for interval in KlineInterval:
            current = self.open_klines.get(interval.value)
            if current is not None and current.open_time != bucket_start(trade.time, interval):
                closed[(interval.value, current.open_time)] = current
                if interval is KlineInterval.MINUTE_1:
                    self.closed_minutes.append(current)
                current = None
            self.open_klines[interval.value] = add_trade(current, interval, trade)


@dataclass(frozen=True)
class Assets:
    base: str
    quote: str


def fee_shard(order_id: int) -> int:
    return order_id % FEE_SHARDS


def settle(result: MatchResult, *, assets: Assets, now_ms: int, cursor: MarketCursor,
           level_qty: Callable[[Side, Decimal], Decimal], book_version: int,
           makers: Callable[[int], OrderChange], prior: Optional[OrderChange] = None) -> list[Step]:
    """The steps that commit `result` (planned against a book at `book_version`).

    `level_qty` gives a price level's resting quantity before this result; `makers`
    gives a resting order's current state (with the fees it paid so far); `prior` is the
    taker as stored when this match continues one that a crash interrupted.
    """
    taker = result.taker
    base_exec = prior.order.executed_qty if prior else ZERO
    base_quote = prior.order.executed_quote if prior else ZERO
    fee_paid = prior.fee_paid if prior else ZERO
    levels: dict[tuple[Side, Decimal], Decimal] = {}

    def change_level(side: Side, price: Decimal, delta: Decimal) -> Decimal:
        key = (side, price)
        levels[key] = levels.get(key, level_qty(side, price)) + delta
        return levels[key]

    steps: list[Step] = []
    first = Step(book_version=book_version)
    for expired in result.expired_makers:
        maker = makers(expired.order_id).order
        remaining = maker.quantity - maker.executed_qty
        first.depth[(maker.side, maker.price)] = change_level(maker.side, maker.price, -remaining)
        first.orders[maker.order_id] = OrderChange(
            dataclasses.replace(maker, status=OrderStatus.CANCELED), ZERO, None, resting=False)
        first.postings += _release(maker, assets, expired.lock_released)

    fill_released = ZERO
    for fill, update in zip(result.fills, result.maker_updates):
        step = first if not steps and first_is_open(first) else Step(book_version=book_version)
        maker_state = makers(update.order_id)
        maker = maker_state.order
        taker_is_buyer = taker.side is Side.BUY
        buyer, seller = (taker, maker) if taker_is_buyer else (maker, taker)
        buyer_fee = fill.taker_fee if taker_is_buyer else fill.maker_fee
        seller_fee = fill.maker_fee if taker_is_buyer else fill.taker_fee
        cursor.last_trade_id += 1
        trade = Trade(
            cursor.last_trade_id, taker.symbol, fill.price, fill.qty, fill.quote_qty,
            buyer.order_id, seller.order_id, buyer.account_id, seller.account_id, buyer.org_id,
            seller.org_id, buyer.user_id, seller.user_id, buyer_fee, assets.base, seller_fee, assets.quote,
            fill.is_buyer_maker, now_ms)
        step.trades.append(trade)
        step.postings += _fill_postings(trade, assets, taker.order_id)
        if taker_is_buyer and taker.price is not None:
            excess = (taker.price - fill.price) * fill.qty
            if excess:
                fill_released += excess
                step.postings += _release(taker, assets, excess)
        step.depth[(maker.side, maker.price)] = change_level(maker.side, maker.price, -fill.qty)
        maker_fee_paid = maker_state.fee_paid + fill.maker_fee
        step.orders[maker.order_id] = OrderChange(
            dataclasses.replace(maker, executed_qty=update.executed_qty, executed_quote=update.executed_quote,
                                status=update.status),
            maker_fee_paid, fill.maker_fee_asset, resting=not update.status.is_final)
        base_exec += fill.qty
        base_quote += fill.quote_qty
        fee_paid += fill.taker_fee
        step.orders[taker.order_id] = OrderChange(
            dataclasses.replace(taker, executed_qty=base_exec, executed_quote=base_quote,
                                status=OrderStatus.PARTIALLY_FILLED),
            fee_paid, fill.taker_fee_asset, resting=False)
        step.closed_klines = {}
        cursor.record(MarketTrade.of_fill(fill, now_ms), step.closed_klines)
        step.open_klines = dict(cursor.open_klines)
        step.last_trade_id = cursor.last_trade_id
        steps.append(step)

    final = steps[-1] if steps else first
    final.book_version = book_version + 1
    final.finishes_work = True
    status = result.taker_update.status
    if status is OrderStatus.NEW and base_exec > 0:
        status = OrderStatus.PARTIALLY_FILLED
    closed_taker = dataclasses.replace(
        taker, executed_qty=base_exec, executed_quote=base_quote, status=status,
        quantity=prior.order.quantity if prior else taker.quantity,
        quote_amount=prior.order.quote_amount if prior else taker.quote_amount)
    final.orders[taker.order_id] = OrderChange(
        closed_taker, fee_paid, _receive_asset(taker, assets) if fee_paid else None, resting=result.rests)
    remainder = result.taker_update.lock_released - fill_released
    if remainder:
        final.postings += _release(taker, assets, remainder)
    if result.rests:
        remaining = closed_taker.quantity - closed_taker.executed_qty
        final.depth[(taker.side, taker.price)] = change_level(taker.side, taker.price, remaining)
    if not steps:
        final.open_klines = dict(cursor.open_klines)
        final.last_trade_id = cursor.last_trade_id
        steps.append(final)
    return steps


def first_is_open(step: Step) -> bool:
    """The expired makers' step also takes the first fill (it has no trade yet)."""
    return not step.trades


def resting_view(result: MatchResult, prior: Optional[OrderChange]) -> Order:
    """The order as the book must hold it after `result` (absolute execution figures)."""
    if prior is None:
        return result.taker
    return dataclasses.replace(
        result.taker, quantity=prior.order.quantity, quote_amount=prior.order.quote_amount,
        executed_qty=prior.order.executed_qty + result.taker.executed_qty,
        executed_quote=prior.order.executed_quote + result.taker.executed_quote,
        status=OrderStatus.PARTIALLY_FILLED if result.taker.status is OrderStatus.NEW else result.taker.status)


def continuation(stored: Order) -> Order:
    """A crash-interrupted taker as a fresh order for what is left of it.

    It continues as IOC: its earlier fills are committed and cannot be undone, so a FOK
    can no longer promise all-or-nothing.
    """
    from chalicelib.domain.orders import OrderType, TimeInForce

    tif = TimeInForce.IOC if stored.time_in_force is TimeInForce.FOK else stored.time_in_force
    if stored.is_market_buy:
        return dataclasses.replace(stored, quote_amount=stored.quote_amount - stored.executed_quote,
                                   executed_qty=ZERO, executed_quote=ZERO, status=OrderStatus.NEW,
                                   time_in_force=tif)
    return dataclasses.replace(stored, quantity=stored.quantity - stored.executed_qty, executed_qty=ZERO,
                               executed_quote=ZERO, status=OrderStatus.NEW, time_in_force=tif)


def cancel_step(order: Order, level_after: Decimal, book_version: int) -> Step:
    """Taking a cancelled order off the book: only its price level changes."""
    step = Step(book_version=book_version, finishes_work=True)
    step.depth[(order.side, order.price)] = level_after
    return step


def _receive_asset(order: Order, assets: Assets) -> str:
    return assets.base if order.side is Side.BUY else assets.quote


def _lock_asset(order: Order, assets: Assets) -> str:
    return assets.quote if order.side is Side.BUY else assets.base


def _release(order: Order, assets: Assets, amount: Decimal) -> list[Posting]:
    if amount <= 0:
        return []
    return money.postings(Subject.ORDER_UNLOCK, money.unlock(order.account_id, _lock_asset(order, assets), amount))


def _fill_postings(trade: Trade, assets: Assets, taker_order_id: int) -> list[Posting]:
    shard = fee_shard(taker_order_id)
    entries = money.postings(Subject.TRADE, [
        Movement(trade.buyer_account, assets.quote, locked=-trade.quote_qty),
        Movement(trade.buyer_account, assets.base, available=trade.qty),
        Movement(trade.seller_account, assets.base, locked=-trade.qty),
        Movement(trade.seller_account, assets.quote, available=trade.quote_qty),
    ])
    if trade.buyer_fee:
        entries += money.postings(Subject.FEE, money.transfer(
            trade.buyer_account, money.fee_account(trade.buyer_org, shard), assets.base, trade.buyer_fee))
    if trade.seller_fee:
        entries += money.postings(Subject.FEE, money.transfer(
            trade.seller_account, money.fee_account(trade.seller_org, shard), assets.quote, trade.seller_fee))
    return entries
