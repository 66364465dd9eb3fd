"""The user WebSocket (spec §15.5): `?channel=user` on the stage URL (locally also the path
`/api/ws/user`), authenticated by the session cookie of the upgrade request.

Protocol (JSON text frames):

* subscribe: `{"topic": "order|order_filled|match|balance|deposit|withdrawal", "event": "sub",
  "from_id": N}` (`from_id` optional) → `{"code": "200", "topic", "event": "sub", "data": [],
  "lastId": <newest event id>}`, then, with `from_id`, every event after N of that topic,
  then live pushes. A reconnecting client sends the last id it saw and loses nothing;
  an event can arrive twice around the switch from replay to live, and its `id` tells.
* push: `{"code": "200", "topic", "event": "sub", "id": <event id>, "data": [...]}`:
  `order` every change of an order; `order_filled` changes that carry fills; `match` the
  fills (the user's side only); `balance` every balance change; `deposit` and
  `withdrawal` custody progress. Ids increase per user (one stream, `user:<uid>`).
* unsubscribe: `{"topic", "event": "cancel"}`; snapshot: `{"id": 1, "topic": "order",
  "event": "req", "extData": {"dataType": "current_order|history_order|history_match|
  current_balance", "symbolId", "fromId", "limit"}}`; ping: `{"ping": x}` → `{"pong": x}`.

The socket's session is checked on every message and before every push (briefly cached):
after logout, a revocation or the session's end, nothing more is sent. A browser's Origin
must belong to the session's org (no cross-site socket hijacking).
"""
from __future__ import annotations

import json
import threading
import time
from typing import Optional

from chalicelib.api import websocket
from chalicelib.api.rendering import dumps
from chalicelib.api.user import wire
from chalicelib.auth import sessions as cookies
from chalicelib.domain.errors import BrokerError, Forbidden, InvalidParameter, Unauthenticated
from chalicelib.domain.events import StoredEvent, user_stream
from chalicelib.services import catalog, events, ledger, orders, sessions
from chalicelib.store import events as connections

CHANNEL = "user"
TOPICS = ("order", "order_filled", "match", "balance", "deposit", "withdrawal")
REPLAY_LIMIT = 1000
SESSION_CHECK_SECONDS = 15.0

_checked: dict[str, tuple[float, bool]] = {}
_lock = threading.Lock()


def _session_active(token_hash: str) -> bool:
    now = time.monotonic()
    with _lock:
        hit = _checked.get(token_hash)
    if hit and now - hit[0] < SESSION_CHECK_SECONDS:
        return hit[1]
    active = sessions.is_active(token_hash)
    with _lock:
        if len(_checked) > 10000:
            _checked.clear()
        _checked[token_hash] = (now, active)
    return active


def authenticate(params: dict) -> dict:
    headers = params.get("__headers") or {}
    principal = sessions.authenticate_token(cookies.session_token(headers))
    origin = cookies.origin_host(headers)
    if origin is not None and catalog.org_for_host(origin) != principal.org_id:
        raise Forbidden("Origin is not a site of this broker")
    return {"uid": principal.uid, "org_id": principal.org_id, "account_id": principal.account_id,
            "session": principal.session.token_hash}


# --- pushes ----------------------------------------------------------------------------------

def _frame(topic: str, event_id: Optional[int], data: list, **extra) -> str:
    body = {"code": "200", "topic": topic, "event": "sub"}
    if event_id is not None:
        body["id"] = event_id
    body.update(extra)
    body["data"] = data
    return dumps(body)


def _balance(payload: dict) -> dict:
    return {"tokenId": payload["token"], "tokenName": payload["token"], "total": payload["total"],
            "free": payload["available"], "locked": payload["locked"], "position": payload["position"],
            "change": payload.get("change")}


def render(event: StoredEvent, topics: set[str]) -> list[str]:
    """The frames one event of `user:<uid>` makes for a socket subscribed to `topics`."""
    frames = []
    payload = event.payload
    if event.type == "order":
        org = catalog.org(payload["org_id"]) if payload.get("org_id") else None
        view = wire.order(payload, org)
        fills = payload.get("fills") or []
        if "order" in topics:
            frames.append(_frame("order", event.id, [view]))
        if fills and "order_filled" in topics:
            frames.append(_frame("order_filled", event.id, [view]))
        if fills and "match" in topics:
            frames.append(_frame("match", event.id, [wire.trade(fill) for fill in fills]))
    elif event.type == "balance" and "balance" in topics:
        frames.append(_frame("balance", event.id, [_balance(payload)]))
    elif event.type == "deposit" and "deposit" in topics:
        frames.append(_frame("deposit", event.id, [wire.deposit(payload)]))
    elif event.type == "withdrawal" and "withdrawal" in topics:
        frames.append(_frame("withdrawal", event.id, [wire.withdrawal(payload)]))
    return frames


def format_push(event: StoredEvent, options: dict) -> list[str]:
    if not _session_active(options.get("session") or ""):
        return []
    return render(event, set(options.get("topics") or ()))


# --- messages ----------------------------------------------------------------------------------

def _current_topics(connection_id: str, stream: str) -> set[str]:
    for found_id, _, options in connections.subscribers(stream):
        if found_id == connection_id:
            return set(options.get("topics") or ())
    return set()


def _snapshot(principal: dict, request: dict) -> list:
    ext = request.get("extData") if isinstance(request.get("extData"), dict) else {}
    kind = ext.get("dataType") or "current_order"
    trader = orders.Trader(principal["org_id"], principal["uid"], principal["account_id"])
    symbol = (ext.get("symbolId") or "").upper() or None
    try:
        limit = max(1, min(int(ext.get("limit") or 20), 500))
        from_id = int(ext["fromId"]) if ext.get("fromId") not in (None, "", 0, "0") else None
    except (TypeError, ValueError):
        raise InvalidParameter("extData") from None
    org = catalog.org(principal["org_id"])
    if kind == "current_order":
        return [wire.order(v, org) for v in orders.open_orders(trader, symbol=symbol, before_id=from_id, limit=limit)]
    if kind == "history_order":
        return [wire.order(v, org) for v in orders.history_orders(trader, symbol=symbol, before_id=from_id,
                                                                   limit=limit)]
    if kind == "history_match":
        return [wire.trade(v) for v in orders.my_trades(trader, symbol=symbol, before_id=from_id, limit=limit)]
    if kind == "current_balance":
        return [wire.balance(b) for b in ledger.balances(principal["account_id"])]
    raise InvalidParameter("dataType")


def on_message(connection_id: str, principal: dict, body: str) -> list[str]:
    try:
        request = json.loads(body)
    except ValueError:
        if body.strip().lower() == "ping":
            return [dumps({"pong": int(time.time() * 1000)})]
        raise InvalidParameter("body", "Message is not valid JSON") from None
    if not isinstance(request, dict):
        raise InvalidParameter("body", "Message must be a JSON object")
    if "ping" in request:
        return [dumps({"pong": request["ping"]})]
    if not sessions.is_active(principal.get("session") or ""):
        raise Unauthenticated("Session has ended; log in again")
    event, topic = request.get("event"), request.get("topic")
    if event not in ("sub", "cancel", "req"):
        raise InvalidParameter("event", "Event must be sub, cancel or req")
    if topic not in TOPICS:
        raise InvalidParameter("topic", f"Topic must be one of {', '.join(TOPICS)}")
    stream = user_stream(principal["uid"])
    if event == "req":
        return [dumps({"code": "200", "id": request.get("id"), "topic": topic, "event": "req",
                       "extData": request.get("extData") or {}, "data": _snapshot(principal, request)})]
    topics = _current_topics(connection_id, stream)
    if event == "cancel":
        topics.discard(topic)
        if topics:
            connections.subscribe(connection_id, CHANNEL, stream, {"topics": sorted(topics),
                                                                   "session": principal["session"]})
        else:
            connections.unsubscribe(connection_id, stream)
        return [_frame(topic, None, [], event="cancel")]
    topics.add(topic)
    connections.subscribe(connection_id, CHANNEL, stream, {"topics": sorted(topics), "session": principal["session"]})
    frames = [_frame(topic, None, [], lastId=events.last_id(stream))]
    from_id = request.get("from_id", request.get("fromId"))
    if from_id is not None:
        try:
            after = int(from_id)
        except (TypeError, ValueError):
            raise InvalidParameter("from_id") from None
        for stored in events.replay(stream, after, REPLAY_LIMIT):
            frames += render(stored, {topic})
    return frames


def _with_errors_as_frames(handler):
    def handle(connection_id: str, principal: dict, body: str) -> list[str]:
        try:
            return handler(connection_id, principal, body)
        except BrokerError as failure:
            return [dumps({"code": str(failure.code), "msg": failure.message})]
    return handle


websocket.register_channel(websocket.Channel(CHANNEL, authenticate=authenticate,
                                             initial_streams=lambda principal: [],
                                             on_message=_with_errors_as_frames(on_message)))
websocket.register_path(r"/api/ws/user", CHANNEL)
events.register_format(CHANNEL, format_push)
