"""Org notifications: REST replay with long poll, and the `org` WebSocket channel, which
delivers every org.* message once and in order, also across a reconnect."""
from __future__ import annotations

import json
import threading
import time
from collections import defaultdict

import pytest

from chalicelib.api import websocket
from chalicelib.api.org import notifications
from chalicelib.auth import org_signature
from chalicelib.domain.events import Event, org_stream
from chalicelib.gateways import push
from chalicelib.services import api_keys, events
from chalicelib.store import org_users as cursors
from tests.functional.test_org_api_support import (  # noqa: F401  (fixtures)
    body, drain_matcher, http, new_user, org_a, org_b, seeded,
)


@pytest.fixture
def frames(monkeypatch):
    """Frames pushed to each connection, decoded, in the order they were sent."""
    sent = defaultdict(list)
    lock = threading.Lock()

    def send(connection_id, frame):
        with lock:
            sent[connection_id].append(json.loads(frame))
        return True

    monkeypatch.setattr(push, "send", send)
    monkeypatch.setattr(push, "close", lambda connection_id: None)
    return sent


def connect(connection_id, client, *, ip="127.0.0.1", stale=False, path=None, **extra):
    params = {"channel": "org", "key": client.api_key,
              "timestamp": str(int(time.time() * 1000) - (120_000 if stale else 0)), **extra}
    params["signature"] = org_signature.sign(client.secret, params)
    if path:
        params = {k: v for k, v in params.items() if k != "channel"}
        params["signature"] = org_signature.sign(client.secret, params)
        params["__path"] = path
    return websocket.connect({"requestContext": {"connectionId": connection_id, "identity": {"sourceIp": ip}},
                              "queryStringParameters": params})


def say(connection_id, payload):
    return websocket.message({"requestContext": {"connectionId": connection_id}, "body": json.dumps(payload)})


def event_ids(sent):
    return [f["event_id"] for f in sent if "event_id" in f]


def test_rest_replay_answers_the_events_after_an_id_in_seed_shape(org_a):
    user = new_user(org_a, "rex")
    page = org_a.read.ok("/notification/list", {"from_id": "0", "limit": "1000"})
    kinds = [e["event_type"] for e in page["events"]]
    assert "org.userRegister" in kinds and "org.userRegistered" not in kinds
    register = [e for e in page["events"] if e["event_type"] == "org.userRegister"][-1]
    assert set(register) == {"event_id", "event_type", "event", "time"} and register["event"]["uid"] == user["uid"]
    ids = [e["event_id"] for e in page["events"]]
    assert ids == sorted(ids) and page["last_event_id"] == ids[-1]
    middle = ids[len(ids) // 2]
    rest = org_a.read.ok("/notification/list", {"from_id": middle, "listType": "simple", "limit": "1000"})
    assert rest["events"] == [str(i) for i in ids if i > middle]
    paged = org_a.read.ok("/notification/list", {"from_id": "0", "limit": "2"})
    assert [e["event_id"] for e in paged["events"]] == ids[:2] and paged["has_more"] is True


def test_the_long_poll_waits_for_the_next_event_and_times_out_empty(org_a):
    head = org_a.read.ok("/notification/list", {"from_id": "0", "limit": "1000"})["last_event_id"]
    started = time.monotonic()
    empty = org_a.read.ok("/notification/list", {"from_id": head, "wait": "1"})
    assert empty["events"] == [] and empty["last_event_id"] == head and time.monotonic() - started >= 1
    timer = threading.Timer(0.6, lambda: events.append_now(Event(org_stream("7002"), "org.userLogin",
                                                                 {"uid": "1"}, "7002", "1")))
    timer.start()
    started = time.monotonic()
    woke = org_a.read.ok("/notification/list", {"from_id": head, "wait": "10"})
    assert [e["event_type"] for e in woke["events"]] == ["org.userLogin"] and time.monotonic() - started < 5
    refused = org_a.read.post("/notification/list", {"wait": "60"})
    assert refused.status_code == 400


def test_a_socket_needs_a_valid_signature_a_fresh_timestamp_and_a_whitelisted_ip(org_a, frames):
    assert connect("ok", org_a.read)["statusCode"] == 200
    assert connect("ok-path", org_a.read, path="/api/v2/org/ws")["statusCode"] == 200
    assert connect("stale", org_a.read, stale=True)["statusCode"] == 401
    bad = org_a.read.__class__(None, "7002", org_a.read.api_key, "x" * 64)
    assert connect("bad", bad)["statusCode"] == 401
    assert connect("far", org_a.asset, ip="192.0.2.9")["statusCode"] == 403  # whitelist is 127.0.0.1
    assert connect("near", org_a.asset)["statusCode"] == 200


def test_a_socket_receives_every_message_once_in_order_and_after_a_reconnect_what_it_missed(org_a, frames):
    start = events.last_id(org_stream("7002"))
    assert connect("c1", org_a.read)["statusCode"] == 200
    say("c1", {"op": "subscribe"})
    first = new_user(org_a, "w1", funds={"USDT": "10"})
    new_user(org_a, "w2")
    received = event_ids(frames["c1"])
    assert received == list(range(start + 1, events.last_id(org_stream("7002")) + 1))
    assert frames["c1"][0]["op"] == "subscribed"
    last_seen = received[-1]
    websocket.disconnect({"requestContext": {"connectionId": "c1"}})

    org_a.asset.ok("/finance/airdrop", {"uid": first["uid"], "token_id": "USDT", "amount": "1",
                                        "client_order_id": "while-away"})
    new_user(org_a, "w3")
    missed = list(range(last_seen + 1, events.last_id(org_stream("7002")) + 1))
    assert len(missed) >= 4 and event_ids(frames["c1"]) == received  # nothing goes to a closed socket

    assert connect("c2", org_a.read, from_id=str(last_seen))["statusCode"] == 200
    say("c2", {"op": "subscribe"})
    assert event_ids(frames["c2"]) == missed
    kinds = [f["event_type"] for f in frames["c2"] if "event_id" in f]
    assert {"org.airdrop", "org.userReceiveAirdrop", "org.userRegister"} <= set(kinds)
    assert frames["c2"][-1] == {"op": "subscribed", "stream": "org:7002", "last_id": missed[-1]}
    new_user(org_a, "w4")
    assert event_ids(frames["c2"]) == list(range(last_seen + 1, events.last_id(org_stream("7002")) + 1))
    say("c2", {"op": "sync"})
    assert len(event_ids(frames["c2"])) == len(set(event_ids(frames["c2"])))


def test_concurrent_relays_deliver_each_event_once_and_in_order(org_a, frames):
    assert connect("busy", org_a.read)["statusCode"] == 200
    say("busy", {"op": "subscribe"})
    start = events.last_id(org_stream("7002"))

    def burst(worker):
        for n in range(8):
            events.append_now(Event(org_stream("7002"), "org.userLogin", {"uid": str(worker), "n": n}, "7002"))

    threads = [threading.Thread(target=burst, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    say("busy", {"op": "sync"})
    assert event_ids(frames["busy"]) == list(range(start + 1, start + 33))


def test_the_send_lease_passes_new_work_to_its_holder():
    cursors.start_cursor("cx", "org:7002", 5)
    assert cursors.acquire_cursor("cx", "holder", 10_000) == 5
    assert cursors.acquire_cursor("cx", "other", 10_000) is None
    assert cursors.mark_dirty("cx") is True                 # the holder will send it
    assert cursors.release_cursor("cx", "holder", 7) is False  # more arrived: keep going
    assert cursors.release_cursor("cx", "holder", 9) is True
    assert cursors.acquire_cursor("cx", "other", 10_000) == 9


def test_order_messages_reach_the_org_only_when_it_turns_them_on(org_a, frames):
    user = new_user(org_a, "ord", funds={"USDT": "10000"})
    order = {"uid": user["uid"], "symbol_id": "BTCUSDT", "side": "buy", "quantity": "0.01", "price": "100"}
    org_a.asset.ok("/trade/spot/createOrder", {**order, "client_order_id": "quiet"})
    org_a.asset.ok("/trade/spot/cancelOrder", {"uid": user["uid"], "client_order_id": "quiet"})
    feed = org_a.read.ok("/notification/list", {"limit": "1000"})["events"]
    assert not {"org.placeOrder", "org.cancelOrder"} & {e["event_type"] for e in feed}
    org_a.asset.ok("/updateSettings", {"notify_place_order": "1", "notify_cancel_order": "1",
                                       "client_order_id": "on"})
    org_a.asset.ok("/trade/spot/createOrder", {**order, "client_order_id": "loud"})
    org_a.asset.ok("/trade/spot/cancelOrder", {"uid": user["uid"], "client_order_id": "loud"})
    drain_matcher()
    feed = org_a.read.ok("/notification/list", {"limit": "1000"})["events"]
    placed = [e["event"] for e in feed if e["event_type"] == "org.placeOrder"]
    cancelled = [e["event"] for e in feed if e["event_type"] == "org.cancelOrder"]
    assert [p["client_order_id"] for p in placed] == ["loud"] and [c["status"] for c in cancelled] == ["CANCELED"]


def test_a_disabled_key_stops_its_socket(org_a, frames):
    assert connect("k1", org_a.read)["statusCode"] == 200
    say("k1", {"op": "subscribe"})
    api_keys.set_org_key_enabled("7002", org_a.read.api_key, False)
    new_user(org_a, "late")
    assert event_ids(frames["k1"]) == []
    assert say("k1", {"op": "sync"})["statusCode"] in (200, 410)
    assert notifications.CHANNEL == "org"


def test_a_socket_whose_host_names_another_org_is_refused(org_a, org_b):
    from chalicelib.domain.errors import OrgDomainMismatch

    params = {"channel": "org", "key": org_a.read.api_key, "timestamp": str(int(time.time() * 1000))}
    params["signature"] = org_signature.sign(org_a.read.secret, params)
    with pytest.raises(OrgDomainMismatch):
        notifications._authenticate({**params, "__host": "second.local", "__source_ip": "127.0.0.1"})
    shared = notifications._authenticate({**params, "__host": "abc.execute-api.us-east-1.amazonaws.com",
                                          "__source_ip": "127.0.0.1"})
    assert shared["org_id"] == "7002"
