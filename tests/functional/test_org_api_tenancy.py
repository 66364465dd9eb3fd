"""Two orgs on one exchange: org A's key never reaches org B's users, orders or settings,
and a trade between their users tells each org only its own side."""
from __future__ import annotations

import json

import pytest

from chalicelib.domain.events import org_stream
from chalicelib.services import api_keys, catalog, events, ledger, users
from chalicelib.store import kyc as kyc_store
from chalicelib.store import org_users as org_user_store
from chalicelib.store import orders as order_store
from tests.functional.test_org_api_support import (  # noqa: F401  (fixtures)
    assert_conserved, body, drain_matcher, http, new_user, org_a, org_b, seeded,
)


@pytest.fixture
def victim(org_b):
    """A user of org B with money, an open order, KYC, a favorite and a key."""
    user = new_user(org_b, "victim", funds={"USDT": "1000", "BTC": "1"})
    uid = user["uid"]
    org_b.asset.ok("/user/updateKYCInfo", {"uid": uid, "country_code": "US", "first_name": "V", "last_name": "B",
                                           "card_no": "B7654321", "client_order_id": "kyc"})
    org_b.asset.ok("/user/updateFavorite", {"uid": uid, "symbol_id": "BTCUSDT", "client_order_id": "fav"})
    order = org_b.asset.ok("/trade/spot/createOrder", {"uid": uid, "symbol_id": "BTCUSDT", "side": "buy",
                                                       "quantity": "0.01", "price": "20000", "client_order_id": "o"})
    drain_matcher()
    return {**user, "order_id": order["order_id"]}


def snapshot(uid: str) -> dict:
    user = users.get_user("7003", uid)
    return {
        "user": user, "password": user.password_hash, "kyc": kyc_store.get(uid),
        "balances": sorted((b.token, b.available, b.locked, b.position) for b in ledger.balances(user.main_account_id)),
        "flows": [f.flow_id for f in ledger.flows(user.main_account_id, limit=500)],
        "orders": [(s.order.order_id, s.order.status, s.version) for s in order_store.of_account(user.main_account_id)],
        "freeze": org_user_store.get_freeze("7003", uid), "favorites": org_user_store.favorites(uid),
        "keys": [k.api_key for k in api_keys.list_user_keys("7003", uid)],
        "org_events": events.last_id(org_stream("7003")), "settings": catalog.org("7003").settings,
    }


def attempts(victim: dict, own_uid: str) -> list[tuple[str, dict]]:
    uid = victim["uid"]
    return [
        ("/user/getInfo", {"uid": uid}),
        ("/user/updateInfo", {"uid": uid, "password": "Hijacked-pass-1", "email": "evil@x.test"}),
        ("/user/updateKYCInfo", {"uid": uid, "country_code": "KR", "first_name": "E", "last_name": "V",
                                 "card_no": "1", "verify_status": "2"}),
        ("/user/getLoginHistory", {"uid": uid}),
        ("/user/getInviteList", {"uid": uid}),
        ("/user/frozenUser", {"uid": uid, "frozen": "1"}),
        ("/user/verifyKYC", {"uid": uid, "passed": "1", "kyc_level": "3"}),
        ("/user/updateFavorite", {"uid": uid, "symbol_id": "BTCUSDT", "action": "remove"}),
        ("/user/getFavoriteList", {"uid": uid}),
        ("/user/createOpenAPI", {"uid": uid, "key_type": "1"}),
        ("/user/sendNotice", {"uid": uid, "title": "x", "content": "y"}),
        ("/user/login", {"username": victim["email"], "password": "Secret-pass-1"}),
        ("/user/registerUser", {"email": "new@x.test", "invite_code": victim["invite_code"]}),
        ("/account/frozenUser", {"uid": uid, "frozen": "1"}),
        ("/account/getInfo", {"uid": uid}),
        ("/account/getAsset", {"uid": uid}),
        ("/account/getBalanceFlow", {"uid": uid}),
        ("/account/getDepositAddress", {"uid": uid, "token_id": "USDT"}),
        ("/account/getDepositHistory", {"uid": uid}),
        ("/account/getWithdrawQuota", {"uid": uid, "token_id": "USDT"}),
        ("/account/createWithdraw", {"uid": uid, "token_id": "USDT", "amount": "50", "address": "0x" + "cd" * 20}),
        ("/account/getWithdrawHistory", {"uid": uid}),
        ("/trade/frozenUser", {"uid": uid, "frozen": "1"}),
        ("/trade/spot/createOrder", {"uid": uid, "symbol_id": "BTCUSDT", "side": "sell", "quantity": "0.5",
                                     "price": "1"}),
        ("/trade/spot/cancelOrder", {"uid": uid, "order_id": victim["order_id"]}),
        ("/trade/spot/cancelOrder", {"uid": own_uid, "order_id": victim["order_id"]}),
        ("/trade/spot/getOpenOrderList", {"uid": uid}),
        ("/trade/spot/getHistoryOrderList", {"uid": uid}),
        ("/trade/spot/getTradeDetailList", {"uid": uid}),
        ("/finance/airdrop", {"uid": uid, "token_id": "USDT", "amount": "1"}),
        ("/finance/airdrop", {"uid": own_uid, "token_id": "USDT", "amount": "1", "from_uid": uid}),
        ("/finance/lock", {"uid": uid, "token_id": "USDT", "amount": "1"}),
        ("/finance/unlock", {"uid": uid, "token_id": "USDT", "amount": "1"}),
        ("/finance/convert", {"uid": uid, "source_token_id": "USDT", "source_amount": "1", "target_token_id": "BTC",
                              "min_target_amount": "0"}),
        ("/finance/convert", {"uid": own_uid, "source_token_id": "USDT", "source_amount": "1",
                              "target_token_id": "BTC", "min_target_amount": "0", "from_uid": uid}),
        ("/finance/mapping", {"uid": uid, "source_token_id": "USDT", "source_amount": "1", "target_token_id": "BTC"}),
        ("/updateSettings", {"notify_place_order": "1", "org_id": "7003"}),
    ]


def test_every_route_with_org_as_key_on_org_bs_user_order_or_settings_is_refused_without_effect(org_a, org_b,
                                                                                                 victim):
    own = new_user(org_a, "own", funds={"USDT": "100"})
    before = snapshot(victim["uid"])
    for n, (path, params) in enumerate(attempts(victim, own["uid"])):
        response = org_a.asset.post(path, {**params, "client_order_id": f"attack-{n}"})
        assert response.status_code in (400, 403), (path, response.body)
        code = body(response)["code"]
        assert code in (2001, 2004, 1105, 1032, 4030, 3003), (path, code, response.body)
        # the answer for another org's user is the answer for no user at all
        if code == 2004:
            assert body(response)["msg"] in ("User not found", "Order does not exist"), (path, response.body)
    # the same calls with A's key on B's domain do not even reach the route
    for path, params in attempts(victim, own["uid"])[:5]:
        assert body(org_a.asset.post(path, {**params, "client_order_id": "d"}, host="second.local"))["code"] == 1041
    after = snapshot(victim["uid"])
    assert after == before
    assert victim["uid"] not in org_a.read.ok("/user/getFrozenUserList", {"listType": "simple"})
    assert_conserved()


def test_lists_and_statistics_of_one_org_never_show_the_other(org_a, org_b, victim):
    own = new_user(org_a, "mine")
    assert body(org_a.read.post("/user/getInviteList", {"uid": own["uid"]})) == []
    org_b.asset.ok("/user/frozenUser", {"uid": victim["uid"], "frozen": "1", "client_order_id": "fb"})
    assert org_a.read.ok("/user/getFrozenUserList", {"listType": "simple"}) == []
    feed = org_a.read.ok("/notification/list", {"from_id": "0", "limit": "1000"})["events"]
    assert victim["uid"] not in json.dumps(feed)
    assert all(e["event"].get("uid") != victim["uid"] for e in feed)


def test_a_trade_between_users_of_two_orgs_tells_each_org_its_own_side_only(org_a, org_b):
    seller = new_user(org_a, "sa", funds={"BTC": "1"})
    buyer = new_user(org_b, "bb", funds={"USDT": "100000"})
    sell = org_a.asset.ok("/trade/spot/createOrder", {"uid": seller["uid"], "symbol_id": "BTCUSDT", "side": "sell",
                                                      "quantity": "0.3", "price": "30000", "client_order_id": "s"})
    drain_matcher()
    buy = org_b.asset.ok("/trade/spot/createOrder", {"uid": buyer["uid"], "symbol_id": "BTCUSDT", "side": "buy",
                                                     "quantity": "0.3", "price": "30000", "client_order_id": "b"})
    drain_matcher()
    a_feed = org_a.read.ok("/notification/list", {"limit": "1000"})["events"]
    b_feed = org_b.read.ok("/notification/list", {"limit": "1000"})["events"]
    a_trades = [e["event"] for e in a_feed if e["event_type"] == "org.tradeMatch"]
    b_trades = [e["event"] for e in b_feed if e["event_type"] == "org.tradeMatch"]
    assert len(a_trades) == len(b_trades) == 1
    assert (a_trades[0]["uid"], a_trades[0]["order_id"], a_trades[0]["is_buyer"]) == (seller["uid"], sell["order_id"],
                                                                                      False)
    assert (b_trades[0]["uid"], b_trades[0]["order_id"], b_trades[0]["is_buyer"]) == (buyer["uid"], buy["order_id"],
                                                                                      True)
    assert a_trades[0]["trade_id"] == b_trades[0]["trade_id"]
    for own_feed, other in ((a_feed, (buyer["uid"], buy["order_id"], buyer["main_account_id"])),
                            (b_feed, (seller["uid"], sell["order_id"], seller["main_account_id"]))):
        text = json.dumps(own_feed)
        assert all(value not in text for value in other), other
    a_list = org_a.read.ok("/trade/spot/getTradeDetailList", {"uid": seller["uid"]})
    assert a_list[0]["match_order_id"] == "" and buy["order_id"] not in json.dumps(a_list)
    b_list = org_b.read.ok("/trade/spot/getTradeDetailList", {"uid": buyer["uid"]})
    assert b_list[0]["match_order_id"] == "" and sell["order_id"] not in json.dumps(b_list)
    assert_conserved()
