"""Matching one incoming order against a book: price-time priority, planned as data.

`match` does not change the book or the order. It returns a `MatchResult` that
says everything the service must commit (fills, fees, each order's new state,
what each lock gave to counterparties and what it gives back) and that
`OrderBook.apply` then makes true in memory. Plan, commit, apply: a failed
commit leaves the cache untouched.

Rules:

- Fills happen at the maker's price, best level first, oldest order first.
- quote qty of a fill = price * qty, exact (both are on their grids).
- LIMIT GTC: the unfilled remainder rests. IOC: it is canceled. FOK: the order
  fills completely or not at all; a killed FOK has no effect on the book.
- LIMIT_MAKER: rejected if it would cross the opposite best price, else rests.
- MARKET SELL sells its base quantity; the unfilled remainder is canceled.
- MARKET BUY spends a quote amount: at each maker it buys
  floor(quote left / price, step) (capped by the maker's size), and stops when
  the quote left cannot buy one step at the next price. It is FILLED if it
  stopped that way after buying something, CANCELED if the book ran out first;
  either way the quote left is released.
- Fees: see `fees`; each fill carries both sides' fee and fee asset.
- `is_buyer_maker` has its true meaning (the resting order is the buyer); the
  BHEX wire inverts it, and that is the API layer's business.

Self-trade prevention is EXPIRE_MAKER: when the taker meets a resting order
with the same `self_trade_key` (by default the account), the resting order is
canceled with its lock released (listed in `expired_makers`) and matching goes
on with the next one. The newest instruction wins, as with Binance's default
mode, so a market maker re-quoting through its own stale quote is not blocked.
Only resting orders the taker actually reaches are expired, and a FOK that is
killed or a LIMIT_MAKER that is rejected expires nothing.

Status words follow BHEX, which has no EXPIRED: a remainder canceled by IOC,
FOK or MARKET rules, and a self-trade-expired maker, end as CANCELED; a
LIMIT_MAKER that would take ends as REJECTED.
"""
from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import NamedTuple

from chalicelib.domain.book import OrderBook
from chalicelib.domain.fees import FeeSchedule, Role, fee_terms
from chalicelib.domain.filters import SymbolRules
from chalicelib.domain.orders import (
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    funds_to_lock,
    locked_remainder,
    with_execution,
)

ZERO = Decimal(0)


class TakerOutcome(str, Enum):
    RESTED = "RESTED"
    FILLED = "FILLED"
    IOC_REMAINDER_CANCELED = "IOC_REMAINDER_CANCELED"
    FOK_KILLED = "FOK_KILLED"
    LIMIT_MAKER_REJECTED = "LIMIT_MAKER_REJECTED"
    MARKET_REMAINDER_CANCELED = "MARKET_REMAINDER_CANCELED"


# Reading an enum member through its class costs about 200 ns on CPython 3.11
# (a metaclass lookup); the hot path reads these module names instead.
_BUY = Side.BUY
_SELL = Side.SELL
_MAKER = Role.MAKER
_TAKER = Role.TAKER
_MARKET = OrderType.MARKET
_LIMIT_MAKER = OrderType.LIMIT_MAKER
_IOC = TimeInForce.IOC
_FOK = TimeInForce.FOK
_NEW = OrderStatus.NEW
_PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
_FILLED = OrderStatus.FILLED
_CANCELED = OrderStatus.CANCELED
_REJECTED = OrderStatus.REJECTED
_RESTED = TakerOutcome.RESTED
_TAKER_FILLED = TakerOutcome.FILLED
_IOC_REMAINDER_CANCELED = TakerOutcome.IOC_REMAINDER_CANCELED
_FOK_KILLED = TakerOutcome.FOK_KILLED
_LIMIT_MAKER_REJECTED = TakerOutcome.LIMIT_MAKER_REJECTED
_MARKET_REMAINDER_CANCELED = TakerOutcome.MARKET_REMAINDER_CANCELED


# The records below are NamedTuples rather than frozen dataclasses: they are
# immutable all the same and three times cheaper to build, and the matcher
# builds several per order.


class Fill(NamedTuple):
    """One trade between a resting order (maker) and the incoming one (taker)."""

    maker_order_id: int
    taker_order_id: int
    maker_account_id: str
    taker_account_id: str
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    is_buyer_maker: bool
    maker_fee: Decimal
    maker_fee_asset: str
    taker_fee: Decimal
    taker_fee_asset: str


class OrderUpdate(NamedTuple):
    """How one order changed in one match (or cancel).

    `executed_*` are cumulative after the change; `filled_*`, `fee`, `lock_used`
    and `lock_released` cover this change only. The lock is in the asset the
    order pays (quote for a BUY, base for a SELL); the fee is in the asset it
    receives. Settlement: locked -= lock_used + lock_released,
    available(lock asset) += lock_released,
    available(receive asset) += received - fee.
    """

    order_id: int
    account_id: str
    status: OrderStatus
    executed_qty: Decimal
    executed_quote: Decimal
    filled_qty: Decimal = ZERO
    filled_quote: Decimal = ZERO
    fee: Decimal = ZERO
    lock_used: Decimal = ZERO
    lock_released: Decimal = ZERO


class MatchResult(NamedTuple):
    """The plan for one taker, computed against book `book_version`.

    `taker` is the taker's final state; when it rests, its `priority` is
    `book_version + 1`, the version the book will have once this is applied.
    """

    book_version: int
    outcome: TakerOutcome
    taker: Order
    taker_update: OrderUpdate
    fills: tuple[Fill, ...] = ()
    maker_updates: tuple[OrderUpdate, ...] = ()
    expired_makers: tuple[OrderUpdate, ...] = ()

    @property
    def rests(self) -> bool:
        return self.outcome is _RESTED


def cancel_update(order: Order) -> OrderUpdate:
    """The update that cancels an open order and releases what its lock still holds."""
    return OrderUpdate(
        order.order_id,
        order.account_id,
        _CANCELED,
        order.executed_qty,
        order.executed_quote,
        lock_released=locked_remainder(order),
    )


def match(book: OrderBook, taker: Order, rules: SymbolRules, fee_schedule: FeeSchedule) -> MatchResult:
    """Plan the execution of a new, validated order against `book` (which is not changed)."""
    _check_taker(book, taker)
    is_buy = taker.side is _BUY
    best = (book.asks if is_buy else book.bids).best()
    limit = taker.price
    if best is None or (limit is not None and (limit < best.price if is_buy else limit > best.price)):
        return _without_liquidity(book, taker)
    if taker.type is _LIMIT_MAKER:
        return _unexecuted(book, taker, _REJECTED, _LIMIT_MAKER_REJECTED)
    return _take_liquidity(book, taker, rules, fee_schedule)


def _check_taker(book: OrderBook, taker: Order) -> None:
    if taker.symbol != book.symbol:
        raise ValueError(f"order {taker.order_id} is for {taker.symbol}, the book is {book.symbol}")
    if taker.status is not _NEW or taker.executed_qty or taker.executed_quote:
        raise ValueError(f"order {taker.order_id} is not a new order")
    if taker.order_id in book:
        raise ValueError(f"order {taker.order_id} is already on the book")


def _without_liquidity(book: OrderBook, taker: Order) -> MatchResult:
    """Nothing on the other side crosses: a GTC limit rests, anything else is canceled whole."""
    if taker.type is _MARKET:
        return _unexecuted(book, taker, _CANCELED, _MARKET_REMAINDER_CANCELED)
    if taker.time_in_force is _IOC:
        return _unexecuted(book, taker, _CANCELED, _IOC_REMAINDER_CANCELED)
    if taker.time_in_force is _FOK:
        return _unexecuted(book, taker, _CANCELED, _FOK_KILLED)
    resting = with_execution(taker, ZERO, ZERO, _NEW, book.version + 1)
    update = OrderUpdate(taker.order_id, taker.account_id, _NEW, ZERO, ZERO)
    return MatchResult(book.version, _RESTED, resting, update)


def _unexecuted(book: OrderBook, taker: Order, status: OrderStatus, outcome: TakerOutcome) -> MatchResult:
    final = with_execution(taker, ZERO, ZERO, status)
    update = OrderUpdate(taker.order_id, taker.account_id, status, ZERO, ZERO, lock_released=funds_to_lock(taker))
    return MatchResult(book.version, outcome, final, update)


def _take_liquidity(book: OrderBook, taker: Order, rules: SymbolRules, fee_schedule: FeeSchedule) -> MatchResult:
    is_buy = taker.side is _BUY
    limit = taker.price
    market_buy = taker.type is _MARKET and is_buy
    step = rules.step_size
    remaining = taker.quantity
    quote_left = taker.quote_amount if market_buy else ZERO
    unit = ZERO  # price of one step at the current level, for a MARKET BUY
    stp_key = taker.self_trade_key
    symbol = book.symbol
    maker_side = _SELL if is_buy else _BUY
    taker_fee = fee_terms(taker.side, _TAKER, fee_schedule.rates_for(taker.org_id, symbol), rules)
    maker_fee_by_org = {}
    fills: list[Fill] = []
    maker_updates: list[OrderUpdate] = []
    expired: list[OrderUpdate] = []
    exec_qty = exec_quote = taker_fee_total = released = ZERO
    out_of_quote = False

    for level in (book.asks if is_buy else book.bids).best_first():
        price = level.price
        if limit is not None and (price > limit if is_buy else price < limit):
            break
        if market_buy:
            unit = price * step
            if quote_left < unit:
                out_of_quote = True
                break
        taker_done = False
        for maker in level.orders.values():
            if maker.self_trade_key == stp_key:
                expired.append(cancel_update(maker))
                continue
            maker_left = maker.quantity - maker.executed_qty
            wanted = (quote_left // unit) * step if market_buy else remaining
            qty = maker_left if maker_left <= wanted else wanted
            quote = price * qty

            maker_fee = maker_fee_by_org.get(maker.org_id)
            if maker_fee is None:
                maker_rates = fee_schedule.rates_for(maker.org_id, symbol)
                maker_fee = maker_fee_by_org[maker.org_id] = fee_terms(maker_side, _MAKER, maker_rates, rules)
            maker_paid = maker_fee.charge(qty, quote)
            taker_paid = taker_fee.charge(qty, quote)
            fills.append(Fill(
                maker.order_id, taker.order_id, maker.account_id, taker.account_id,
                price, qty, quote, not is_buy,
                maker_paid, maker_fee.asset, taker_paid, taker_fee.asset,
            ))
            maker_updates.append(OrderUpdate(
                maker.order_id,
                maker.account_id,
                _FILLED if qty == maker_left else _PARTIALLY_FILLED,
                maker.executed_qty + qty,
                maker.executed_quote + quote,
                qty,
                quote,
                maker_paid,
                qty if is_buy else quote,  # the maker sells base or pays quote
            ))
            exec_qty += qty
            exec_quote += quote
            taker_fee_total += taker_paid
            if market_buy:
                quote_left -= quote
                if quote_left < unit:
                    out_of_quote = taker_done = True
                    break
            else:
                if is_buy and limit is not None:
                    released += (limit - price) * qty  # bought below the limit the lock was sized for
                remaining -= qty
                if not remaining:
                    taker_done = True
                    break
        if taker_done:
            break

    tif = taker.time_in_force
    if not market_buy and remaining and tif is _FOK:
        return _unexecuted(book, taker, _CANCELED, _FOK_KILLED)

    priority = None
    if market_buy:
        released += quote_left
        filled = out_of_quote and exec_qty > ZERO
        status = _FILLED if filled else _CANCELED
        outcome = _TAKER_FILLED if filled else _MARKET_REMAINDER_CANCELED
    elif not remaining:
        status, outcome = _FILLED, _TAKER_FILLED
    elif taker.type is _MARKET or tif is _IOC:
        released += remaining * limit if is_buy else remaining
        status = _CANCELED
        outcome = (
            _MARKET_REMAINDER_CANCELED
            if taker.type is _MARKET
            else _IOC_REMAINDER_CANCELED
        )
    else:
        status = _PARTIALLY_FILLED if exec_qty else _NEW
        outcome = _RESTED
        priority = book.version + 1

    taker_update = OrderUpdate(
        taker.order_id,
        taker.account_id,
        status,
        exec_qty,
        exec_quote,
        exec_qty,
        exec_quote,
        taker_fee_total,
        exec_quote if is_buy else exec_qty,
        released,
    )
    return MatchResult(
        book.version,
        outcome,
        with_execution(taker, exec_qty, exec_quote, status, priority),
        taker_update,
        tuple(fills),
        tuple(maker_updates),
        tuple(expired),
    )
