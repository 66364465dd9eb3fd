"""The PyPI `bhex==2.0.14` SDK (package `broker`), unchanged, against the local stack.

A full spot session through `broker.client.BrokerClient`: every spot method, orders that
rest, fill and cancel, balances checked after each step; `broker.websockets` receives the
user data stream and market pushes (v1 and v2) from the local gateway. The matcher runs
behind SQS in the stack, so fills are awaited, not assumed.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import textwrap
import threading
import time
import uuid
from decimal import Decimal as D
from typing import Callable

import pytest

broker_client = pytest.importorskip("broker.client", reason="needs bhex==2.0.14 (pip install bhex==2.0.14)")

from infra.local.stack import LocalStack  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SYMBOL = "ETHUSDT"

_OVERLAY_APP = '''
"""Test overlay: the project's app.py plus the OpenAPI blueprint (until app.py registers it)."""
import importlib.util
import os
import sys

ROOT = {root!r}
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
_spec = importlib.util.spec_from_file_location("broker_app", os.path.join(ROOT, "app.py"))
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
app = _module.app

from chalicelib.api.openapi import openapi_blueprint  # noqa: E402

if "/openapi/v1/ping" not in app.routes:
    app.register_blueprint(openapi_blueprint)
'''


def app_registers_openapi() -> bool:
    with open(os.path.join(ROOT, "app.py"), encoding="utf-8") as source:
        return "openapi_blueprint" in source.read()


@contextlib.contextmanager
def overlay_project():
    """A project whose app.py is the real one plus the OpenAPI blueprint."""
    overlay = tempfile.mkdtemp(prefix="broker-openapi-overlay-")
    try:
        shutil.copytree(os.path.join(ROOT, ".chalice"), os.path.join(overlay, ".chalice"))
        with open(os.path.join(overlay, "app.py"), "w", encoding="utf-8") as app_file:
            app_file.write(textwrap.dedent(_OVERLAY_APP.format(root=ROOT)))
        yield overlay
    finally:
        shutil.rmtree(overlay, ignore_errors=True)


@contextlib.contextmanager
def openapi_stack_for(request):
    """The session's stack when app.py serves the OpenAPI; until then, an overlay stack."""
    if app_registers_openapi():
        yield request.getfixturevalue("stack")
        return
    with overlay_project() as project, LocalStack(project) as running:
        yield running


def wait_for(condition: Callable[[], object], timeout: float = 20.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def openapi_stack(request):
    with openapi_stack_for(request) as running:
        yield running


@pytest.fixture(scope="module")
def clients(openapi_stack):
    entry = openapi_stack.rest_url + "/openapi/"
    alice, bob = openapi_stack.info["users"]
    return (broker_client.BrokerClient(entry_point=entry, api_key=alice["api_key"], secret=alice["api_secret"]),
            broker_client.BrokerClient(entry_point=entry, api_key=bob["api_key"], secret=bob["api_secret"]))


def free_and_locked(client, asset: str) -> tuple[D, D]:
    for balance in client.account()["balances"]:
        if balance["asset"] == asset:
            return D(balance["free"]), D(balance["locked"])
    return D(0), D(0)


def wallet(client) -> dict[str, tuple[D, D]]:
    return {asset: free_and_locked(client, asset) for asset in ("ETH", "USDT")}


class Inbox:
    """Messages a websocket callback received, thread-safe."""

    def __init__(self):
        self.items: list = []
        self._lock = threading.Lock()

    def __call__(self, message):
        with self._lock:
            self.items.append(message)

    def snapshot(self) -> list:
        with self._lock:
            return list(self.items)


@pytest.fixture(scope="module")
def sockets(openapi_stack):
    """The SDK's websocket managers (one twisted reactor, stopped once at the end)."""
    from broker.websockets import BrokerWss, BrokerWssV2

    rest, ws = openapi_stack.rest_url + "/openapi/", openapi_stack.ws_url + "/openapi/"
    alice = openapi_stack.info["users"][0]
    v1 = BrokerWss(ws, rest, api_key=alice["api_key"], secret=alice["api_secret"])
    v2 = BrokerWssV2(ws, rest, api_key=alice["api_key"], secret=alice["api_secret"])
    inboxes = {name: Inbox() for name in ("user", "trades", "depth", "kline", "realtimes", "v2_depth",
                                          "v2_book", "v2_trade")}
    v1.user_data_stream(inboxes["user"])
    v1.subscribe_to_trades(SYMBOL, inboxes["trades"])
    v1.subscribe_to_depth(SYMBOL, inboxes["depth"])
    v1.subscribe_to_kline(SYMBOL, "1m", inboxes["kline"])
    v1.subscribe_to_realtimes(SYMBOL, inboxes["realtimes"])
    v2.subscribe_to_depth(SYMBOL, inboxes["v2_depth"])
    v2.subscribe_to_book_ticker(SYMBOL, inboxes["v2_book"])
    v2.subscribe_to_trades(SYMBOL, inboxes["v2_trade"])
    v1.start()
    for name in ("trades", "depth", "kline", "realtimes", "v2_depth"):
        wait_for(lambda: inboxes[name].snapshot(), what=f"the {name} subscription's first message")
    yield inboxes
    v1.close()  # stops the shared reactor
    v2._conns = {}


def test_a_full_spot_session_through_the_sdk(clients, sockets):
    alice, bob = clients
    run = uuid.uuid4().hex[:6]

    # General endpoints.
    assert alice.ping() == {}
    assert isinstance(alice.time()["serverTime"], int)
    info = alice.broker_info()
    assert any(s["symbol"] == SYMBOL for s in info["symbols"]) and info["rateLimits"]
    assert "tokens" in alice.broker_info("TOKEN")

    alice_before, bob_before = wallet(alice), wallet(bob)

    # order/test validates and places nothing.
    assert alice.order_test(symbol=SYMBOL, side="SELL", type="LIMIT", quantity="1", price="2000") == {}
    assert wallet(alice) == alice_before

    # 1. Alice's limit sell rests; 1 ETH locked. Her client order id needs escaping.
    client_id = f"sdk,/:@+ {run}"
    sell = alice.order_new(symbol=SYMBOL, side="SELL", type="LIMIT", quantity="1", price="2000",
                           time_in_force="GTC", new_client_order_id=client_id)
    assert sell["status"] == "NEW" and sell["clientOrderId"] == client_id, sell
    sell_id = sell["orderId"]
    assert wallet(alice)["ETH"] == (alice_before["ETH"][0] - 1, alice_before["ETH"][1] + 1)
    assert alice.order_get(order_id=sell_id)["status"] == "NEW"
    assert alice.order_get(orig_client_order_id=client_id)["orderId"] == sell_id
    assert sell_id in [o["orderId"] for o in alice.open_orders(symbol=SYMBOL)]
    wait_for(lambda: ["2000", "1"] in alice.depth(SYMBOL)["asks"], what="the sell on the book")

    # 2. Bob buys 0.4 with a limit order: it fills at 2000.
    buy = bob.order_new(symbol=SYMBOL, side="BUY", type="LIMIT", quantity="0.4", price="2000")
    wait_for(lambda: bob.order_get(order_id=buy["orderId"])["status"] == "FILLED", what="Bob's fill")
    assert wallet(bob)["ETH"] == (bob_before["ETH"][0] + D("0.4") - D("0.0008"), bob_before["ETH"][1])
    assert wallet(bob)["USDT"] == (bob_before["USDT"][0] - 800, bob_before["USDT"][1])
    wait_for(lambda: alice.order_get(order_id=sell_id)["status"] == "PARTIALLY_FILLED", what="Alice's partial")
    assert wallet(alice)["ETH"] == (alice_before["ETH"][0] - 1, alice_before["ETH"][1] + D("0.6"))
    assert wallet(alice)["USDT"] == (alice_before["USDT"][0] + 800 - D("0.8"), alice_before["USDT"][1])

    # 3. Market data shows it.
    assert any(t["price"] == "2000" and t["qty"] == "0.4" for t in alice.trades(SYMBOL))
    bars = alice.klines(SYMBOL, interval="1m")
    assert bars and bars[-1][4] == "2000" and isinstance(bars[-1][0], int)
    assert alice.ticker_24hr(SYMBOL)["lastPrice"] == "2000"
    assert alice.ticker_price(SYMBOL) == {"symbol": SYMBOL, "price": "2000"}
    assert alice.book_ticker(SYMBOL)["askPrice"] == "2000" and alice.book_ticker(SYMBOL)["askQty"] == "0.6"
    assert any(t["symbol"] == SYMBOL for t in alice.ticker_24hr())

    # 4. Bob buys 200 USDT worth at market: 0.1 ETH.
    market = bob.order_new(symbol=SYMBOL, side="BUY", type="MARKET", quantity="200")
    wait_for(lambda: bob.order_get(order_id=market["orderId"])["status"] == "FILLED", what="the market buy")
    assert wallet(bob)["USDT"] == (bob_before["USDT"][0] - 1000, bob_before["USDT"][1])
    assert wallet(bob)["ETH"][0] == bob_before["ETH"][0] + D("0.5") - D("0.001")
    mine = [t for t in bob.my_trades(symbol=SYMBOL) if t["orderId"] in (buy["orderId"], market["orderId"])]
    assert sorted(t["qty"] for t in mine) == ["0.1", "0.4"] and all(t["isBuyer"] for t in mine)
    assert {t["orderId"] for t in alice.my_trades(symbol=SYMBOL)} >= {sell_id}

    # 5. Alice cancels the rest: 0.5 ETH is released.
    canceled = alice.order_cancel(order_id=sell_id)
    assert canceled["status"] == "CANCELED" and canceled["executedQty"] == "0.5"
    assert wallet(alice)["ETH"] == (alice_before["ETH"][0] - D("0.5"), alice_before["ETH"][1])
    assert wallet(alice)["USDT"][0] == alice_before["USDT"][0] + 1000 - 1
    assert sell_id not in [o["orderId"] for o in alice.open_orders()]
    assert sell_id in [o["orderId"] for o in alice.history_orders(symbol=SYMBOL)]
    assert alice.order_cancel(order_id=sell_id)["code"] == -1142  # HTTP 400: the SDK returns the body

    # 6. Deposits (none yet) and the user data stream's REST calls.
    assert isinstance(alice.deposit_orders(), list)
    key = alice.stream_get_listen_key()["listenKey"]
    assert alice.stream_keepalive(key) == {} and alice.stream_close(key) == {}

    # 7. What the sockets saw.
    events = wait_for(lambda: [e for m in sockets["user"].snapshot() if isinstance(m, list) for e in m
                               if e.get("e") == "executionReport" and e.get("i") == sell_id and e["X"] == "CANCELED"],
                      what="the cancel on the user stream")
    reports = [e for m in sockets["user"].snapshot() if isinstance(m, list) for e in m
               if e.get("e") == "executionReport" and e.get("i") == sell_id]
    assert [r["X"] for r in reports][0] == "NEW" and reports[0]["c"] == client_id
    assert any(r["X"] == "PARTIALLY_FILLED" and r["l"] == "0.4" for r in reports)
    assert any(r["l"] == "0.1" and r["z"] == "0.5" for r in reports)
    assert events
    balances = [e for m in sockets["user"].snapshot() if isinstance(m, list) for e in m
                if e.get("e") == "outboundAccountInfo"]
    assert any(b["B"][0]["a"] == "ETH" for b in balances)

    trades = wait_for(lambda: [d for m in sockets["trades"].snapshot() if not m.get("f") for d in m.get("data", [])],
                      what="pushed trades")
    assert {(t["p"], t["q"]) for t in trades} >= {("2000", "0.4"), ("2000", "0.1")}
    depth = [m for m in sockets["depth"].snapshot() if m.get("topic") == "depth"]
    assert depth[0]["f"] is True and any(not m["f"] for m in depth)
    kline = wait_for(lambda: [m for m in sockets["kline"].snapshot() if not m.get("f")], what="kline updates")
    assert kline[-1]["topic"] == "kline" and kline[-1]["data"][0]["c"] == "2000"
    assert any(m.get("data") and m["data"][0]["c"] == "2000" for m in sockets["realtimes"].snapshot())
    v2_depth = [m for m in sockets["v2_depth"].snapshot() if "data" in m]
    assert v2_depth and isinstance(v2_depth[-1]["data"], dict) and "a" in v2_depth[-1]["data"]
    assert any("data" in m and m["data"]["askPrice"] for m in sockets["v2_book"].snapshot())
    assert any("data" in m and m["data"]["p"] == "2000" for m in sockets["v2_trade"].snapshot())
