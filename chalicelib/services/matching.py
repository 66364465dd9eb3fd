"""The matcher: the only writer of fills for a symbol (its SQS FIFO message group).

For each batch of work it loads (or reuses) the symbol's book, plans every order with the
pure matching core, and commits the resulting steps in as few transactions as the
100-item limit allows, touching each item once per transaction.

Safety, in order of defence:
- every commit is conditioned on the symbol's market-state version, so two matchers can
  never both commit from one state (a redelivery that overlaps a slow run loses);
- every order row it writes is conditioned on the version it read, so a fill can never
  take quantity that a cancel already released;
- a work item is deleted (conditioned on existing) in the commit that finishes it, so a
  redelivered message finds nothing to do.
When any of these conditions fails, the in-memory cache is dropped, the book is rebuilt
from the table and the batch is planned again: that is how a stale cache is repaired.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Optional

from chalicelib.domain import settlement
from chalicelib.domain.book import OrderBook
from chalicelib.domain.errors import ConcurrentUpdate, InsufficientBalance
from chalicelib.domain.events import Event, org_stream, symbol_stream, user_stream
from chalicelib.domain.ledger import Movement, Posting
from chalicelib.domain.market_data import DAY_MS, Kline, KlineInterval, ticker_24h
from chalicelib.domain.matching import match
from chalicelib.domain.orders import Order, OrderStatus, Side
from chalicelib.domain.settlement import OrderChange, Step
from chalicelib.services import catalog, ledger
from chalicelib.services.orders import order_view, trade_view
from chalicelib.store import faults
from chalicelib.store import market as market_store
from chalicelib.store import orders as order_store
from chalicelib.store.orders import StoredOrder, Work
from chalicelib.store.transaction import MAX_ITEMS, Transaction, run_with_retries

log = logging.getLogger(__name__)
ATTEMPTS = 6


class _StaleState(Exception):
    """A condition the matcher relies on failed: rebuild and plan again."""


@dataclass
class SymbolCache:
    book: OrderBook
    state: market_store.MarketState
    stored: dict[int, StoredOrder]
    minute_klines: list[Kline] = field(default_factory=list)


_caches: dict[str, SymbolCache] = {}


def drop_cache(symbol: Optional[str] = None) -> None:
    if symbol is None:
        _caches.clear()
    else:
        _caches.pop(symbol, None)


def process(symbol: str, exchange_id: str, works: list[Work]) -> None:
    """Does the given work of one symbol, in order. Safe to repeat; raises if it cannot."""
    for attempt in range(ATTEMPTS):
        try:
            _process_once(symbol, exchange_id, works)
            return
        except _StaleState:
            drop_cache(symbol)
            time.sleep(0.005 * attempt)
        except Exception:
            drop_cache(symbol)
            raise
    raise ConcurrentUpdate(f"matcher for {symbol} could not commit after {ATTEMPTS} attempts")


def _load(symbol: str) -> SymbolCache:
    state = market_store.market_state(symbol)
    cached = _caches.get(symbol)
    if cached is not None and cached.state.version == state.version:
        return cached
    resting = market_store_resting(symbol)
    book = OrderBook.rebuild(symbol, [s.order for s in resting], state.book_version)
    cache = SymbolCache(book, state, {s.order.order_id: s for s in resting})
    cache.minute_klines = market_store.minute_klines_since(symbol, int(time.time() * 1000) - DAY_MS)
    _repair_depth(symbol, _depth_differences(symbol, book), state.version)
    _caches[symbol] = cache
    return cache


def _repair_depth(symbol: str, repairs: dict[tuple[Side, Decimal], Decimal], state_version: int) -> None:
    """Writes the levels a rebuild found wrong, in chunks fenced on the market state."""
    pending = list(repairs.items())
    while pending:
        chunk, pending = pending[:MAX_ITEMS - 1], pending[MAX_ITEMS - 1:]
        tx = Transaction()
        market_store.check_market_version(tx, symbol, state_version, on_changed=_StaleState(f"market {symbol} moved"))
        for (side, price), qty in chunk:
            market_store.stage_depth_level(tx, symbol, side, price, qty)
        tx.commit()


def market_store_resting(symbol: str) -> list[StoredOrder]:
    return [s for s in order_store.resting_on(symbol) if s.order.is_open]


def _depth_differences(symbol: str, book: OrderBook) -> dict[tuple[Side, Decimal], Decimal]:
    """Levels whose stored quantity disagrees with the rebuilt book (written in the next commit)."""
    stored_bids, stored_asks = market_store.depth(symbol, 100000)
    actual = {(Side.BUY, level.price): level.total_qty for level in book.bids.best_first()}
    actual.update({(Side.SELL, level.price): level.total_qty for level in book.asks.best_first()})
    stored = {(Side.BUY, p): q for p, q in stored_bids}
    stored.update({(Side.SELL, p): q for p, q in stored_asks})
    return {key: actual.get(key, Decimal(0)) for key in set(actual) | set(stored)
            if actual.get(key, Decimal(0)) != stored.get(key, Decimal(0))}


def _process_once(symbol: str, exchange_id: str, works: list[Work]) -> None:
    cache = _load(symbol)
    rules = catalog.exchange_rules(exchange_id, symbol)
    fees = catalog.fee_schedule(exchange_id, symbol)
    assets = settlement.Assets(rules.base_asset, rules.quote_asset)
    cursor = settlement.MarketCursor(cache.state.last_trade_id, dict(cache.state.open_klines))
    batch = _Batch(cache, symbol)
    planned: set[str] = set()
    for work in works:
        if work.dedup_id in planned or not order_store.work_exists(work):
            continue  # a duplicate delivery, in this batch or of work already committed
        planned.add(work.dedup_id)
        now = int(time.time() * 1000)
        if work.kind == "cancel":
            steps = _plan_cancel(cache, work)
        else:
            steps = _plan_place(cache, work, rules, fees, assets, cursor, now)
        for step, expected in steps:
            batch.add(step, expected, work if step.finishes_work else None)
    batch.flush()
    cache.minute_klines = [k for k in cache.minute_klines + cursor.closed_minutes
                           if k.open_time >= int(time.time() * 1000) - DAY_MS]


def _plan_cancel(cache: SymbolCache, work: Work) -> list[tuple[Step, dict]]:
    removed = cache.book.cancel(work.order_id)
    cache.stored.pop(work.order_id, None)
    if removed is None:
        return [(Step(book_version=cache.book.version, finishes_work=True), {})]
    level = cache.book.side(removed.side).level_at(removed.price)
    return [(settlement.cancel_step(removed, level.total_qty if level else Decimal(0), cache.book.version), {})]


def _plan_place(cache, work, rules, fees, assets, cursor, now) -> list[tuple[Step, dict]]:
    stored = order_store.get(work.order_id)
    if stored is None or stored.order.status.is_final or work.order_id in cache.book:
        return [(Step(book_version=cache.book.version, finishes_work=True), {})]
    prior = None
    taker = stored.order
    if taker.executed_qty or taker.executed_quote:
        prior = OrderChange(stored.order, stored.fee_paid, stored.fee_asset, resting=False)
        taker = settlement.continuation(stored.order)
    result = match(cache.book, taker, rules, fees)

    def level_qty(side: Side, price: Decimal) -> Decimal:
        level = cache.book.side(side).level_at(price)
        return level.total_qty if level else Decimal(0)

    def maker_state(order_id: int) -> OrderChange:
        maker = cache.stored[order_id]
        return OrderChange(cache.book.get(order_id), maker.fee_paid, maker.fee_asset, resting=True)

    steps = settlement.settle(result, assets=assets, now_ms=now, cursor=cursor, level_qty=level_qty,
                              book_version=cache.book.version, makers=maker_state, prior=prior)
    expected = {order_id: cache.stored[order_id].version for step in steps for order_id in step.orders
                if order_id in cache.stored}
    expected[taker.order_id] = stored.version
    cache.book.apply(result._replace(taker=settlement.resting_view(result, prior)))
    for order_id, change in steps[-1].orders.items():
        if change.resting:
            # the row keeps its persisted version until a commit writes it (see _Batch.flush)
            cache.stored[order_id] = StoredOrder(change.order, work.exchange_id, change.fee_paid,
                                                 change.fee_asset, expected[order_id], now)
        else:
            cache.stored.pop(order_id, None)
    return [(step, expected) for step in steps]


class _Batch:
    """Packs steps into transactions of at most MAX_ITEMS items, merging repeated items."""

    def __init__(self, cache: SymbolCache, symbol: str) -> None:
        self.cache = cache
        self.symbol = symbol
        self.written_versions: dict[int, int] = {}
        self._reset()

    def _reset(self) -> None:
        self.orders: dict[int, tuple[OrderChange, int]] = {}
        self.trades: list = []
        self.postings: list[Posting] = []
        self.depth: dict[tuple[Side, Decimal], Decimal] = {}
        self.closed: dict[tuple[str, int], Kline] = {}
        self.works: list[Work] = []
        self.last: Optional[Step] = None
        # A cancel or a no-op step carries no trade id and no klines: the commit's market
        # state takes them from the last step of this commit that had them.
        self.last_trade_id = 0
        self.open_klines: dict = {}

    def _count(self, step: Optional[Step] = None, work: Optional[Work] = None) -> int:
        orders = set(self.orders) | (set(step.orders) if step else set())
        postings = self.postings + (step.postings if step else [])
        balances = {(p.movement.account_id, p.movement.token) for p in postings}
        flows = {(p.movement.account_id, p.movement.token, p.subject) for p in postings}
        depth = set(self.depth) | (set(step.depth) if step else set())
        closed = set(self.closed) | (set(step.closed_klines) if step else set())
        trades = len(self.trades) + (len(step.trades) if step else 0)
        works = len(self.works) + (1 if work else 0)
        return len(orders) + len(balances) + len(flows) + len(depth) + len(closed) + trades + works + 2

    def add(self, step: Step, expected: dict[int, int], work: Optional[Work]) -> None:
        if self.last is not None and self._count(step, work) > MAX_ITEMS:
            self.flush()
        for order_id, change in step.orders.items():
            known = self.orders.get(order_id)
            version = known[1] if known else self.written_versions.get(order_id, expected[order_id])
            self.orders[order_id] = (change, version)
        self.trades += step.trades
        self.postings += step.postings
        self.depth.update(step.depth)
        self.closed.update(step.closed_klines)
        if work is not None:
            self.works.append(work)
        if step.last_trade_id:
            self.last_trade_id = step.last_trade_id
        if step.open_klines:
            self.open_klines = step.open_klines
        self.last = step

    def flush(self) -> None:
        if self.last is None:
            return
        step = self.last
        state = self.cache.state
        new_state = market_store.MarketState(
            self.symbol, state.version + 1, step.book_version,
            self.last_trade_id or state.last_trade_id, self.open_klines or state.open_klines,
            None, int(time.time() * 1000))
        new_state.ticker = _ticker(self.cache, new_state)
        postings = _merge_postings(self.postings)
        order_versions: dict[int, int] = {}

        def commit() -> None:
            tx = Transaction()
            for order_id, (change, expected) in self.orders.items():
                current = self.cache.stored.get(order_id)
                exchange_id = current.exchange_id if current else self.works[0].exchange_id if self.works else ""
                stored = StoredOrder(change.order, exchange_id, change.fee_paid, change.fee_asset, expected + 1,
                                     new_state.updated_at)
                order_store.stage_change(tx, stored, expected, resting=change.resting,
                                         on_changed=_StaleState(f"order {order_id} changed"))
                order_versions[order_id] = expected + 1
            for trade in self.trades:
                market_store.stage_trade(tx, trade, on_taken=_StaleState(f"trade id {trade.trade_id} is taken"))
            if postings:
                try:
                    ledger.stage(tx, postings, reference=f"match:{self.symbol}:{new_state.version}")
                except InsufficientBalance as stale:
                    # Locks cover every fill, so a shortfall means a cancel released the lock
                    # after this plan was made: plan again from the table.
                    raise _StaleState("a lock this plan relies on was released") from stale
            for (side, price), qty in self.depth.items():
                market_store.stage_depth_level(tx, self.symbol, side, price, qty)
            for kline in self.closed.values():
                market_store.stage_closed_kline(tx, self.symbol, kline)
            for work in self.works:
                order_store.stage_work_done(tx, work, on_missing=_StaleState(f"{work.dedup_id} already done"))
            market_store.stage_market_state(tx, new_state, state.version,
                                            on_changed=_StaleState(f"market {self.symbol} moved"))
            tx.emit(*_events(self.symbol, self.orders, self.trades, self.depth, new_state, self.cache))
            faults.reach("matcher.before_commit")
            tx.commit()

        run_with_retries(commit)
        faults.reach("matcher.after_commit")
        self.written_versions.update(order_versions)
        for order_id, version in order_versions.items():
            if order_id in self.cache.stored:
                self.cache.stored[order_id] = dataclasses.replace(self.cache.stored[order_id], version=version)
        self.cache.state = new_state
        self._reset()


def _merge_postings(postings: list[Posting]) -> list[Posting]:
    """One posting per (balance, subject) per transaction: flows aggregate a batch."""
    totals: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for posting in postings:
        m = posting.movement
        parts = totals[(m.account_id, m.token, posting.subject)]
        parts[0] += m.available
        parts[1] += m.locked
        parts[2] += m.position
    merged = [Posting(Movement(account, token, *parts), subject) for (account, token, subject), parts in totals.items()]
    return [p for p in merged if not p.movement.is_empty()]


def _ticker(cache: SymbolCache, state: market_store.MarketState) -> Optional[dict]:
    current_minute = state.open_klines.get(KlineInterval.MINUTE_1.value)
    minutes = [k for k in cache.minute_klines if not current_minute or k.open_time < current_minute.open_time]
    if current_minute:
        minutes.append(current_minute)
    ticker = ticker_24h(sorted(minutes, key=lambda k: k.open_time), state.updated_at)
    if ticker is None:
        return cache.state.ticker
    return {"open_time": ticker.open_time, "close_time": ticker.close_time, "open": str(ticker.open),
            "high": str(ticker.high), "low": str(ticker.low), "last": str(ticker.last),
            "volume": str(ticker.volume), "quote_volume": str(ticker.quote_volume),
            "trade_count": ticker.trade_count, "change_ratio": str(ticker.price_change_ratio)}


def _events(symbol, orders, trades, depth, state, cache) -> list[Event]:
    events: list[Event] = []
    fills_by_order: dict[int, list[dict]] = defaultdict(list)
    for trade in trades:
        for account_id, order_id in ((trade.buyer_account, trade.buyer_order_id),
                                     (trade.seller_account, trade.seller_order_id)):
            fills_by_order[order_id].append(trade_view(trade, account_id))
        for org_id, account_id, uid in ((trade.buyer_org, trade.buyer_account, trade.buyer_uid),
                                        (trade.seller_org, trade.seller_account, trade.seller_uid)):
            view = trade_view(trade, account_id)
            if trade.buyer_org != trade.seller_org:
                view["match_order_id"] = ""  # nothing about another org's counterparty leaves the platform
            events.append(Event(org_stream(org_id), "org.tradeMatch", {**view, "uid": uid}, org_id, uid))
    for order_id, (change, _) in orders.items():
        order = change.order
        view = order_view(StoredOrder(order, "", change.fee_paid, change.fee_asset, 0, state.updated_at))
        events.append(Event(user_stream(order.user_id), "order", {**view, "fills": fills_by_order.get(order_id, [])},
                            order.org_id, order.user_id))
    public_trades = [{"id": str(t.trade_id), "time": t.time, "price": str(t.price), "qty": str(t.qty),
                      "buyer_is_maker": t.buyer_is_maker} for t in trades]
    events.append(Event(symbol_stream(symbol), "market", {
        "symbol": symbol, "trades": public_trades,
        "depth": [{"side": side.value, "price": str(price), "qty": str(qty)} for (side, price), qty in depth.items()],
        "best_bid": str(cache.book.best_bid()) if cache.book.best_bid() is not None else None,
        "best_ask": str(cache.book.best_ask()) if cache.book.best_ask() is not None else None,
        "klines": {name: market_store.kline_to_json(k) for name, k in state.open_klines.items()} if trades else {},
        "ticker": state.ticker, "time": state.updated_at, "version": state.version,
    }))
    return events
