"""3.4 Trade paths: orders as a user of the org, lists in both forms, trade freezes."""
from __future__ import annotations

from decimal import Decimal as D

from tests.functional.test_org_api_support import (  # noqa: F401  (fixtures)
    assert_conserved, balance, body, drain_matcher, http, new_user, org_a, org_b, seeded,
)

ORDER_FULL = {"order_id", "client_order_id", "uid", "symbol_id", "side", "type", "price", "orig_qty",
              "executed_qty", "executed_amount", "avg_price", "status", "updated_at"}


def order(uid, side, qty, price, cid, **extra):
    return {"uid": uid, "symbol_id": "BTCUSDT", "side": side, "type": "limit", "quantity": qty, "price": price,
            "client_order_id": cid, **extra}


def test_create_order_places_a_limit_order_for_the_user_and_holds_its_funds(org_a):
    user = new_user(org_a, "ann", funds={"USDT": "10000"})
    placed = org_a.asset.ok("/trade/spot/createOrder", order(user["uid"], "buy", "0.1", "30000", "o-1"))
    assert ORDER_FULL <= set(placed)
    assert (placed["status"], placed["uid"], placed["client_order_id"], placed["orig_qty"]) == \
        ("NEW", user["uid"], "o-1", "0.1")
    assert balance(user["uid"], "7002", "USDT") == (D(7000), D(3000), D(0))


def test_cancel_order_by_id_or_client_id_and_a_repeat_answers_the_cancelled_order(org_a):
    user = new_user(org_a, "bo", funds={"USDT": "10000"})
    first = org_a.asset.ok("/trade/spot/createOrder", order(user["uid"], "buy", "0.1", "30000", "o-1"))
    org_a.asset.ok("/trade/spot/createOrder", order(user["uid"], "buy", "0.1", "29000", "o-2"))
    drain_matcher()
    cancelled = org_a.asset.ok("/trade/spot/cancelOrder", {"uid": user["uid"], "order_id": first["order_id"]})
    assert cancelled["status"] == "CANCELED"
    assert org_a.asset.ok("/trade/spot/cancelOrder", {"uid": user["uid"], "order_id": first["order_id"]})[
        "status"] == "CANCELED"
    by_client_id = org_a.asset.ok("/trade/spot/cancelOrder", {"uid": user["uid"], "client_order_id": "o-2"})
    assert by_client_id["status"] == "CANCELED"
    assert balance(user["uid"], "7002", "USDT") == (D(10000), D(0), D(0))
    drain_matcher()


def test_open_and_history_order_lists_and_trade_details_in_both_forms(org_a):
    seller = new_user(org_a, "sel", funds={"BTC": "1"})
    buyer = new_user(org_a, "buy", funds={"USDT": "100000"})
    sell = org_a.asset.ok("/trade/spot/createOrder", order(seller["uid"], "sell", "0.5", "30000", "s-1"))
    drain_matcher()
    buy = org_a.asset.ok("/trade/spot/createOrder", order(buyer["uid"], "buy", "0.2", "30000", "b-1"))
    drain_matcher()
    assert org_a.read.ok("/trade/spot/getOpenOrderList", {"uid": seller["uid"], "listType": "simple"}) == \
        [sell["order_id"]]
    open_full = org_a.read.ok("/trade/spot/getOpenOrderList", {"uid": seller["uid"]})
    assert (open_full[0]["status"], open_full[0]["executed_qty"]) == ("PARTIALLY_FILLED", "0.2")
    assert org_a.read.ok("/trade/spot/getHistoryOrderList", {"uid": buyer["uid"], "listType": "simple"}) == \
        [buy["order_id"]]
    history = org_a.read.ok("/trade/spot/getHistoryOrderList", {"uid": buyer["uid"], "listType": "full"})
    assert history[0]["status"] == "FILLED" and history[0]["avg_price"] == "30000"
    trades = org_a.read.ok("/trade/spot/getTradeDetailList", {"uid": buyer["uid"]})
    assert len(trades) == 1
    trade = trades[0]
    assert (trade["order_id"], trade["side"], trade["qty"], trade["price"]) == (buy["order_id"], "BUY", "0.2", "30000")
    assert trade["match_order_id"] == sell["order_id"]  # the other side is a user of the same org
    assert org_a.read.ok("/trade/spot/getTradeDetailList", {"uid": buyer["uid"], "listType": "simple"}) == \
        [trade["trade_id"]]
    assert_conserved()


def test_trade_frozen_user_blocks_one_symbol_or_all_trading(org_a):
    user = new_user(org_a, "cy", funds={"USDT": "100000", "BTC": "1"})
    uid = user["uid"]
    org_a.asset.ok("/trade/frozenUser", {"uid": uid, "symbol_id": "BTCUSDT", "frozen": "1", "client_order_id": "t-1"})
    refused = org_a.asset.post("/trade/spot/createOrder", order(uid, "buy", "0.1", "30000", "o-1"))
    assert refused.status_code == 403 and body(refused)["code"] == 4040
    other = org_a.asset.ok("/trade/spot/createOrder", {**order(uid, "buy", "1", "2000", "o-2"), "symbol_id": "ETHUSDT"})
    assert other["status"] == "NEW"
    org_a.asset.ok("/trade/frozenUser", {"uid": uid, "symbol_id": "BTCUSDT", "frozen": "0", "client_order_id": "t-2"})
    org_a.asset.ok("/trade/frozenUser", {"uid": uid, "frozen": "1", "client_order_id": "t-3"})
    assert org_a.read.ok("/user/getFrozenUserList")[0]["trade_frozen"] is True
    refused = org_a.asset.post("/trade/spot/createOrder", {**order(uid, "buy", "1", "2000", "o-3"),
                                                           "symbol_id": "ETHUSDT"})
    assert refused.status_code == 403
    org_a.asset.ok("/trade/frozenUser", {"uid": uid, "frozen": "0", "client_order_id": "t-4"})
    assert org_a.asset.ok("/trade/spot/createOrder", order(uid, "buy", "0.1", "30000", "o-4"))["status"] == "NEW"
    drain_matcher()
