"""BHEX WebSocket streams over the platform's one WebSocket API.

Channels (production: `?channel=...` on the stage URL; locally also the SDKs' paths):

- `bhex_user` (`?channel=bhex_user&listenKey=K`, local `/openapi/ws/K`): the user data
  stream. Every push is a JSON array of events: `executionReport` (one per fill, or one
  for an order change without a fill) and `outboundAccountInfo` (one per balance).
- `bhex_quote_v1` (local `/openapi/quote/ws/v1`, `/openapi/ws/quote/v1`): public market
  data, BHEX v1 protocol: `{"symbol","topic","event":"sub|cancel|cancel_all","params","id"}`;
  a subscription is answered with its snapshot (`"f": true`), then updates (`"f": false`).
- `bhex_quote_v2` (local `/openapi/quote/ws/v2`): BHEX v2 protocol:
  `{"topic","event","params":{"symbol",...}}`; acknowledged, then one object per push.

A text frame containing "ping" is answered `{"pong": <its ping value or server ms>}`.
Server pings are not sent: API Gateway closes a socket after 10 minutes without
traffic, and BHEX's clients (the Python SDK, ccxt) tolerate their absence; a client that
wants its socket kept open pings, as BHEX's docs ask (every < 5 minutes).

Market updates come from the matcher's one `market` event per commit on
`symbol:<SYMBOL>`; user updates from the `order` and `balance` events on `user:<uid>`.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from decimal import Decimal
from typing import Any, Optional

from chalicelib.api import websocket
from chalicelib.api.openapi import wire
from chalicelib.api.openapi.wire import BhexError
from chalicelib.api.rendering import dumps
from chalicelib.domain.errors import BrokerError, InvalidParameter
from chalicelib.domain.events import StoredEvent, symbol_stream, user_stream
from chalicelib.services import api_keys, events, listen_keys, market_data
from chalicelib.store import catalog as catalog_store
from chalicelib.store import events as connections

log = logging.getLogger(__name__)

USER_CHANNEL, QUOTE_V1, QUOTE_V2 = "bhex_user", "bhex_quote_v1", "bhex_quote_v2"
TRADE_SNAPSHOT = 60
DEPTH_DEFAULT, DEPTH_MAX = 100, 300
KLINE_MAX = 1000
V1_TOPICS = ("trade", "realtimes", "depth", "diffDepth", "bookTicker")
V2_TOPICS = ("trade", "realtimes", "kline", "depth", "bookTicker")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _pong(body: str) -> Optional[list[str]]:
    if "ping" not in body.lower():
        return None
    try:
        message = json.loads(body)
    except ValueError:
        message = None
    value = message.get("ping") if isinstance(message, dict) else None
    return [dumps({"pong": value if isinstance(value, (int, str)) else _now_ms()})]


# --- user data stream ----------------------------------------------------------------

def _user_authenticate(params: dict) -> dict:
    key = listen_keys.resolve(params.get("listenKey") or "")
    if key is None:
        raise BhexError(-1125, "This listenKey does not exist.", http_status=401)
    api_key = api_keys.authenticate_user_key(key.api_key)
    if api_key is None or not api_key.enabled or api_key.login_frozen:
        raise BhexError(-2015, "Invalid API-key, IP, or permissions for action.", http_status=403)
    if not api_key.allows_ip(params.get("__source_ip") or ""):
        raise BhexError(-2015, "Invalid API-key, IP, or permissions for action.", http_status=403)
    return {"uid": key.uid, "org_id": key.org_id, "account_id": key.account_id}


def _user_message(connection_id: str, principal: dict, body: str) -> list[str]:
    return _pong(body) or []


def execution_reports(event: StoredEvent) -> list[dict]:
    """One `executionReport` per fill of the order event (cumulative figures per fill)."""
    order = event.payload
    fills = sorted(order.get("fills") or [], key=lambda fill: int(fill.get("trade_id") or 0))
    market_buy = order["type"] == "MARKET" and order["side"] == "BUY"
    base = {
        "e": "executionReport", "E": str(event.time), "s": order["symbol"], "c": order["client_order_id"],
        "S": order["side"], "o": order["type"], "f": order["time_in_force"],
        "q": wire.dec(order["quote_amount"] if market_buy and order.get("quote_amount") else order["quantity"]),
        "p": wire.dec(order["price"]) if order.get("price") and order["type"] != "MARKET" else "0",
        "i": str(order["order_id"]), "u": True, "w": True, "O": str(order["created_at"]),
        "A": "0", "C": False, "v": "0",
    }
    executed, executed_quote = Decimal(order["executed_qty"]), Decimal(order["executed_quote"])
    if not fills:
        return [{**base, "X": order["status"], "M": "0", "l": "0", "z": wire.dec(executed), "L": "0", "n": "0",
                 "N": "", "m": order["type"] == "LIMIT_MAKER", "Z": wire.dec(executed_quote)}]
    reports = []
    later_qty, later_quote = Decimal(0), Decimal(0)
    for index in range(len(fills) - 1, -1, -1):
        fill = fills[index]
        last = index == len(fills) - 1
        reports.append({
            **base, "X": order["status"] if last else "PARTIALLY_FILLED", "M": str(fill["match_order_id"]),
            "l": wire.dec(fill["qty"]), "z": wire.dec(executed - later_qty), "L": wire.dec(fill["price"]),
            "n": wire.dec(max(Decimal(fill["fee"]), Decimal(0))), "N": fill.get("fee_asset") or "",
            "m": bool(fill["is_maker"]), "Z": wire.dec(executed_quote - later_quote),
        })
        later_qty += Decimal(fill["qty"])
        later_quote += Decimal(fill.get("quote_qty") or Decimal(fill["qty"]) * Decimal(fill["price"]))
    return list(reversed(reports))


def account_info(event: StoredEvent) -> dict:
    balance = event.payload
    locked = Decimal(balance["locked"]) + Decimal(balance.get("position") or 0)
    return {"e": "outboundAccountInfo", "E": str(event.time), "T": True, "W": True, "D": True,
            "B": [{"a": balance["token"], "f": wire.dec(balance["available"]), "l": wire.dec(locked)}]}


def format_user(event: StoredEvent, options: dict) -> list[str]:
    if event.type == "order":
        return [dumps(execution_reports(event))]
    if event.type == "balance":
        return [dumps([account_info(event)])]
    return []


# --- market data: shared ------------------------------------------------------------------

_exchange_ids: dict[str, Optional[str]] = {}


def _listed_exchange(symbol: str) -> Optional[str]:
    """The exchange of a symbol some broker lists for the OpenAPI, or None.

    Sockets carry no Host, so a symbol is valid when any broker lists it. Reads the
    catalog store until `services.catalog` offers such a look-up (asked for).
    """
    if symbol not in _exchange_ids:
        found = None
        for listing in catalog_store.orgs_listing_symbol(symbol):
            if listing.listed and not listing.hide_from_openapi:
                record = catalog_store.org(listing.org_id)
                found = record.exchange_id if record else None
                if found:
                    break
        if found is None:
            return None  # not cached: it may be listed later
        _exchange_ids[symbol] = found
    return _exchange_ids[symbol]


class _DepthCache:
    """One depth read per (symbol, event, limit) however many sockets get it.

    The key holds the event's time too, so a stream rebuilt from scratch (ids from 1
    again) never answers from an older run's entry.
    """

    def __init__(self, size: int = 64):
        self._items: OrderedDict = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, symbol: str, event: StoredEvent, limit: int):
        key = (symbol, event.id, event.time, limit)
        with self._lock:
            if key in self._items:
                return self._items[key]
        value = market_data.depth(symbol, limit)
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


_depth_cache = _DepthCache()


def _subscription(connection_id: str, stream: str) -> dict:
    """This socket's topics on a stream (one subscription item holds them all).

    Reads the connection store's item directly until `store.events` offers
    `subscription_options(connection_id, stream)` (asked for).
    """
    try:
        record = connections.SubscriptionRecord.get(f"WSSUB#{stream}", connection_id, consistent_read=True)
    except connections.SubscriptionRecord.DoesNotExist:
        return {}
    return json.loads(record.options or "{}")


def _save_topics(connection_id: str, channel: str, stream: str, topics: dict) -> None:
    if topics:
        connections.subscribe(connection_id, channel, stream, {"topics": topics})
    else:
        connections.unsubscribe(connection_id, stream)


def _quote_authenticate(params: dict) -> dict:
    return {}


class _QuoteError(Exception):
    def __init__(self, code: str, desc: str):
        super().__init__(desc)
        self.code, self.desc = code, desc

    def frame(self) -> str:
        return dumps({"code": self.code, "desc": self.desc})


def _int_param(params: dict, name: str, default: int, maximum: int) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _QuoteError("-100002", f"Param {name} should be int.") from None
    return max(1, min(number, maximum))


def _interval(name: str) -> str:
    try:
        return market_data.interval(name).value
    except InvalidParameter:
        raise _QuoteError("-10009", "Invalid period!") from None


# payload items (quote-server typing)

def _trade_item(trade: dict) -> dict:
    return {"v": str(trade["id"]), "t": int(trade["time"]), "p": wire.dec(trade["price"]),
            "q": wire.dec(trade["qty"]), "m": not trade["buyer_is_maker"]}


def _stored_trade_item(trade) -> dict:
    return {"v": str(trade.trade_id), "t": int(trade.time), "p": wire.dec(trade.price), "q": wire.dec(trade.qty),
            "m": not trade.buyer_is_maker}


def _realtime_item(symbol: str, ticker: dict, time_ms: int, v2: bool = False) -> dict:
    item = {"t": str(time_ms), "s": symbol, "sn": symbol, "c": wire.dec(ticker.get("last")),
            "h": wire.dec(ticker.get("high")), "l": wire.dec(ticker.get("low")), "o": wire.dec(ticker.get("open")),
            "v": wire.dec(ticker.get("volume")), "qv": wire.dec(ticker.get("quote_volume")),
            "m": f"{Decimal(str(ticker.get('change_ratio') or '0')):.4f}"}
    if v2:
        item.pop("sn")
        return item
    exchange = _listed_exchange(symbol)
    item["e"] = int(exchange) if exchange and exchange.isdigit() else 0
    return item


def _kline_item(symbol: str, raw: dict) -> dict:
    return {"t": int(raw["t"]), "s": symbol, "sn": symbol, "c": wire.dec(raw["c"]), "h": wire.dec(raw["h"]),
            "l": wire.dec(raw["l"]), "o": wire.dec(raw["o"]), "v": wire.dec(raw["v"])}


def _stored_kline_item(symbol: str, kline) -> dict:
    return {"t": int(kline.open_time), "s": symbol, "sn": symbol, "c": wire.dec(kline.close),
            "h": wire.dec(kline.high), "l": wire.dec(kline.low), "o": wire.dec(kline.open),
            "v": wire.dec(kline.volume)}


def _depth_item(symbol: str, bids, asks, time_ms: int, version: int, v2: bool = False) -> dict:
    item = {"s": symbol, "t": int(time_ms), "v": f"{version}_18", "b": bids, "a": asks}
    if v2:
        return item
    exchange = _listed_exchange(symbol)
    return {"e": int(exchange) if exchange and exchange.isdigit() else 0, "s": symbol, "sn": symbol,
            "t": int(time_ms), "v": f"{version}_18", "b": bids, "a": asks, "o": 0}


def _book_item(symbol: str, book, time_ms: int) -> dict:
    bid = book.bids[0] if book.bids else None
    ask = book.asks[0] if book.asks else None
    return {"symbol": symbol, "bidPrice": wire.dec(bid.price if bid else 0), "bidQty": wire.dec(bid.qty if bid else 0),
            "askPrice": wire.dec(ask.price if ask else 0), "askQty": wire.dec(ask.qty if ask else 0),
            "time": int(time_ms)}


def _ticker_now(symbol: str) -> tuple[dict, int]:
    figures = market_data.ticker(symbol)
    return ({"open": figures["open"], "high": figures["high"], "low": figures["low"], "last": figures["last"],
             "volume": figures["volume"], "quote_volume": figures["quote_volume"],
             "change_ratio": figures["change_ratio"]}, int(figures["time"]))


def _snapshot_data(symbol: str, kind: str, entry: dict, v2: bool) -> list[dict]:
    """The current state of one topic, as a list of payload items."""
    now = _now_ms()
    if kind == "trade":
        trades = market_data.recent_trades(symbol, 1 if v2 else TRADE_SNAPSHOT)
        return [_stored_trade_item(trade) for trade in trades]
    if kind == "realtimes":
        ticker, time_ms = _ticker_now(symbol)
        return [_realtime_item(symbol, ticker, time_ms, v2)]
    if kind == "kline":
        bars = market_data.klines(symbol, entry["interval"], limit=1 if v2 else entry.get("limit", 1))
        return [_stored_kline_item(symbol, bar) for bar in bars]
    if kind in ("depth", "diffDepth"):
        book = market_data.depth(symbol, entry.get("limit", DEPTH_DEFAULT))
        return [_depth_item(symbol, wire.levels(book.bids), wire.levels(book.asks), now, book.version, v2)]
    if kind == "bookTicker":
        return [_book_item(symbol, market_data.depth(symbol, 1), now)]
    return []


def _update_data(event: StoredEvent, kind: str, entry: dict, v2: bool) -> list[dict]:
    """What one market event changes for one topic (empty: nothing to push)."""
    payload = event.payload
    symbol = payload["symbol"]
    time_ms = int(payload.get("time") or event.time)
    if kind == "trade":
        return [_trade_item(trade) for trade in payload.get("trades") or []]
    if kind == "realtimes":
        if not payload.get("trades") or not payload.get("ticker"):
            return []
        return [_realtime_item(symbol, payload["ticker"], time_ms, v2)]
    if kind == "kline":
        raw = (payload.get("klines") or {}).get(entry["interval"])
        return [_kline_item(symbol, raw)] if raw else []
    changes = payload.get("depth") or []
    if not changes:
        return []
    version = int(payload.get("version") or 0)
    if kind == "diffDepth":
        bids = [[wire.dec(c["price"]), wire.dec(c["qty"])] for c in changes if c["side"] == "BUY"]
        asks = [[wire.dec(c["price"]), wire.dec(c["qty"])] for c in changes if c["side"] == "SELL"]
        return [_depth_item(symbol, bids, asks, time_ms, version, v2)]
    if kind == "depth":
        book = _depth_cache.get(symbol, event, entry.get("limit", DEPTH_DEFAULT))
        return [_depth_item(symbol, wire.levels(book.bids), wire.levels(book.asks), time_ms, version, v2)]
    if kind == "bookTicker":
        return [_book_item(symbol, _depth_cache.get(symbol, event, 1), time_ms)]
    return []


# --- market data: v1 ------------------------------------------------------------------------

def _v1_kind(topic: str) -> tuple[str, Optional[str]]:
    if topic.startswith("kline_"):
        return "kline", _interval(topic[len("kline_"):])
    for known in V1_TOPICS:
        if topic.lower() == known.lower():
            return known, None
    raise _QuoteError("-10004", "Invalid topic!")


def _v1_envelope(symbol: str, entry: dict, data: list, first: bool) -> str:
    body: dict[str, Any] = {}
    if entry.get("id") is not None:
        body["id"] = entry["id"]
    body.update({"symbol": symbol, "symbolName": symbol, "topic": entry["wire_topic"], "params": entry["params"],
                 "data": data, "f": first, "sendTime": _now_ms()})
    return dumps(body)


def _v1_message(connection_id: str, principal: dict, body: str) -> list[str]:
    pong = _pong(body)
    if pong is not None:
        return pong
    try:
        return _v1_handle(connection_id, body)
    except _QuoteError as failure:
        return [failure.frame()]
    except BrokerError:
        log.exception("quote v1 message failed")
        return [dumps({"code": "-9999", "desc": "Server Error"})]


def _parse(body: str) -> dict:
    try:
        message = json.loads(body)
    except ValueError:
        raise _QuoteError("-10001", "Invalid JSON!") from None
    if not isinstance(message, dict):
        raise _QuoteError("-10000", "Invalid request!")
    return message


def _v1_handle(connection_id: str, body: str) -> list[str]:
    message = _parse(body)
    event = str(message.get("event") or "").lower()
    if not event:
        raise _QuoteError("-10003", "Event required!")
    if event not in ("sub", "cancel", "cancel_all"):
        raise _QuoteError("-10002", "Invalid event!")
    cid = message.get("id")
    if event == "cancel_all":
        found = connections.get_connection(connection_id)
        for stream in set(found[2] if found else []):
            connections.unsubscribe(connection_id, stream)
        return [dumps({"id": cid, "code": "0", "msg": "Success", "symbol": message.get("symbol"),
                       "event": message.get("event")})]
    topic = str(message.get("topic") or "")
    if not topic:
        raise _QuoteError("-10005", "Topic required!")
    kind, interval = _v1_kind(topic)
    symbols = [s.strip().upper().split(".")[-1] for s in str(message.get("symbol") or "").split(",") if s.strip()]
    if not symbols or any(_listed_exchange(symbol) is None for symbol in symbols):
        raise _QuoteError("-100010", "Invalid Symbols!")
    raw_params = message.get("params") if isinstance(message.get("params"), dict) else {}
    params = {str(k): (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in raw_params.items()}
    params.setdefault("binary", "false")
    entry: dict[str, Any] = {"kind": kind, "wire_topic": kind if kind != "kline" else "kline", "id": cid}
    if kind == "kline":
        entry["interval"] = interval
        params["klineType"] = interval
        entry["limit"] = _int_param(params, "limit", 1, KLINE_MAX)
    if kind == "realtimes":
        params.setdefault("realtimeInterval", "24h")
    if kind in ("depth", "diffDepth"):
        entry["limit"] = _int_param(params, "limit", DEPTH_DEFAULT, DEPTH_MAX)
    entry["params"] = params
    key = topic if kind != "kline" else f"kline_{interval}"
    frames = []
    for symbol in symbols:
        stream = symbol_stream(symbol)
        topics = dict(_subscription(connection_id, stream).get("topics") or {})
        if event == "sub":
            topics[key] = entry
            _save_topics(connection_id, QUOTE_V1, stream, topics)
            frames.append(_v1_envelope(symbol, entry, _snapshot_data(symbol, kind, entry, False), True))
        else:
            topics.pop(key, None)
            _save_topics(connection_id, QUOTE_V1, stream, topics)
    return frames


def format_v1(event: StoredEvent, options: dict) -> list[str]:
    if event.type != "market":
        return []
    symbol = event.payload["symbol"]
    frames = []
    for entry in (options.get("topics") or {}).values():
        data = _update_data(event, entry["kind"], entry, False)
        if data:
            frames.append(_v1_envelope(symbol, entry, data, False))
    return frames


# --- market data: v2 ------------------------------------------------------------------------

def _v2_message(connection_id: str, principal: dict, body: str) -> list[str]:
    pong = _pong(body)
    if pong is not None:
        return pong
    try:
        return _v2_handle(connection_id, body)
    except _QuoteError as failure:
        return [failure.frame()]
    except BrokerError:
        log.exception("quote v2 message failed")
        return [dumps({"code": "-9999", "desc": "Server Error"})]


def _v2_handle(connection_id: str, body: str) -> list[str]:
    message = _parse(body)
    topic = str(message.get("topic") or "")
    if not topic:
        raise _QuoteError("-10005", "Topic required!")
    event = str(message.get("event") or "").lower()
    if not event:
        raise _QuoteError("-10003", "Event required!")
    if event not in ("sub", "cancel"):
        raise _QuoteError("-10002", "Invalid event!")
    kind = next((known for known in V2_TOPICS if known.lower() == topic.lower()), None)
    if kind is None:
        raise _QuoteError("-10004", "Invalid topic!")
    raw_params = message.get("params") if isinstance(message.get("params"), dict) else {}
    params = {str(k): v for k, v in raw_params.items()}
    symbol = str(params.get("symbol") or "").strip().upper()
    if not symbol:
        raise _QuoteError("-100012", "Symbol required!")
    if _listed_exchange(symbol) is None:
        raise _QuoteError("-100010", "Invalid Symbols!")
    params["symbol"], params["symbolName"] = symbol, symbol
    params.setdefault("binary", False)
    params.setdefault("realtimeInterval", "24h")
    entry: dict[str, Any] = {"kind": kind, "params": params}
    key = kind
    if kind == "kline":
        entry["interval"] = _interval(str(params.get("klineType") or "1m"))
        params["klineType"] = entry["interval"]
        key = f"kline_{entry['interval']}"
    if kind == "depth":
        entry["limit"] = DEPTH_DEFAULT
    stream = symbol_stream(symbol)
    topics = dict(_subscription(connection_id, stream).get("topics") or {})
    ack = dumps({"event": message.get("event"), "topic": message.get("topic"), "params": params, "code": "0",
                 "msg": "Success"})
    if event == "cancel":
        topics.pop(key, None)
        _save_topics(connection_id, QUOTE_V2, stream, topics)
        return [ack]
    topics[key] = entry
    _save_topics(connection_id, QUOTE_V2, stream, topics)
    frames = [ack]
    for item in _snapshot_data(symbol, kind, entry, True)[-1:]:
        frames.append(dumps({"topic": kind, "params": params, "data": item, "f": True}))
    return frames


def format_v2(event: StoredEvent, options: dict) -> list[str]:
    if event.type != "market":
        return []
    frames = []
    for entry in (options.get("topics") or {}).values():
        for item in _update_data(event, entry["kind"], entry, True):
            frames.append(dumps({"topic": entry["kind"], "params": entry["params"], "data": item, "f": False}))
    return frames


# --- registration ---------------------------------------------------------------------------

websocket.register_channel(websocket.Channel(
    USER_CHANNEL, authenticate=_user_authenticate, initial_streams=lambda principal: [user_stream(principal["uid"])],
    on_message=_user_message))
websocket.register_channel(websocket.Channel(
    QUOTE_V1, authenticate=_quote_authenticate, initial_streams=lambda principal: [], on_message=_v1_message))
websocket.register_channel(websocket.Channel(
    QUOTE_V2, authenticate=_quote_authenticate, initial_streams=lambda principal: [], on_message=_v2_message))
websocket.register_path(r"/openapi/ws/(?P<listenKey>[A-Za-z0-9]+)", USER_CHANNEL)
websocket.register_path(r"/openapi/quote/ws/v1", QUOTE_V1)
websocket.register_path(r"/openapi/ws/quote/v1", QUOTE_V1)
websocket.register_path(r"/openapi/quote/ws/v2", QUOTE_V2)
events.register_format(USER_CHANNEL, format_user)
events.register_format(QUOTE_V1, format_v1)
events.register_format(QUOTE_V2, format_v2)
