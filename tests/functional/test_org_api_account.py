"""3.3 Account paths: balances, flows, asset freezes, deposits and withdrawals, by uid only."""
from __future__ import annotations

from decimal import Decimal as D

from chalicelib.api.custody_callbacks import accept
from chalicelib.domain.events import org_stream
from chalicelib.gateways import custody
from chalicelib.services import events
from tests.functional.test_org_api_support import (  # noqa: F401  (fixtures)
    assert_conserved, balance, body, http, new_user, org_a, org_b, seeded,
)

EXTERNAL = "0x" + "ab" * 20


def test_get_info_names_the_users_account(org_a):
    user = new_user(org_a, "amy")
    accounts = org_a.read.ok("/account/getInfo", {"uid": user["uid"]})
    assert accounts[0]["account_id"] == user["main_account_id"] and accounts[0]["account_type"] == 1
    assert accounts[0]["frozen"]["frozen_assets"] == {}
    assert org_a.read.ok("/account/getInfo", {"uid": user["uid"], "listType": "simple"}) == [user["main_account_id"]]


def test_get_asset_lists_balances_as_ids_or_seed_balance_objects(org_a):
    user = new_user(org_a, "ben", funds={"USDT": "100", "BTC": "0.5"})
    assert org_a.read.ok("/account/getAsset", {"uid": user["uid"], "listType": "simple"}) == ["BTC", "USDT"]
    full = org_a.read.ok("/account/getAsset", {"uid": user["uid"], "token_ids": "USDT"}, method="GET")
    assert full == [{"balance_id": f"{user['main_account_id']}:USDT", "account_id": user["main_account_id"],
                     "token_id": "USDT", "total": "100", "available": "100", "locked": "0", "position": "0"}]


def test_get_balance_flow_lists_flows_newest_first(org_a):
    user = new_user(org_a, "cat", funds={"USDT": "100"})
    org_a.asset.ok("/finance/lock", {"uid": user["uid"], "token_id": "USDT", "amount": "30", "client_order_id": "l"})
    full = org_a.read.ok("/account/getBalanceFlow", {"uid": user["uid"], "token_id": "USDT"})
    assert [(f["flow_type"], f["change"], f["total"]) for f in full] == [("LOCK_UP", "0", "100"),
                                                                          ("DEPOSIT", "100", "100")]
    assert full[0]["position_change"] == "30"
    simple = org_a.read.ok("/account/getBalanceFlow", {"uid": user["uid"], "listType": "simple", "limit": "1"})
    assert simple == [full[0]["id"]]
    older = org_a.read.ok("/account/getBalanceFlow", {"uid": user["uid"], "from_id": full[0]["id"]})
    assert [f["id"] for f in older] == [full[1]["id"]]


def test_frozen_user_freezes_one_token_amount_and_unfreezes_only_what_was_frozen(org_a):
    user = new_user(org_a, "dan", funds={"USDT": "100", "BTC": "1"})
    uid = user["uid"]
    state = org_a.asset.ok("/account/frozenUser", {"uid": uid, "token_id": "USDT", "amount": "40", "frozen": "1",
                                                   "client_order_id": "f-1"})
    assert state["frozen_assets"] == {"USDT": "40"}
    assert balance(uid, "7002", "USDT") == (D(60), D(40), D(0))
    too_much = org_a.asset.post("/account/frozenUser", {"uid": uid, "token_id": "USDT", "amount": "41",
                                                        "frozen": "0", "client_order_id": "f-2"})
    assert too_much.status_code == 400 and body(too_much)["code"] == 3022
    org_a.asset.ok("/account/frozenUser", {"uid": uid, "token_id": "USDT", "amount": "15", "frozen": "0",
                                           "client_order_id": "f-3"})
    assert balance(uid, "7002", "USDT") == (D(75), D(25), D(0))
    assert org_a.read.ok("/user/getFrozenUserList", {"listType": "simple"}) == [uid]
    assert_conserved()


def test_frozen_user_for_all_tokens_freezes_every_balance_and_withdrawals(org_a):
    user = new_user(org_a, "eve", funds={"USDT": "100", "BTC": "1"})
    uid = user["uid"]
    state = org_a.asset.ok("/account/frozenUser", {"uid": uid, "frozen": "true", "client_order_id": "all-1"})
    assert state["frozen_assets"] == {"BTC": "1", "USDT": "100"} and state["withdraw_frozen"] is True
    assert balance(uid, "7002", "BTC") == (D(0), D(1), D(0))
    refused = org_a.asset.post("/account/createWithdraw", {"uid": uid, "token_id": "USDT", "amount": "20",
                                                           "address": EXTERNAL, "client_order_id": "w-0"})
    assert refused.status_code == 400
    org_a.asset.ok("/account/frozenUser", {"uid": uid, "frozen": "false", "client_order_id": "all-2"})
    assert balance(uid, "7002", "BTC") == (D(1), D(0), D(0)) and balance(uid, "7002", "USDT")[0] == 100
    assert org_a.read.ok("/user/getFrozenUserList", {"listType": "simple"}) == []
    assert_conserved()


def test_get_deposit_address_and_get_deposit_history(org_a):
    user = new_user(org_a, "fox")
    address = org_a.asset.ok("/account/getDepositAddress", {"uid": user["uid"], "token_id": "USDT",
                                                            "chain_type": "ERC20"})
    assert address["address"].startswith("0x") and address["uid"] == user["uid"]
    again = org_a.asset.ok("/account/getDepositAddress", {"uid": user["uid"], "token_id": "USDT",
                                                          "chain_type": "ERC20"})
    assert again["address"] == address["address"]
    report = custody.simulator().deposit_report(chain="ERC20", token="USDT", address=address["address"],
                                                address_tag=None, amount="25", confirmations=50, tx_hash="0xbeef",
                                                output_index=0)
    accept(report.path, report.headers, report.body)
    history = org_a.read.ok("/account/getDepositHistory", {"uid": user["uid"]})
    assert [(d["token"], d["amount"], d["state"]) for d in history] == [("USDT", "25", "CREDITED")]
    assert org_a.read.ok("/account/getDepositHistory", {"uid": user["uid"], "listType": "simple"}) == \
        [history[0]["deposit_id"]]
    notices = [e for e in events.replay(org_stream("7002"), 0, 1000) if e.type == "org.userDepositNotice"]
    assert notices[-1].payload["uid"] == user["uid"]


def test_get_withdraw_quota_create_withdraw_and_get_withdraw_history(org_a):
    user = new_user(org_a, "gil", funds={"USDT": "100"})
    quota = org_a.read.ok("/account/getWithdrawQuota", {"uid": user["uid"], "token_id": "USDT"})
    assert (quota["fee"], quota["min_withdraw"], quota["max_withdrawable"]) == ("1", "10", "99")
    params = {"uid": user["uid"], "token_id": "USDT", "amount": "20", "address": EXTERNAL, "chain_type": "ERC20",
              "client_order_id": "w-1"}
    created = org_a.asset.ok("/account/createWithdraw", params)
    assert (created["amount"], created["fee"], created["client_order_id"]) == ("20", "1", "w-1")
    assert balance(user["uid"], "7002", "USDT") == (D(79), D(21), D(0))
    assert org_a.asset.ok("/account/createWithdraw", params)["withdrawal_id"] == created["withdrawal_id"]
    assert balance(user["uid"], "7002", "USDT") == (D(79), D(21), D(0))
    history = org_a.read.ok("/account/getWithdrawHistory", {"uid": user["uid"]})
    assert [w["withdrawal_id"] for w in history] == [created["withdrawal_id"]]
    assert org_a.read.ok("/account/getWithdrawHistory", {"uid": user["uid"], "listType": "simple"}) == \
        [created["withdrawal_id"]]
    kinds = [e.type for e in events.replay(org_stream("7002"), 0, 1000)]
    assert "org.userWithdraw" in kinds
