"""Admin API finance: totals, fee income, operating account, airdrops, lock-up, flows,
reconciliation. After every test the ledger sums to zero per token and every balance
equals its flows."""
from __future__ import annotations

import json
from decimal import Decimal as D

from chalicelib.domain import ledger as money
from chalicelib.services import ledger, orders, users
from chalicelib.store import faults
from chalicelib.store import ledger as ledger_store
from chalicelib.store.transaction import Transaction
from tests.functional.test_admin_support import (  # noqa: F401  (fixtures)
    ORG, OTHER_HOST, OTHER_ORG, admin_login, audit_rows, data, http, ledger_stays_conserved, make_admin,
    owner, seeded, staff,
)
from tests.functional.test_openapi_support import drain_matcher


def demo_user(email: str = "alice@demo.local", org_id: str = ORG):
    return users.find_by_login(org_id, email)


def parts(uid: str, token: str, org_id: str = ORG):
    b = ledger.balance(users.get_user(org_id, uid).main_account_id, token)
    return b.available, b.locked, b.position


def operating(token: str, org_id: str = ORG) -> D:
    return ledger.balance(money.operating_account(org_id), token).available


def other_owner(http):
    make_admin(OTHER_ORG, "boss", ["owner"], "Other-admin-1")
    return admin_login(http, "boss", "Other-admin-1", host=OTHER_HOST)


def trade_once(price="100", qty="1"):
    """Alice sells to Bob at `price`: fees land in the org's fee accounts."""
    alice, bob = demo_user(), demo_user("bob@demo.local")
    for user, side in ((alice, "SELL"), (bob, "BUY")):
        orders.place_order(orders.Trader(ORG, user.uid, user.main_account_id), symbol="BTCUSDT", side=side,
                           order_type="LIMIT", quantity=D(qty), price=D(price), time_in_force="GTC")
        drain_matcher()


def test_per_token_totals_split_users_fees_operating_and_custody_and_sum_to_zero(owner):
    rows = {row["token_id"]: row for row in data(owner.read("finance/totals"))["list"]}
    btc = rows["BTC"]
    assert btc["users"]["available"] == "20" and btc["user_holders"] == 2
    assert btc["operating"]["total"] == "100" and btc["custody"]["total"] == "-120"
    for row in rows.values():
        assert sum(D(row[group]["total"]) for group in ("users", "fee", "operating", "custody")) == 0
        assert D(row["platform_held"]) == -D(row["custody"]["total"])
    assert owner.read("finance/totals", {"token_id": "BTC"}).status == 400  # it takes no parameters


def test_a_single_airdrop_to_the_balance_or_into_lock_up_comes_from_the_operating_account(owner):
    alice = demo_user()
    before = operating("USDT")
    first = data(owner.call("finance/airdrop", {"uid": alice.uid, "token_id": "USDT", "amount": "12.5",
                                                "operation_id": "ad-1", "desc": "welcome"}))
    assert (first["item_count"], first["totals"]) == (1, {"USDT": "12.5"})
    data(owner.call("finance/airdrop", {"uid": alice.uid, "token_id": "USDT", "amount": "7.5", "to_lock": "true",
                                        "operation_id": "ad-2"}))
    assert parts(alice.uid, "USDT") == (D("1000012.5"), D(0), D("7.5"))
    assert operating("USDT") == before - 20
    rows = audit_rows(action="finance/airdrop")
    assert len(rows) == 2 and rows[-1]["target"] == "airdrop:ad-1"
    assert D(rows[-1]["before"]["operating"]["USDT"]["available"]) - \
        D(rows[-1]["after"]["operating"]["USDT"]["available"]) == D("12.5")


def test_a_batch_airdrop_retried_with_the_same_operation_id_pays_once(owner):
    alice, bob = demo_user(), demo_user("bob@demo.local")
    rows = [{"uid": (alice, bob)[n % 2].uid, "token_id": "ETH", "amount": "0.5"} for n in range(150)]
    rows.append({"uid": bob.uid, "token_id": "BTC", "amount": "0.01", "to_lock": True})
    params = {"items": json.dumps(rows), "operation_id": "batch-1", "desc": "spring"}
    first = data(owner.call("finance/airdrop_batch", params))
    assert first["chunks"] > 1 and first["totals"] == {"BTC": "0.01", "ETH": "75"}
    after_first = (parts(alice.uid, "ETH"), parts(bob.uid, "ETH"), parts(bob.uid, "BTC"), operating("ETH"))
    again = data(owner.call("finance/airdrop_batch", params))
    assert again == first
    assert (parts(alice.uid, "ETH"), parts(bob.uid, "ETH"), parts(bob.uid, "BTC"), operating("ETH")) == after_first
    assert after_first[0][0] == D("137.5") and after_first[2] == (D(10), D(0), D("0.01"))
    reused = owner.call("finance/airdrop_batch", {**params, "desc": "another"})
    assert (reused.status, reused.code) == (400, 6001)


def test_a_batch_cut_short_part_way_pays_only_the_missing_chunks_when_retried(owner):
    alice = demo_user()
    rows = [{"uid": alice.uid, "token_id": "USDT", "amount": "1"} for _ in range(200)]
    params = {"items": json.dumps(rows), "operation_id": "batch-crash"}
    # the process dies at the first commit after a chunk has paid: the second chunk
    faults.arm("transaction.before_commit", lambda: parts(alice.uid, "USDT")[0] > D(1_000_000))
    crashed = owner.call("finance/airdrop_batch", params)
    faults.disarm_all()
    assert crashed.status == 500
    paid_once = parts(alice.uid, "USDT")[0] - D(1_000_000)
    assert 0 < paid_once < 200
    done = data(owner.call("finance/airdrop_batch", params))
    assert done["totals"] == {"USDT": "200"}
    assert parts(alice.uid, "USDT")[0] == D(1_000_200)


def test_an_airdrop_larger_than_the_operating_balance_is_refused_and_changes_nothing(owner):
    alice = demo_user()
    held = operating("BTC")
    rows = [{"uid": alice.uid, "token_id": "BTC", "amount": "1"} for _ in range(int(held) + 1)]
    flows_before = len(ledger.flows(money.operating_account(ORG), limit=1000))
    refused = owner.call("finance/airdrop_batch", {"items": json.dumps(rows), "operation_id": "too-big"})
    assert (refused.status, refused.code) == (400, 3001)
    single = owner.call("finance/airdrop", {"uid": alice.uid, "token_id": "BTC", "amount": str(held + 1),
                                            "operation_id": "too-big-1"})
    assert (single.status, single.code) == (400, 3001)
    assert operating("BTC") == held and parts(alice.uid, "BTC") == (D(10), D(0), D(0))
    assert len(ledger.flows(money.operating_account(ORG), limit=1000)) == flows_before
    assert not audit_rows(action="finance/airdrop_batch") and not audit_rows(action="finance/airdrop")


def test_airdrop_rows_are_validated_before_anything_moves(owner, http):
    alice = demo_user()
    off_grid = owner.call("finance/airdrop", {"uid": alice.uid, "token_id": "USDT", "amount": "0.0000001",
                                              "operation_id": "g1"})
    exponent = owner.call("finance/airdrop", {"uid": alice.uid, "token_id": "USDT", "amount": "1e3",
                                              "operation_id": "g2"})
    stranger = other_owner(http)
    foreign = stranger.call("finance/airdrop", {"uid": alice.uid, "token_id": "USDT", "amount": "1",
                                                "operation_id": "g3"})
    not_json = owner.call("finance/airdrop_batch", {"items": "uid,USDT,1", "operation_id": "g4"})
    assert [a.status for a in (off_grid, exponent, foreign, not_json)] == [400] * 4
    assert exponent.json["msg"].startswith("Invalid amount") and "items" in not_json.json["msg"]
    assert parts(alice.uid, "USDT") == (D(1_000_000), D(0), D(0))


def test_lock_and_unlock_move_a_user_balance_into_lock_up_and_back_with_audit_rows(owner):
    bob = demo_user("bob@demo.local")
    locked = data(owner.call("finance/lock", {"uid": bob.uid, "token_id": "BTC", "amount": "1.5",
                                              "operation_id": "lk-1"}))
    assert locked["client_order_id"] == "lk-1" and parts(bob.uid, "BTC") == (D("8.5"), D(0), D("1.5"))
    data(owner.call("finance/lock", {"uid": bob.uid, "token_id": "BTC", "amount": "1.5", "operation_id": "lk-1"}))
    data(owner.call("finance/unlock", {"uid": bob.uid, "token_id": "BTC", "amount": "1", "operation_id": "ul-1"}))
    assert parts(bob.uid, "BTC") == (D("9.5"), D(0), D("0.5"))
    too_much = owner.call("finance/unlock", {"uid": bob.uid, "token_id": "BTC", "amount": "1",
                                             "operation_id": "ul-2"})
    assert (too_much.status, too_much.code) == (400, 3001)
    row = audit_rows(action="finance/unlock")[0]
    assert row["target"] == f"user:{bob.uid}:BTC"
    assert (row["before"]["position"], row["after"]["position"]) == ("1.5", "0.5")


def test_the_operating_account_is_funded_from_custody_or_from_a_user(owner):
    alice = demo_user()
    before = {b["token_id"]: b for b in data(owner.read("finance/operating"))["list"]}
    data(owner.call("finance/operating_fund", {"token_id": "ETH", "amount": "50", "operation_id": "f-1"}))
    data(owner.call("finance/operating_fund", {"token_id": "ETH", "amount": "5", "from_uid": alice.uid,
                                               "operation_id": "f-2"}))
    assert operating("ETH") == D(before["ETH"]["available"]) + 55
    assert parts(alice.uid, "ETH")[0] == D(95)
    rows = audit_rows(action="finance/operating_fund")
    assert {r["target"] for r in rows} == {"account:operating:ETH"} and len(rows) == 2


def test_flows_of_a_user_or_a_system_account_page_with_a_cursor_and_stay_inside_the_org(owner, http):
    alice = demo_user()
    for n in range(3):
        data(owner.call("finance/airdrop", {"uid": alice.uid, "token_id": "USDT", "amount": "1",
                                            "operation_id": f"fl-{n}"}))
    first = data(owner.read("finance/flows", {"uid": alice.uid, "token_id": "USDT", "limit": 2}))
    assert [f["subject_name"] for f in first["list"]] == ["AIRDROP", "AIRDROP"] and first["next_before_id"]
    rest = data(owner.read("finance/flows", {"uid": alice.uid, "token_id": "USDT", "limit": 2,
                                             "before_id": first["next_before_id"]}))
    assert [f["subject_name"] for f in rest["list"]] == ["AIRDROP", "DEPOSIT"] and rest["next_before_id"] is None
    system = data(owner.read("finance/flows", {"account": "operating", "token_id": "USDT"}))
    assert [f["change"] for f in system["list"][:3]] == ["-1", "-1", "-1"]
    assert owner.read("finance/flows", {"account": "7003:operating"}).status == 400
    assert owner.read("finance/flows", {}).status == 400
    assert other_owner(http).read("finance/flows", {"uid": alice.uid}).code == 2004


def test_fee_income_and_the_symbols_report_show_what_trades_earned(owner):
    trade_once()
    income = data(owner.read("finance/fee_income", {"granularity": "minute"}))["list"]
    earned = {(row["token_id"], row["source"]): D(row["amount"]) for row in income}
    assert earned == {("BTC", "BTCUSDT"): D("0.002"), ("USDT", "BTCUSDT"): D("0.1")}
    totals = {row["token_id"]: row for row in data(owner.read("finance/totals"))["list"]}
    assert totals["BTC"]["fee"]["total"] == "0.002" and totals["USDT"]["fee"]["total"] == "0.1"
    assert owner.read("finance/fee_income", {"granularity": "week"}).status == 400


def test_reconciliation_reports_a_balance_whose_flows_do_not_add_up_only_to_its_own_org(owner, http):
    clean = data(owner.read("finance/reconciliation"))
    assert clean["ok"] is True and all(t["zero_sum"] for t in clean["tokens"])
    alice = demo_user()
    stray = ledger_store.get(alice.main_account_id, "ETH")
    tx = Transaction()
    ledger_store.stage_balance(tx, stray, money.Balance(alice.main_account_id, "ETH", stray.available + 1,
                                                        version=stray.version + 1))
    tx.commit()
    report = data(owner.read("finance/reconciliation"))
    assert report["ok"] is False
    assert [row["account_id"] for row in report["mismatched_balances"]] == [alice.main_account_id]
    assert {t["token_id"]: t["zero_sum"] for t in report["tokens"]}["ETH"] is False
    foreign = data(other_owner(http).read("finance/reconciliation"))
    assert foreign["mismatched_balances"] == []
    tx = Transaction()
    ledger_store.stage_balance(tx, ledger_store.get(alice.main_account_id, "ETH"),
                               money.Balance(alice.main_account_id, "ETH", stray.available, version=stray.version + 2))
    tx.commit()


def test_an_org_admin_never_sees_another_orgs_figures(owner, http):
    data(owner.call("finance/airdrop", {"uid": demo_user().uid, "token_id": "USDT", "amount": "3",
                                        "operation_id": "mine"}))
    stranger = other_owner(http)
    totals = {row["token_id"]: row for row in data(stranger.read("finance/totals"))["list"]}
    assert all(row["users"]["total"] == "0" and row["operating"]["total"] == "0" for row in totals.values())
    assert data(stranger.read("finance/operating"))["list"] == []
    assert data(stranger.read("finance/flows", {"account": "operating"}))["list"] == []


def test_only_finance_permissions_reach_the_finance_desk(staff):
    alice = demo_user()
    move = {"uid": alice.uid, "token_id": "USDT", "amount": "1"}
    assert staff["finance"].call("finance/airdrop", {**move, "operation_id": "p-1"}).status == 200
    for role in ("operator", "reviewer", "support"):
        assert staff[role].call("finance/airdrop", {**move, "operation_id": f"p-{role}"}).status == 403
        assert staff[role].read("finance/totals").status == 403
    assert parts(alice.uid, "USDT")[0] == D(1_000_001)
