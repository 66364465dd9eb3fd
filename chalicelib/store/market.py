"""Trades, depth levels, klines and the per-symbol market state the matcher fences on.

`MarketState` is one item per symbol: the matcher's version (every matcher commit is
conditioned on it, so two matchers can never both commit from the same state), the book
version, the last trade id, the open kline of every interval and the 24 h ticker. Closed
klines are items of their own; depth is one item per price level, read best first.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Optional

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from chalicelib.domain.market_data import Kline, KlineInterval
from chalicelib.domain.orders import Side
from chalicelib.domain.trades import Trade
from chalicelib.store.attributes import DecimalAttribute, IntegerAttribute
from chalicelib.store.table import Entity, Gsi1, Gsi2, padded, NOTHING, id_range
from chalicelib.store.transaction import Transaction

PRICE_SCALE = 10 ** 18
PRICE_KEY_WIDTH = 40
_MAX_PRICE_KEY = 10 ** PRICE_KEY_WIDTH - 1


class TradeRecord(Entity):
    gsi1 = Gsi1()
    gsi2 = Gsi2()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    trade_id = IntegerAttribute()
    symbol = UnicodeAttribute()
    price = DecimalAttribute()
    qty = DecimalAttribute()
    quote_qty = DecimalAttribute()
    buyer_order_id = IntegerAttribute()
    seller_order_id = IntegerAttribute()
    buyer_account = UnicodeAttribute()
    seller_account = UnicodeAttribute()
    buyer_org = UnicodeAttribute()
    seller_org = UnicodeAttribute()
    buyer_uid = UnicodeAttribute()
    seller_uid = UnicodeAttribute()
    buyer_fee = DecimalAttribute()
    buyer_fee_asset = UnicodeAttribute()
    seller_fee = DecimalAttribute()
    seller_fee_asset = UnicodeAttribute()
    buyer_is_maker = BooleanAttribute()
    time = IntegerAttribute()


def _trade_record(trade: Trade) -> TradeRecord:
    return TradeRecord(
        f"TRADE#{trade.symbol}", padded(trade.trade_id),
        gsi1pk=f"BUYS#{trade.buyer_account}", gsi1sk=padded(trade.trade_id),
        gsi2pk=f"SELLS#{trade.seller_account}", gsi2sk=padded(trade.trade_id),
        **{name: getattr(trade, name) for name in Trade.__dataclass_fields__},
    )


def _trade(record: TradeRecord) -> Trade:
    return Trade(**{name: getattr(record, name) for name in Trade.__dataclass_fields__})


def stage_trade(tx: Transaction, trade: Trade, *, on_taken: Optional[Exception] = None) -> None:
    """`on_taken`: what the commit raises when the trade id is already used."""
    tx.put(_trade_record(trade), TradeRecord.pk.does_not_exist(), on_condition_failed=on_taken)


def recent_trades(symbol: str, limit: int) -> list[Trade]:
    """Newest first."""
    return [_trade(r) for r in TradeRecord.query(f"TRADE#{symbol}", scan_index_forward=False, limit=limit)][:limit]


def trades_of_account(account_id: str, *, before_id: Optional[int] = None, after_id: Optional[int] = None,
                      limit: int = 500) -> list[Trade]:
    """Both sides' trades of an account, newest first (ids exclusive bounds)."""
    merged: dict[tuple[str, int], Trade] = {}  # trade ids are a sequence per symbol
    for index, prefix in ((TradeRecord.gsi1, "BUYS"), (TradeRecord.gsi2, "SELLS")):
        range_attr = TradeRecord.gsi1sk if prefix == "BUYS" else TradeRecord.gsi2sk
        condition = id_range(range_attr, before_id=before_id or None, after_id=after_id or None)
        if condition is NOTHING:
            return []
        for record in index.query(f"{prefix}#{account_id}", condition, scan_index_forward=after_id is not None
                                  and before_id is None, limit=limit):
            merged[(record.symbol, record.trade_id)] = _trade(record)
    ordered = sorted(merged.values(), key=lambda t: (t.trade_id, t.time), reverse=True)
    if after_id is not None and before_id is None:
        return sorted(ordered[-limit:], key=lambda t: t.trade_id, reverse=True) if len(ordered) > limit else ordered
    return ordered[:limit]


# --- depth ----------------------------------------------------------------------

class DepthRecord(Entity):
    price = DecimalAttribute()
    qty = DecimalAttribute()


def _price_key(side: Side, price: Decimal) -> str:
    scaled = int(price * PRICE_SCALE)
    if side is Side.BUY:  # bids best (highest) first in ascending key order
        return f"B#{_MAX_PRICE_KEY - scaled:0{PRICE_KEY_WIDTH}d}"
    return f"A#{scaled:0{PRICE_KEY_WIDTH}d}"


def stage_depth_level(tx: Transaction, symbol: str, side: Side, price: Decimal, qty: Decimal) -> None:
    record = DepthRecord(f"DEPTH#{symbol}", _price_key(side, price), price=price, qty=qty)
    if qty > 0:
        tx.put(record)
    else:
        tx.delete(record)


def depth(symbol: str, limit: int) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    def side(prefix: str) -> list[tuple[Decimal, Decimal]]:
        return [(r.price, r.qty) for r in DepthRecord.query(f"DEPTH#{symbol}", DepthRecord.sk.startswith(prefix),
                                                             limit=limit)][:limit]
    return side("B#"), side("A#")


# --- market state and klines ------------------------------------------------------

class MarketStateRecord(Entity):
    version = IntegerAttribute()
    book_version = IntegerAttribute()
    last_trade_id = IntegerAttribute()
    open_klines = UnicodeAttribute(default="{}")
    ticker = UnicodeAttribute(null=True)
    updated_at = IntegerAttribute()


@dataclass
class MarketState:
    symbol: str
    version: int = 0
    book_version: int = 0
    last_trade_id: int = 0
    open_klines: dict[str, Kline] = field(default_factory=dict)
    ticker: Optional[dict] = None
    updated_at: int = 0


def kline_to_json(kline: Kline) -> dict:
    return {"i": kline.interval.value, "t": kline.open_time, "T": kline.close_time, "o": str(kline.open),
            "h": str(kline.high), "l": str(kline.low), "c": str(kline.close), "v": str(kline.volume),
            "q": str(kline.quote_volume), "n": kline.trade_count, "V": str(kline.taker_buy_volume),
            "Q": str(kline.taker_buy_quote_volume)}


def kline_from_json(raw: dict) -> Kline:
    return Kline(KlineInterval(raw["i"]), raw["t"], raw["T"], Decimal(raw["o"]), Decimal(raw["h"]),
                 Decimal(raw["l"]), Decimal(raw["c"]), Decimal(raw["v"]), Decimal(raw["q"]), raw["n"],
                 Decimal(raw["V"]), Decimal(raw["Q"]))


def market_state(symbol: str) -> MarketState:
    try:
        record = MarketStateRecord.get(f"MARKET#{symbol}", "META", consistent_read=True)
    except MarketStateRecord.DoesNotExist:
        return MarketState(symbol)
    klines = {name: kline_from_json(raw) for name, raw in json.loads(record.open_klines or "{}").items()}
    return MarketState(symbol, record.version, record.book_version, record.last_trade_id, klines,
                       json.loads(record.ticker) if record.ticker else None, record.updated_at)


def stage_market_state(tx: Transaction, state: MarketState, expected_version: int, on_changed) -> None:
    record = MarketStateRecord(
        f"MARKET#{state.symbol}", "META", version=state.version, book_version=state.book_version,
        last_trade_id=state.last_trade_id, updated_at=state.updated_at,
        open_klines=json.dumps({name: kline_to_json(k) for name, k in state.open_klines.items()}),
        ticker=json.dumps(state.ticker) if state.ticker else None,
    )
    condition = (MarketStateRecord.pk.does_not_exist() if expected_version == 0
                 else MarketStateRecord.version == expected_version)
    tx.put(record, condition, on_condition_failed=on_changed)


def check_market_version(tx: Transaction, symbol: str, expected_version: int, on_changed) -> None:
    condition = (MarketStateRecord.pk.does_not_exist() if expected_version == 0
                 else MarketStateRecord.version == expected_version)
    tx.check(MarketStateRecord, f"MARKET#{symbol}", "META", condition, on_condition_failed=on_changed)


class KlineRecord(Entity):
    data = UnicodeAttribute()


def stage_closed_kline(tx: Transaction, symbol: str, kline: Kline) -> None:
    tx.put(KlineRecord(f"KLINE#{symbol}#{kline.interval.value}", padded(kline.open_time),
                       data=json.dumps(kline_to_json(kline))))


def closed_klines(symbol: str, interval: KlineInterval, start_ms: int, end_ms: int, limit: int) -> list[Kline]:
    """Closed klines opening in [start_ms, end_ms], newest `limit` of them, oldest first."""
    query = KlineRecord.query(f"KLINE#{symbol}#{interval.value}",
                              KlineRecord.sk.between(padded(max(start_ms, 0)), padded(max(end_ms, 0))),
                              scan_index_forward=False, limit=limit)
    return sorted((kline_from_json(json.loads(r.data)) for r in query), key=lambda k: k.open_time)[-limit:]


def minute_klines_since(symbol: str, start_ms: int) -> list[Kline]:
    query = KlineRecord.query(f"KLINE#{symbol}#1m", KlineRecord.sk >= padded(start_ms))
    return [kline_from_json(json.loads(r.data)) for r in query]


def symbols_with_state() -> Iterable[str]:
    for record in MarketStateRecord.scan(MarketStateRecord.pk.startswith("MARKET#")):
        yield record.pk.split("#", 1)[1]
