"""A spot session over the OpenAPI: orders rest, fill and cancel; every answer in BHEX's typing."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from chalicelib.services import ledger
from tests.functional.test_openapi_support import (  # noqa: F401  (fixtures)
    balances, body, drain_matcher, http, seeded, user_client,
)

AWKWARD = "a,b/c:d@e+f g"


@pytest.fixture
def traders(seeded, http):
    alice, bob = seeded["users"]
    return (user_client(http, alice, "sdk"), alice["account_id"]), (user_client(http, bob, "ccxt"), bob["account_id"])


def is_long_text(value) -> bool:
    return isinstance(value, str) and value.isdigit()


def assert_query_order_typing(order: dict):
    for name in ("orderId", "accountId", "time", "updateTime"):
        assert is_long_text(order[name]), (name, order)
    for name in ("price", "origQty", "executedQty", "cummulativeQuoteQty", "avgPrice"):
        assert isinstance(order[name], str) and not order[name].endswith(".0") or order[name] == "0", (name, order)
    assert order["isWorking"] is True and order["exchangeId"] == "301"
    assert order["stopPrice"] == "0.0" and order["icebergQty"] == "0.0"


def test_orders_rest_fill_and_cancel_with_balances_after_each_step(traders):
    (alice, alice_account), (bob, bob_account) = traders

    # 1. Alice's limit sell rests: 0.5 BTC locked.
    sell = alice.post("/openapi/v1/order", {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT",
                                            "quantity": "0.5", "price": "30000.00", "timeInForce": "GTC",
                                            "newClientOrderId": AWKWARD})
    assert sell.status_code == 200, sell.body
    placed = body(sell)
    assert placed["clientOrderId"] == AWKWARD and placed["status"] == "NEW" and placed["price"] == "30000"
    assert is_long_text(placed["orderId"]) and is_long_text(placed["transactTime"])
    assert is_long_text(placed["accountId"]) and placed["origQty"] == "0.5" and placed["executedQty"] == "0"
    drain_matcher()
    assert balances(alice_account)["BTC"] == (D("9.5"), D("0.5"))

    # The same client order id with the same terms answers the same order (idempotent).
    again = alice.post("/openapi/v1/order", {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT",
                                             "quantity": "0.5", "price": "30000.00", "timeInForce": "GTC",
                                             "newClientOrderId": AWKWARD})
    assert body(again)["orderId"] == placed["orderId"]

    # 2. It is open, and queryable by id and by client order id (escaped in the query).
    opened = body(alice.get("/openapi/v1/openOrders", {"symbol": "BTCUSDT"}))
    assert [o["orderId"] for o in opened] == [placed["orderId"]]
    assert_query_order_typing(opened[0])
    by_client_id = body(alice.get("/openapi/v1/order", {"orderId": "", "origClientOrderId": AWKWARD}))
    assert by_client_id["orderId"] == placed["orderId"] and by_client_id["status"] == "NEW"

    # 3. Bob (ccxt ordering) buys 0.2 at market: quote amount 6000.
    market = bob.post("/openapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "6000"})
    assert market.status_code == 200, market.body
    assert body(market)["origQty"] == "6000" and body(market)["price"] == "0"
    drain_matcher()
    fetched = body(bob.get("/openapi/v1/order", {"orderId": body(market)["orderId"]}))
    assert fetched["status"] == "FILLED" and fetched["executedQty"] == "0.2"
    assert fetched["cummulativeQuoteQty"] == "6000" and fetched["avgPrice"] == "30000"
    assert_query_order_typing(fetched)
    assert balances(bob_account)["BTC"] == (D("10.2") - D("0.0004"), D(0))  # taker fee 0.2% in BTC
    assert balances(bob_account)["USDT"] == (D("994000"), D(0))
    assert balances(alice_account)["BTC"] == (D("9.5"), D("0.3"))
    assert balances(alice_account)["USDT"] == (D("1000000") + D("6000") - D("6"), D(0))  # maker 0.1%

    # 4. Trades from both sides; the counterparty is never named.
    alice_trades = body(alice.get("/openapi/v1/myTrades", {"symbol": "BTCUSDT"}))
    bob_trades = body(bob.get("/openapi/v1/myTrades", {"symbol": "BTCUSDT"}))
    assert len(alice_trades) == len(bob_trades) == 1
    mine = alice_trades[0]
    assert mine["isBuyer"] is False and mine["isMaker"] is True and mine["qty"] == "0.2"
    assert mine["commission"] == "6" and mine["commissionAsset"] == "USDT"
    assert mine["orderId"] == placed["orderId"] and mine["matchOrderId"] == body(market)["orderId"]
    for name in ("id", "orderId", "matchOrderId", "time"):
        assert is_long_text(mine[name])
    assert bob_trades[0]["isBuyer"] is True and bob_trades[0]["commission"] == "0.0004"
    assert "accountId" not in mine and bob_account not in str(alice_trades)

    # 5. Alice cancels the rest (ccxt uses origClientOrderId on DELETE); funds are released.
    canceled = alice.delete("/openapi/v1/order", {"origClientOrderId": AWKWARD})
    assert canceled.status_code == 200, canceled.body
    assert body(canceled)["status"] == "CANCELED" and body(canceled)["executedQty"] == "0.2"
    drain_matcher()
    assert balances(alice_account)["BTC"] == (D("9.8"), D(0))
    again = alice.delete("/openapi/v1/order", {"orderId": placed["orderId"]})
    assert body(again)["code"] == -1142
    assert body(alice.get("/openapi/v1/openOrders"))  == []
    history = body(alice.get("/openapi/v1/historyOrders", {"symbol": "BTCUSDT"}))
    assert [(o["orderId"], o["status"]) for o in history] == [(placed["orderId"], "CANCELED")]

    # 6. Account and balance flow: totals only, no lock/unlock rows.
    account = body(alice.get("/openapi/v1/account"))
    assert account["canTrade"] is True and is_long_text(account["updateTime"])
    btc = next(b for b in account["balances"] if b["asset"] == "BTC")
    assert btc == {"asset": "BTC", "assetId": "BTC", "assetName": "BTC", "total": "9.8", "free": "9.8", "locked": "0"}
    flows = body(alice.get("/openapi/v1/balance_flow", {"tokenId": "BTC"}))
    assert [f["flowType"] for f in flows] == ["TRADE", "DEPOSIT"]
    assert flows[0]["change"] == "-0.2" and flows[0]["total"] == "9.8" and flows[0]["flowTypeValue"] == 1
    for name in ("id", "accountId", "created"):
        assert is_long_text(flows[0][name])
    usdt = body(alice.get("/openapi/balanceFlow", {"tokenId": "USDT", "flowType": "2"}))
    assert [(f["flowType"], f["change"]) for f in usdt] == [("FEE", "-6")]
    assert ledger.reconcile().ok


def test_order_test_validates_without_placing(traders):
    (alice, account), _ = traders
    before = balances(account)
    ok = alice.post("/openapi/v1/order/test", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                               "quantity": "0.01", "price": "30000"})
    assert (ok.status_code, body(ok)) == (200, {})
    off_tick = alice.post("/openapi/v1/order/test", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                     "quantity": "0.01", "price": "30000.001"})
    assert body(off_tick)["code"] == -1134
    assert balances(account) == before
    assert body(alice.get("/openapi/v1/openOrders")) == []


BAD_ORDERS = [
    ({"symbol": "NOPE", "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "1"}, -1130),
    ({"symbol": "BTCUSDT", "side": "UP", "type": "LIMIT", "quantity": "1", "price": "1"}, -1117),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "STOP", "quantity": "1", "price": "1"}, -1116),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "1", "timeInForce": "X"}, -1115),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "1"}, -1004),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "abc", "price": "1"}, -1130),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.0000001", "price": "30000"}, -1137),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "100", "price": "30000"}, -1131),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.00001", "price": "30000"}, -1140),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "30000.001"}, -1134),
    ({"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "quantity": "2000", "price": "30000"}, -1135),
    ({"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "1", "timeInForce": "FOK"}, -1115),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "1", "assetType": "MARGIN"},
     -1130),
]


def test_bad_orders_get_bhex_codes_with_http_400_and_change_nothing(traders):
    (alice, account), _ = traders
    before = balances(account)
    for params, code in BAD_ORDERS:
        response = alice.post("/openapi/v1/order", params)
        assert (response.status_code, body(response)["code"]) == (400, code), (params, response.body)
    assert balances(account) == before
    assert body(alice.get("/openapi/v1/openOrders")) == []


def test_unknown_orders_and_batch_cancel(traders):
    (alice, account), _ = traders
    assert body(alice.get("/openapi/v1/order", {"orderId": "123"}))["code"] == -2013
    assert body(alice.delete("/openapi/v1/order", {"orderId": "123"}))["code"] == -2013
    assert body(alice.get("/openapi/v1/order", {"orderId": "", "origClientOrderId": ""}))["code"] == -1103
    for price in ("29000", "29001"):
        alice.post("/openapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.1",
                                         "price": price})
    assert balances(account)["USDT"][1] == D("5800.1")
    assert body(alice.delete("/openapi/v1/order/batchCancel", {"symbol": "BTCUSDT"})) == {"success": True}
    assert balances(account)["USDT"] == (D(1000000), D(0))
    assert body(alice.get("/openapi/v1/openOrders")) == []
    assert body(alice.put("/openapi/v1/order", {"orderId": "1"}))["code"] == -1004


def test_every_alias_path_and_any_verb_endpoint_answers(traders):
    (alice, _), _ = traders
    for path in ("/openapi/v1/account", "/openapi/account"):
        assert alice.get(path).status_code == 200, path
    for verb in (alice.get, alice.post, alice.put, alice.delete):
        assert verb("/openapi/v1/openOrders").status_code == 200
    assert body(alice.post("/openapi/v1/checkApiKey")) == {"accountType": "master"}


def test_sub_accounts_and_transfers(traders):
    (alice, account), _ = traders
    accounts = body(alice.post("/openapi/v1/subAccount/query"))
    assert accounts == [{"accountId": account, "accountName": "", "accountType": 1, "accountIndex": 0}]
    same = alice.post("/openapi/v1/transfer", {"tokenId": "USDT", "amount": "1"})
    assert body(same) == {"success": False}
    other = alice.post("/openapi/v1/transfer", {"tokenId": "USDT", "amount": "1", "toAccountIndex": "1"})
    assert body(other)["code"] == -1171
    assert body(alice.post("/openapi/v1/transfer", {"tokenId": "NOPE", "amount": "1"}))["code"] == -1130


def test_user_data_stream_keys_live_an_hour_and_close(traders, seeded):
    (alice, _), (bob, _) = traders
    created = body(alice.post("/openapi/v1/userDataStream"))
    key = created["listenKey"]
    assert len(key) == 64 and key.isalpha()
    from chalicelib.services import listen_keys

    resolved = listen_keys.resolve(key)
    assert resolved.uid == seeded["users"][0]["uid"]
    assert body(alice.put("/openapi/v1/userDataStream", {"listenKey": key})) == {}
    assert body(bob.delete("/openapi/v1/userDataStream", {"listenKey": key})) == {}  # not Bob's: unchanged
    assert listen_keys.resolve(key) is not None
    assert body(alice.delete("/openapi/v1/userDataStream", {"listenKey": key})) == {}
    assert listen_keys.resolve(key) is None
    assert body(alice.put("/openapi/v1/userDataStream", {"listenKey": key})) == {}  # unknown: still {}
    assert body(alice.get("/openapi/v1/userDataStream"))["code"] == -1004
