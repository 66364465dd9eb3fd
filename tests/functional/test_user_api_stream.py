"""The user WebSocket channel: cookie authentication on the upgrade, topics, pushes of
orders, fills and balances, replay from the last id, and nothing after logout.

`$connect` is driven the way `api.websocket.connect` drives a channel, with the upgrade
request's headers passed as `__headers` (see docs/USER_API.md); messages and pushes go
through the real dispatch (`api.websocket.message`, `services.events.publish`)."""
from __future__ import annotations

import json
from collections import defaultdict

import pytest

from chalicelib.api import websocket
from chalicelib.api.user import stream
from chalicelib.domain.errors import Forbidden, Unauthenticated
from chalicelib.gateways import push
from chalicelib.store import events as connections
from tests.functional.test_openapi_support import drain_matcher
from tests.functional.test_user_api_support import Browser, http, log_in, seeded  # noqa: F401  (fixtures)


@pytest.fixture
def frames(monkeypatch):
    sent = defaultdict(list)

    def record(connection_id, frame):
        sent[connection_id].append(json.loads(frame))
        return True

    monkeypatch.setattr(push, "send", record)
    monkeypatch.setattr(stream, "SESSION_CHECK_SECONDS", 0.0)
    return sent


def upgrade_headers(browser: Browser, origin: str | None = "http://localhost") -> dict:
    headers = {"Cookie": f"au_token={browser.cookies['au_token']}", "Host": "localhost"}
    if origin:
        headers["Origin"] = origin
    return headers


def connect(connection_id: str, headers: dict) -> None:
    principal = stream.authenticate({"channel": "user", "__headers": headers, "__source_ip": "127.0.0.1"})
    connections.save_connection(connection_id, stream.CHANNEL, principal)


def send(connection_id: str, message: dict) -> None:
    websocket.message({"requestContext": {"connectionId": connection_id}, "body": json.dumps(message)})


def test_the_upgrade_needs_a_live_session_and_an_origin_of_the_org(seeded, http):
    alice = log_in(http, "alice@demo.local")
    with pytest.raises(Unauthenticated):
        stream.authenticate({"__headers": {"Host": "localhost"}})
    with pytest.raises(Forbidden):
        stream.authenticate({"__headers": upgrade_headers(alice, origin="https://evil.example")})
    with pytest.raises(Forbidden):
        stream.authenticate({"__headers": upgrade_headers(alice, origin="http://second.local")})
    principal = stream.authenticate({"__headers": upgrade_headers(alice, origin=None)})
    assert principal["uid"] == seeded["users"][0]["uid"]
    alice.post("/api/user/authorize_cancel")
    with pytest.raises(Unauthenticated):
        stream.authenticate({"__headers": {"Cookie": f"au_token={principal['session']}"}})


def test_both_sides_see_the_fill_and_a_reconnect_replays_from_the_last_id(seeded, http, frames):
    alice, bob = log_in(http, "alice@demo.local"), log_in(http, "bob@demo.local")
    connect("A1", upgrade_headers(alice))
    connect("B1", upgrade_headers(bob))
    send("A1", {"topic": "order", "event": "sub"})
    send("A1", {"topic": "match", "event": "sub"})
    send("B1", {"topic": "match", "event": "sub"})
    send("B1", {"topic": "balance", "event": "sub"})
    acks = frames["A1"][:2]
    assert [(f["code"], f["topic"], f["event"], f["data"]) for f in acks] == [
        ("200", "order", "sub", []), ("200", "match", "sub", [])]
    assert isinstance(acks[0]["lastId"], int)

    sell = alice.post("/api/order/create", {"symbol_id": "BTCUSDT", "side": "sell", "type": "limit",
                                            "price": "20000", "quantity": "0.01"}).json
    buy = bob.post("/api/order/create", {"symbol_id": "BTCUSDT", "side": "buy", "type": "limit",
                                         "price": "20000", "quantity": "0.01"}).json
    drain_matcher()

    alice_pushes = frames["A1"][2:]
    orders = [f for f in alice_pushes if f["topic"] == "order"]
    assert [f["data"][0]["status"] for f in orders] == ["NEW", "FILLED"]
    matches = [f for f in alice_pushes if f["topic"] == "match"]
    assert len(matches) == 1 and matches[0]["data"][0]["orderId"] == sell["orderId"]
    assert matches[0]["data"][0]["side"] == "SELL" and matches[0]["data"][0]["quantity"] == "0.01"
    bob_matches = [f for f in frames["B1"] if f["topic"] == "match" and f["data"]]
    assert [m["data"][0]["orderId"] for m in bob_matches] == [buy["orderId"]]
    assert bob_matches[0]["data"][0]["matchOrderId"] == sell["orderId"]
    assert all("bob" not in json.dumps(f) for f in alice_pushes)
    balances = [f for f in frames["B1"] if f["topic"] == "balance" and f["data"]]
    assert {b["data"][0]["tokenId"] for b in balances} == {"BTC", "USDT"}
    ids = [f["id"] for f in alice_pushes]
    assert ids == sorted(ids)

    # a new socket resumes after the first order push and gets the rest again
    connect("A2", upgrade_headers(alice))
    send("A2", {"topic": "order", "event": "sub", "from_id": orders[0]["id"]})
    replayed = frames["A2"]
    assert replayed[0]["event"] == "sub" and replayed[0]["data"] == []
    assert [(f["id"], f["data"][0]["status"]) for f in replayed[1:]] == [(orders[1]["id"], "FILLED")]

    # snapshot request
    send("A2", {"id": 7, "topic": "balance", "event": "req", "extData": {"dataType": "current_balance"}})
    snapshot = frames["A2"][-1]
    assert snapshot["id"] == 7 and {b["tokenId"] for b in snapshot["data"]} >= {"BTC", "USDT"}


def test_after_logout_nothing_more_is_pushed(seeded, http, frames):
    alice = log_in(http, "alice@demo.local")
    connect("A1", upgrade_headers(alice))
    send("A1", {"topic": "order", "event": "sub"})
    alice.post("/api/user/authorize_cancel")
    log_in(http, "alice@demo.local").post("/api/order/create", {"symbol_id": "BTCUSDT", "side": "buy",
                                                                 "type": "limit", "price": "100", "quantity": "0.01"})
    assert [f for f in frames["A1"] if f.get("id")] == []
    send("A1", {"topic": "balance", "event": "sub"})
    assert frames["A1"][-1]["code"] == "1001"


def test_bad_messages_answer_an_error_frame(seeded, http, frames):
    alice = log_in(http, "alice@demo.local")
    connect("A1", upgrade_headers(alice))
    send("A1", {"topic": "nonsense", "event": "sub"})
    send("A1", {"ping": 12})
    assert frames["A1"][0]["code"] == "2001" and frames["A1"][1] == {"pong": 12}
