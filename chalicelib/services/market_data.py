"""Public market data, read from what the matcher maintains (never by scanning the book)."""
from __future__ import annotations

import time
from decimal import Decimal
from typing import Optional

from chalicelib.domain import market_data as rules
from chalicelib.domain.errors import InvalidParameter
from chalicelib.domain.market_data import Depth, DepthLevel, Kline, KlineInterval
from chalicelib.domain.trades import Trade
from chalicelib.store import market as store

MAX_DEPTH = 5000


def depth(symbol: str, limit: int = 100, scale: Optional[int] = None) -> Depth:
    limit = max(1, min(limit, MAX_DEPTH))
    # merging needs the levels beyond `limit` that fold into the first merged ones
    fetch = MAX_DEPTH if scale is not None else limit
    bids, asks = store.depth(symbol, fetch)
    version = store.market_state(symbol).book_version
    full = Depth(version, tuple(DepthLevel(p, q) for p, q in bids), tuple(DepthLevel(p, q) for p, q in asks))
    if scale is None:
        return full
    return rules.merge_depth(full, scale, limit)


def recent_trades(symbol: str, limit: int = 500) -> list[Trade]:
    """Oldest first, the newest `limit` trades."""
    return list(reversed(store.recent_trades(symbol, max(1, min(limit, 1000)))))


def interval(name: str) -> KlineInterval:
    try:
        return KlineInterval(name)
    except ValueError:
        raise InvalidParameter("interval", f"Invalid interval '{name}'") from None


def klines(symbol: str, interval_name: str, *, start_ms: Optional[int] = None, end_ms: Optional[int] = None,
           limit: int = 1000) -> list[Kline]:
    """Bars oldest first: the closed ones stored, plus the open one from the market state."""
    chosen = interval(interval_name)
    limit = max(1, min(limit, 1000))
    end_ms = min(end_ms or int(time.time() * 1000), int(time.time() * 1000))
    start_ms = start_ms if start_ms is not None else 0
    bars = store.closed_klines(symbol, chosen, start_ms, end_ms, limit)
    current = store.market_state(symbol).open_klines.get(chosen.value)
    if current is not None and start_ms <= current.open_time <= end_ms:
        bars = [bar for bar in bars if bar.open_time != current.open_time] + [current]
    return bars[-limit:]


def ticker(symbol: str) -> dict:
    """The 24 h rolling figures plus the best prices; zeros when nothing traded."""
    state = store.market_state(symbol)
    bids, asks = store.depth(symbol, 1)
    figures = state.ticker or {}
    if figures and figures.get("close_time", 0) < int(time.time() * 1000) - rules.DAY_MS:
        figures = {"last": figures.get("last")}
    zero = "0"
    return {
        "symbol": symbol, "time": state.updated_at or int(time.time() * 1000),
        "open": figures.get("open", zero), "high": figures.get("high", zero), "low": figures.get("low", zero),
        "last": figures.get("last", zero), "volume": figures.get("volume", zero),
        "quote_volume": figures.get("quote_volume", zero), "trade_count": figures.get("trade_count", 0),
        "change_ratio": figures.get("change_ratio", zero),
        "best_bid": str(bids[0][0]) if bids else zero, "best_bid_qty": str(bids[0][1]) if bids else zero,
        "best_ask": str(asks[0][0]) if asks else zero, "best_ask_qty": str(asks[0][1]) if asks else zero,
    }


def last_price(symbol: str) -> Decimal:
    figures = store.market_state(symbol).ticker or {}
    return Decimal(figures.get("last", "0"))
