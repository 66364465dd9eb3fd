"""BHEX WebSocket channels: user data (executionReport, outboundAccountInfo) and market v1/v2."""
from __future__ import annotations

import json
from collections import defaultdict

import pytest

from chalicelib.api import websocket
from chalicelib.gateways import push
from tests.functional.test_openapi_support import (  # noqa: F401  (fixtures)
    body, drain_matcher, http, openapi_app, seeded, user_client,
)


@pytest.fixture
def frames(monkeypatch):
    """Frames pushed to each connection, decoded."""
    sent = defaultdict(list)

    def send(connection_id, frame):
        sent[connection_id].append(json.loads(frame))
        return True

    monkeypatch.setattr(push, "send", send)
    return sent


def connect(connection_id, path=None, **query):
    params = dict(query)
    if path:
        params["__path"] = path
    return websocket.connect({"requestContext": {"connectionId": connection_id,
                                                 "identity": {"sourceIp": "127.0.0.1"}},
                              "queryStringParameters": params})


def say(connection_id, payload):
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return websocket.message({"requestContext": {"connectionId": connection_id}, "body": text})


@pytest.fixture
def traders(seeded, http):
    openapi_app()
    alice, bob = seeded["users"]
    return user_client(http, alice), user_client(http, bob, "ccxt")


def limit(side, qty, price, **extra):
    return {"symbol": "BTCUSDT", "side": side, "type": "LIMIT", "quantity": qty, "price": price, **extra}


def test_the_user_stream_pushes_execution_reports_and_balances(traders, frames):
    alice, bob = traders
    key = body(alice.post("/openapi/v1/userDataStream"))["listenKey"]
    assert connect("u1", f"/openapi/ws/{key}")["statusCode"] == 200
    assert connect("u2", channel="bhex_user", listenKey=key)["statusCode"] == 200  # production style
    assert connect("bad", "/openapi/ws/" + "x" * 64)["statusCode"] == 401

    alice.post("/openapi/v1/order", limit("SELL", "0.5", "30000", newClientOrderId="s-1"))
    drain_matcher()
    bob.post("/openapi/v1/order", limit("BUY", "0.3", "30000"))
    drain_matcher()

    pushed = frames["u1"]
    assert pushed == frames["u2"]
    assert all(isinstance(frame, list) for frame in pushed)
    events = [event for frame in pushed for event in frame]
    reports = [e for e in events if e["e"] == "executionReport"]
    accounts = [e for e in events if e["e"] == "outboundAccountInfo"]
    new, fill = reports[0], reports[-1]
    assert new["X"] == "NEW" and new["c"] == "s-1" and new["l"] == "0" and new["N"] == "" and new["m"] is False
    assert fill["X"] == "PARTIALLY_FILLED" and fill["l"] == "0.3" and fill["z"] == "0.3" and fill["L"] == "30000"
    assert fill["n"] == "9" and fill["N"] == "USDT" and fill["m"] is True and fill["Z"] == "9000"
    for name in ("E", "i", "O", "M"):
        assert isinstance(fill[name], str) and fill[name].isdigit(), name
    assert fill["u"] is True and fill["w"] is True and fill["q"] == "0.5" and fill["p"] == "30000"
    btc = [a for a in accounts if a["B"][0]["a"] == "BTC"]
    assert btc[0]["B"] == [{"a": "BTC", "f": "9.5", "l": "0.5"}]  # the lock at placement
    assert btc[-1]["B"] == [{"a": "BTC", "f": "9.5", "l": "0.2"}]  # after the fill
    assert all(a["T"] is True and a["W"] is True and a["D"] is True and a["E"].isdigit() for a in accounts)
    assert not any(e.get("c") == "" for e in reports)  # Bob's order never reaches Alice

    assert say("u1", '{"ping": 1535975085052}')["statusCode"] == 200
    assert frames["u1"][-1] == {"pong": 1535975085052}


def test_market_v1_snapshots_then_updates(traders, frames):
    alice, bob = traders
    alice.post("/openapi/v1/order", limit("SELL", "1", "30100"))
    drain_matcher()
    assert connect("q1", "/openapi/quote/ws/v1")["statusCode"] == 200
    for topic in ("trade", "realtimes", "kline_1m", "depth", "diffDepth", "bookTicker"):
        say("q1", {"symbol": "BTCUSDT", "topic": topic, "event": "sub", "params": {"binary": False}, "id": topic})
    snapshots = {frame["id"]: frame for frame in frames["q1"]}
    assert all(frame["f"] is True and frame["symbol"] == "BTCUSDT" for frame in snapshots.values())
    assert snapshots["trade"]["data"] == []
    assert snapshots["depth"]["data"][0]["a"] == [["30100", "1"]] and snapshots["depth"]["data"][0]["b"] == []
    assert snapshots["kline_1m"]["topic"] == "kline" and snapshots["kline_1m"]["params"]["klineType"] == "1m"
    assert snapshots["realtimes"]["params"]["realtimeInterval"] == "24h"
    assert snapshots["bookTicker"]["data"][0]["askPrice"] == "30100"
    frames["q1"].clear()

    bob.post("/openapi/v1/order", limit("BUY", "0.25", "30100"))
    drain_matcher()
    updates = {frame["id"]: frame for frame in frames["q1"]}
    assert all(frame["f"] is False for frame in updates.values())
    trade = updates["trade"]["data"][0]
    assert trade["p"] == "30100" and trade["q"] == "0.25" and trade["m"] is True and isinstance(trade["t"], int)
    assert isinstance(trade["v"], str)
    assert updates["depth"]["data"][0]["a"] == [["30100", "0.75"]]
    assert updates["diffDepth"]["data"][0]["a"] == [["30100", "0.75"]]
    kline = updates["kline_1m"]["data"][0]
    assert (kline["o"], kline["c"], kline["v"]) == ("30100", "30100", "0.25") and isinstance(kline["t"], int)
    realtime = updates["realtimes"]["data"][0]
    assert realtime["c"] == "30100" and isinstance(realtime["t"], str) and realtime["e"] == 301
    assert updates["bookTicker"]["data"][0]["askQty"] == "0.75"

    say("q1", {"symbol": "BTCUSDT", "topic": "trade", "event": "cancel"})
    frames["q1"].clear()
    bob.post("/openapi/v1/order", limit("BUY", "0.25", "30100"))
    drain_matcher()
    assert "trade" not in {frame["id"] for frame in frames["q1"]}
    say("q1", {"event": "cancel_all", "id": "x"})
    assert frames["q1"][-1] == {"id": "x", "code": "0", "msg": "Success", "symbol": None, "event": "cancel_all"}


BAD_MESSAGES = [
    ("{not json", "-10001"),
    ({"symbol": "BTCUSDT", "topic": "trade"}, "-10003"),
    ({"symbol": "BTCUSDT", "topic": "trade", "event": "subscribe"}, "-10002"),
    ({"symbol": "BTCUSDT", "event": "sub"}, "-10005"),
    ({"symbol": "BTCUSDT", "topic": "weather", "event": "sub"}, "-10004"),
    ({"symbol": "BTCUSDT", "topic": "kline_7m", "event": "sub"}, "-10009"),
    ({"symbol": "DOGEUSDT", "topic": "trade", "event": "sub"}, "-100010"),
]


def test_market_v1_and_v2_errors_are_bhex_shaped(traders, frames):
    connect("q2", "/openapi/quote/ws/v1")
    for message, code in BAD_MESSAGES:
        say("q2", message)
        assert frames["q2"][-1]["code"] == code and "desc" in frames["q2"][-1], message
    connect("q4", "/openapi/quote/ws/v2")
    for message, code in (({"topic": "depth", "event": "sub", "params": {}}, "-100012"),
                          ({"topic": "depth", "event": "sub", "params": {"symbol": "NOPE"}}, "-100010"),
                          ({"topic": "depth", "event": "cancel_all", "params": {"symbol": "BTCUSDT"}}, "-10002"),
                          ({"topic": "kline", "event": "sub", "params": {"symbol": "BTCUSDT", "klineType": "9m"}},
                           "-10009")):
        say("q4", message)
        assert frames["q4"][-1]["code"] == code, message


def test_market_v1_ping_is_answered_with_pong(traders, frames):
    connect("q3", "/openapi/quote/ws/v1")
    say("q3", {"ping": 42})
    say("q3", "ping")
    assert frames["q3"][0] == {"pong": 42} and isinstance(frames["q3"][1]["pong"], int)


def test_market_v2_acknowledges_then_pushes_single_objects(traders, frames):
    alice, bob = traders
    alice.post("/openapi/v1/order", limit("SELL", "1", "30100"))
    drain_matcher()
    assert connect("v2", "/openapi/quote/ws/v2")["statusCode"] == 200
    for topic, extra in (("depth", {}), ("trade", {}), ("kline", {"klineType": "1m"}), ("realtimes", {}),
                         ("bookTicker", {})):
        say("v2", {"topic": topic, "event": "sub", "params": {"binary": False, "symbol": "BTCUSDT", **extra}})
    acks = [frame for frame in frames["v2"] if "code" in frame]
    assert len(acks) == 5 and all(ack["code"] == "0" and ack["msg"] == "Success" for ack in acks)
    first = {frame["topic"]: frame for frame in frames["v2"] if "data" in frame}
    assert first["depth"]["data"]["a"] == [["30100", "1"]] and first["depth"]["f"] is True
    assert set(first["depth"]["data"]) == {"s", "t", "v", "b", "a"}
    frames["v2"].clear()
    bob.post("/openapi/v1/order", limit("BUY", "0.5", "30100"))
    drain_matcher()
    updates = defaultdict(list)
    for frame in frames["v2"]:
        updates[frame["topic"]].append(frame)
    assert isinstance(updates["trade"][0]["data"], dict) and updates["trade"][0]["data"]["q"] == "0.5"
    assert updates["depth"][0]["data"]["a"] == [["30100", "0.5"]]
    assert updates["kline"][0]["data"]["c"] == "30100"
    assert updates["realtimes"][0]["data"]["c"] == "30100"
    assert updates["bookTicker"][0]["data"]["askQty"] == "0.5"
    say("v2", {"topic": "trade", "event": "cancel", "params": {"symbol": "BTCUSDT"}})
    assert frames["v2"][-1]["code"] == "0"
