"""3.5 Finance paths: airdrop (single, batch, lock-up, from a user), lock, unlock, convert, mapping."""
from __future__ import annotations

import json
from decimal import Decimal as D

from chalicelib.domain import ledger as money
from chalicelib.domain.events import org_stream
from chalicelib.services import events, ledger
from tests.functional.test_org_api_support import (  # noqa: F401  (fixtures)
    assert_conserved, balance, body, drain_matcher, http, new_user, org_a, org_b, seeded,
)


def kinds(org_id="7002"):
    return [e.type for e in events.replay(org_stream(org_id), 0, 5000)]


def of_kind(kind, org_id="7002"):
    return [e.payload for e in events.replay(org_stream(org_id), 0, 5000) if e.type == kind]


def operating(token):
    return ledger.balance(money.operating_account("7002"), token).available


def test_a_single_airdrop_to_the_balance_or_into_lock_up_comes_from_the_operating_account(org_a):
    user = new_user(org_a, "ada")
    before = operating("USDT")
    answer = org_a.asset.ok("/finance/airdrop", {"uid": user["uid"], "token_id": "USDT", "amount": "12.5",
                                                 "client_order_id": "ad-1", "desc": "welcome"})
    assert (answer["status"], answer["item_count"], answer["totals"]) == (1, 1, {"USDT": "12.5"})
    org_a.asset.ok("/finance/airdrop", {"uid": user["uid"], "token_id": "USDT", "amount": "7.5", "to_lock": "true",
                                        "client_order_id": "ad-2"})
    assert balance(user["uid"], "7002", "USDT") == (D("12.5"), D(0), D("7.5"))
    assert operating("USDT") == before - 20
    received = of_kind("org.userReceiveAirdrop")
    assert [(r["uid"], r["amount"], r["to_lock"]) for r in received] == [(user["uid"], "12.5", False),
                                                                        (user["uid"], "7.5", True)]
    assert [a["airdrop_id"] for a in of_kind("org.airdrop")] == ["ad-1", "ad-2"]
    assert_conserved()


def test_a_batch_airdrop_in_simple_or_json_items_spanning_several_transactions(org_a):
    users = [new_user(org_a, f"u{n}") for n in range(3)]
    simple = ";".join(f"{u['uid']},USDT,1" for u in users) + f";{users[0]['uid']},BTC,0.01,true"
    org_a.asset.ok("/finance/airdrop", {"data_type": "simple", "items": simple, "client_order_id": "batch-1"})
    assert balance(users[0]["uid"], "7002", "BTC") == (D(0), D(0), D("0.01"))
    many = [{"uid": users[n % 3]["uid"], "token_id": "USDT", "amount": "0.5"} for n in range(120)]
    answer = org_a.asset.ok("/finance/airdrop", {"data_type": "json", "items": json.dumps(many),
                                                 "client_order_id": "batch-2"})
    assert answer["chunks"] > 1 and answer["totals"] == {"USDT": "60"}
    assert [balance(u["uid"], "7002", "USDT")[0] for u in users] == [D(21), D(21), D(21)]
    assert len(of_kind("org.userReceiveAirdrop")) == 4 + 120
    assert_conserved()


def test_an_airdrop_from_a_user_refuses_more_than_the_user_has_and_moves_nothing(org_a):
    sponsor = new_user(org_a, "spo", funds={"ETH": "1"})
    target = new_user(org_a, "tgt")
    refused = org_a.asset.post("/finance/airdrop", {"uid": target["uid"], "token_id": "ETH", "amount": "2",
                                                    "from_uid": sponsor["uid"], "client_order_id": "ad-x"})
    assert refused.status_code == 400 and body(refused)["code"] == 3001
    org_a.asset.ok("/finance/airdrop", {"uid": target["uid"], "token_id": "ETH", "amount": "0.4",
                                        "from_uid": sponsor["uid"], "client_order_id": "ad-y"})
    assert balance(sponsor["uid"], "7002", "ETH")[0] == D("0.6")
    assert balance(target["uid"], "7002", "ETH")[0] == D("0.4")
    off_grid = org_a.asset.post("/finance/airdrop", {"uid": target["uid"], "token_id": "USDT", "amount": "0.0000001",
                                                     "client_order_id": "ad-z"})
    assert off_grid.status_code == 400


def test_lock_and_unlock_move_a_balance_into_lock_up_and_back(org_a):
    user = new_user(org_a, "lia", funds={"BTC": "2"})
    locked = org_a.asset.ok("/finance/lock", {"uid": user["uid"], "token_id": "BTC", "amount": "1.5",
                                              "client_order_id": "lk-1"})
    assert locked["success"] is True
    assert balance(user["uid"], "7002", "BTC") == (D("0.5"), D(0), D("1.5"))
    org_a.asset.ok("/finance/unlock", {"uid": user["uid"], "token_id": "BTC", "amount": "1",
                                       "client_order_id": "ul-1"})
    assert balance(user["uid"], "7002", "BTC") == (D("1.5"), D(0), D("0.5"))
    too_much = org_a.asset.post("/finance/unlock", {"uid": user["uid"], "token_id": "BTC", "amount": "1",
                                                    "client_order_id": "ul-2"})
    assert too_much.status_code == 400 and body(too_much)["code"] == 3001
    assert [p["amount"] for p in of_kind("org.userLock")] == ["1.5"]
    assert [p["amount"] for p in of_kind("org.userUnLock")] == ["1"]
    assert_conserved()


def _trade_at(org_a, price):
    seller, buyer = new_user(org_a, "mks", funds={"BTC": "1"}), new_user(org_a, "mkb", funds={"USDT": "100000"})
    for uid, side, cid in ((seller["uid"], "sell", "m-s"), (buyer["uid"], "buy", "m-b")):
        org_a.asset.ok("/trade/spot/createOrder", {"uid": uid, "symbol_id": "BTCUSDT", "side": side, "type": "limit",
                                                   "quantity": "0.01", "price": price, "client_order_id": cid})
        drain_matcher()


def test_convert_uses_the_last_price_and_refuses_beyond_the_slippage_bound(org_a):
    user = new_user(org_a, "cov", funds={"USDT": "1000"})
    no_market = org_a.asset.post("/finance/convert", {"uid": user["uid"], "source_token_id": "USDT",
                                                      "source_amount": "300", "target_token_id": "BTC",
                                                      "min_target_amount": "0.001", "client_order_id": "cv-0"})
    assert no_market.status_code == 400 and body(no_market)["code"] == 3021
    _trade_at(org_a, "30000")
    unbounded = org_a.asset.post("/finance/convert", {"uid": user["uid"], "source_token_id": "USDT",
                                                      "source_amount": "300", "target_token_id": "BTC",
                                                      "client_order_id": "cv-1"})
    assert unbounded.status_code == 400 and body(unbounded)["code"] == 2002
    slipped = org_a.asset.post("/finance/convert", {"uid": user["uid"], "source_token_id": "USDT",
                                                    "source_amount": "300", "target_token_id": "BTC",
                                                    "min_target_amount": "0.0101", "client_order_id": "cv-2"})
    assert slipped.status_code == 400 and body(slipped)["code"] == 3020
    converted = org_a.asset.ok("/finance/convert", {"uid": user["uid"], "source_token_id": "USDT",
                                                    "source_amount": "300", "target_token_id": "BTC",
                                                    "expected_rate": "0.0000334", "max_slippage": "0.01",
                                                    "client_order_id": "cv-3"})
    assert converted["target_amount"] == "0.01"
    assert balance(user["uid"], "7002", "USDT")[0] == 700 and balance(user["uid"], "7002", "BTC")[0] == D("0.01")
    assert of_kind("org.convert")[-1]["target_amount"] == "0.01"
    assert_conserved()


def test_mapping_uses_the_orgs_fixed_rate_and_may_land_in_lock_up(org_a):
    user = new_user(org_a, "map", funds={"ETH": "2"})
    unset = org_a.asset.post("/finance/mapping", {"uid": user["uid"], "source_token_id": "ETH", "source_amount": "1",
                                                  "target_token_id": "USDT", "client_order_id": "mp-0"})
    assert unset.status_code == 400 and body(unset)["code"] == 3021
    org_a.asset.ok("/updateSettings", {"token_id": "ETH", "target_token_id": "USDT", "mapping_rate": "1500",
                                       "client_order_id": "rate-1"})
    mapped = org_a.asset.ok("/finance/mapping", {"uid": user["uid"], "source_token_id": "ETH", "source_amount": "1.5",
                                                 "target_token_id": "USDT", "to_lock": "true",
                                                 "client_order_id": "mp-1"})
    assert (mapped["target_amount"], mapped["rate"]) == ("2250", "1500")
    assert balance(user["uid"], "7002", "USDT") == (D(0), D(0), D(2250))
    assert balance(user["uid"], "7002", "ETH")[0] == D("0.5")
    assert of_kind("org.mapping")[-1]["uid"] == user["uid"]
    assert_conserved()
