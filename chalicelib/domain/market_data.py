"""Market data math: depth, merged depth, klines and 24-hour tickers.

Pure functions on small frozen dataclasses; times are integer milliseconds
since the epoch, UTC. Kline buckets:

- 1m .. 3d are whole multiples of the interval since the epoch (Binance's
  alignment; 3d buckets start on 1970-01-01 and every third day after);
- 1w starts on Monday 00:00 UTC;
- 1M starts on the 1st of the month 00:00 UTC.

A kline's `close_time` is the last millisecond of its bucket (next start - 1).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum

from chalicelib.domain.book import BookSide, OrderBook
from chalicelib.domain.filters import ceil_to_step, floor_to_step
from chalicelib.domain.matching import Fill

ZERO = Decimal(0)
MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
# The epoch was a Thursday; the first Monday 00:00 UTC after it is 4 days later.
_FIRST_MONDAY_MS = 4 * DAY_MS
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS = timedelta(milliseconds=1)
CHANGE_RATIO_STEP = Decimal("0.0001")


# --- depth -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DepthLevel:
    price: Decimal
    qty: Decimal


@dataclass(frozen=True, slots=True)
class Depth:
    """Aggregated levels, bids highest first and asks lowest first, at book `version`."""

    version: int
    bids: tuple[DepthLevel, ...]
    asks: tuple[DepthLevel, ...]


def depth(book: OrderBook, limit: int | None = None) -> Depth:
    """Total remaining quantity per price, at most `limit` levels a side."""
    return Depth(book.version, _side_levels(book.bids, limit), _side_levels(book.asks, limit))


def _side_levels(side: BookSide, limit: int | None) -> tuple[DepthLevel, ...]:
    levels = []
    for level in side.best_first():
        if limit is not None and len(levels) >= limit:
            break
        levels.append(DepthLevel(level.price, level.total_qty))
    return tuple(levels)


def merge_depth(full_depth: Depth, scale: int, limit: int | None = None) -> Depth:
    """Depth re-aggregated on the grid 10^-scale: bids rounded down, asks rounded up.

    Rounding outward never shows a bid above, or an ask below, what the book
    really offers. Pass the full depth and the limit here, so that the last
    merged level shown holds every order that belongs to it.
    """
    grid = Decimal(1).scaleb(-scale)
    bids = _merge(full_depth.bids, lambda price: floor_to_step(price, grid), limit)
    asks = _merge(full_depth.asks, lambda price: ceil_to_step(price, grid), limit)
    return Depth(full_depth.version, bids, asks)


def _merge(levels: Iterable[DepthLevel], to_grid: Callable[[Decimal], Decimal], limit: int | None) -> tuple[DepthLevel, ...]:
    merged: list[DepthLevel] = []
    for level in levels:
        price = to_grid(level.price)
        if merged and merged[-1].price == price:
            merged[-1] = DepthLevel(price, merged[-1].qty + level.qty)
        elif limit is not None and len(merged) >= limit:
            break
        else:
            merged.append(DepthLevel(price, level.qty))
    return tuple(merged)


# --- klines ------------------------------------------------------------------

class KlineInterval(str, Enum):
    MINUTE_1 = "1m"
    MINUTE_3 = "3m"
    MINUTE_5 = "5m"
    MINUTE_15 = "15m"
    MINUTE_30 = "30m"
    HOUR_1 = "1h"
    HOUR_2 = "2h"
    HOUR_4 = "4h"
    HOUR_6 = "6h"
    HOUR_8 = "8h"
    HOUR_12 = "12h"
    DAY_1 = "1d"
    DAY_3 = "3d"
    WEEK_1 = "1w"
    MONTH_1 = "1M"


_FIXED_MS = {
    KlineInterval.MINUTE_1: MINUTE_MS,
    KlineInterval.MINUTE_3: 3 * MINUTE_MS,
    KlineInterval.MINUTE_5: 5 * MINUTE_MS,
    KlineInterval.MINUTE_15: 15 * MINUTE_MS,
    KlineInterval.MINUTE_30: 30 * MINUTE_MS,
    KlineInterval.HOUR_1: HOUR_MS,
    KlineInterval.HOUR_2: 2 * HOUR_MS,
    KlineInterval.HOUR_4: 4 * HOUR_MS,
    KlineInterval.HOUR_6: 6 * HOUR_MS,
    KlineInterval.HOUR_8: 8 * HOUR_MS,
    KlineInterval.HOUR_12: 12 * HOUR_MS,
    KlineInterval.DAY_1: DAY_MS,
    KlineInterval.DAY_3: 3 * DAY_MS,
}


def bucket_start(time_ms: int, interval: KlineInterval) -> int:
    """Open time of the kline bucket that contains `time_ms`."""
    fixed = _FIXED_MS.get(interval)
    if fixed is not None:
        return time_ms - time_ms % fixed
    if interval is KlineInterval.WEEK_1:
        return time_ms - (time_ms - _FIRST_MONDAY_MS) % WEEK_MS
    moment = _EPOCH + time_ms * _ONE_MS
    return _to_ms(datetime(moment.year, moment.month, 1, tzinfo=timezone.utc))


def next_bucket_start(start_ms: int, interval: KlineInterval) -> int:
    """Open time of the bucket after the one that opens at `start_ms`."""
    fixed = _FIXED_MS.get(interval)
    if fixed is not None:
        return start_ms + fixed
    if interval is KlineInterval.WEEK_1:
        return start_ms + WEEK_MS
    moment = _EPOCH + start_ms * _ONE_MS
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return _to_ms(datetime(year, month, 1, tzinfo=timezone.utc))


def _to_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // _ONE_MS


@dataclass(frozen=True, slots=True)
class MarketTrade:
    """A public trade: what klines and tickers are made of."""

    time: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    taker_is_buyer: bool

    @classmethod
    def of_fill(cls, fill: Fill, time_ms: int) -> MarketTrade:
        return cls(time_ms, fill.price, fill.qty, fill.quote_qty, not fill.is_buyer_maker)


@dataclass(frozen=True, slots=True)
class Kline:
    interval: KlineInterval
    open_time: int
    close_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    trade_count: int
    taker_buy_volume: Decimal
    taker_buy_quote_volume: Decimal


def add_trade(kline: Kline | None, interval: KlineInterval, trade: MarketTrade) -> Kline:
    """The kline of the trade's bucket with the trade counted in.

    `kline` is the stored kline of that bucket, or None if it has none yet.
    """
    start = bucket_start(trade.time, interval)
    buy_qty = trade.qty if trade.taker_is_buyer else ZERO
    buy_quote = trade.quote_qty if trade.taker_is_buyer else ZERO
    if kline is None:
        return Kline(
            interval, start, next_bucket_start(start, interval) - 1,
            trade.price, trade.price, trade.price, trade.price,
            trade.qty, trade.quote_qty, 1, buy_qty, buy_quote,
        )
    if kline.interval is not interval or kline.open_time != start:
        raise ValueError(f"trade at {trade.time} is not in the {interval.value} kline opening at {kline.open_time}")
    return replace(
        kline,
        high=max(kline.high, trade.price),
        low=min(kline.low, trade.price),
        close=trade.price,
        volume=kline.volume + trade.qty,
        quote_volume=kline.quote_volume + trade.quote_qty,
        trade_count=kline.trade_count + 1,
        taker_buy_volume=kline.taker_buy_volume + buy_qty,
        taker_buy_quote_volume=kline.taker_buy_quote_volume + buy_quote,
    )


def roll_up(klines: Iterable[Kline], interval: KlineInterval) -> list[Kline]:
    """Klines of a longer `interval` built from shorter ones given oldest first."""
    rolled: list[Kline] = []
    for kline in klines:
        start = bucket_start(kline.open_time, interval)
        if rolled and rolled[-1].open_time == start:
            rolled[-1] = _combine(rolled[-1], kline)
        else:
            rolled.append(replace(kline, interval=interval, open_time=start,
                                  close_time=next_bucket_start(start, interval) - 1))
    return rolled


def _combine(earlier: Kline, later: Kline) -> Kline:
    return replace(
        earlier,
        high=max(earlier.high, later.high),
        low=min(earlier.low, later.low),
        close=later.close,
        volume=earlier.volume + later.volume,
        quote_volume=earlier.quote_volume + later.quote_volume,
        trade_count=earlier.trade_count + later.trade_count,
        taker_buy_volume=earlier.taker_buy_volume + later.taker_buy_volume,
        taker_buy_quote_volume=earlier.taker_buy_quote_volume + later.taker_buy_quote_volume,
    )


# --- 24-hour ticker ----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Ticker24h:
    open_time: int
    close_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    last: Decimal
    volume: Decimal
    quote_volume: Decimal
    trade_count: int

    @property
    def price_change(self) -> Decimal:
        return self.last - self.open

    @property
    def price_change_ratio(self) -> Decimal:
        """(last - open) / open to 4 decimals, half up (BHEX realtimes `m`)."""
        return (self.price_change / self.open).quantize(CHANGE_RATIO_STEP, rounding=ROUND_HALF_UP)


def ticker_24h(minute_klines: Iterable[Kline], now_ms: int) -> Ticker24h | None:
    """The rolling 24 hours up to `now_ms`, rolled up from 1m klines given oldest first.

    The window is the 1440 minute buckets ending with the one that holds `now_ms`.
    None when nothing traded in the window.
    """
    window_start = bucket_start(now_ms, KlineInterval.MINUTE_1) - DAY_MS + MINUTE_MS
    in_window = [k for k in minute_klines if window_start <= k.open_time <= now_ms]
    if not in_window:
        return None
    total = in_window[0]
    for kline in in_window[1:]:
        total = _combine(total, kline)
    return Ticker24h(
        window_start, now_ms, total.open, total.high, total.low, total.close,
        total.volume, total.quote_volume, total.trade_count,
    )
