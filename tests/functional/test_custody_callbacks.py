import json
import random
import time
from decimal import Decimal as D

import pytest
from chalice.test import Client

from chalicelib.domain import ledger as money
from chalicelib.domain.custody import Holder
from chalicelib.domain.ledger import Subject
from chalicelib.gateways import custody as gateway
from chalicelib.services import catalog, deposits, events, ledger, users, withdrawals
from chalicelib.store import catalog as listings

ORG = "7002"
EXTERNAL = "0x" + "cd" * 20

from app import app  # the real app (a blueprint follows the last app it was registered on)


@pytest.fixture(autouse=True)
def listed_usdt():
    gateway.reset()
    listings.put_exchange_token(listings.ExchangeTokenRecord(
        exchange_id="301", token_id="USDT", name="USDT", full_name="Tether", precision=D("0.01"),
        chains=json.dumps([{"chainType": "ERC20", "requiredConfirmNum": 3}])))
    listings.put_org(listings.OrgRecord(org_id=ORG, name=ORG, exchange_id="301"))
    listings.put_org_token(listings.OrgTokenRecord(org_id=ORG, token_id="USDT", min_deposit=D(1), withdraw_fee=D(1),
                                                   min_withdraw=D(10), max_withdraw_daily=D(10000)))
    catalog.invalidate()
    yield
    gateway.reset()


@pytest.fixture
def client():
    with Client(app, stage_name="test") as test_client:
        yield test_client


def holder(name: str, funds: str = "0") -> Holder:
    user = users.register_user(ORG, email=f"{name}@example.com", operation_id=f"reg-{name}")
    if D(funds):
        ledger.post("test-funding", f"fund-{name}", money.postings(Subject.DEPOSIT, money.transfer(
            money.custody_account(ORG), user.main_account_id, "USDT", D(funds))))
    return Holder(ORG, user.uid, user.main_account_id)


def post(client, callback, **changes):
    sent = {"headers": callback.headers, "body": callback.body, **changes}
    return client.http.post(callback.path, headers=sent["headers"], body=sent["body"])


def balance(h: Holder):
    b = ledger.balance(h.account_id, "USDT")
    return b.available, b.locked


def deposit_reports(h: Holder, tag: str) -> list:
    """A credited deposit, one below the minimum and one still pending, step by step."""
    address = deposits.deposit_address(h, "USDT")["address"]
    simulator = gateway.simulator()
    steps = [("a", "12.5", c) for c in (0, 1, 2, 3, 4)] + [("b", "0.5", c) for c in (1, 6)] + [("c", "7", 1)]
    return [lambda tx=tx, amount=amount, c=c: simulator.deposit_report(
        chain="ERC20", token="USDT", address=address, amount=amount, confirmations=c, tx_hash=f"0x{tag}{tx}")
        for tx, amount, c in steps]


def withdrawal_reports(h: Holder) -> list:
    """One withdrawal that succeeds, one that fails, with their reports in order."""
    simulator = gateway.simulator()
    ok = withdrawals.create_withdrawal(h, token="USDT", amount=D(100), address=EXTERNAL, client_order_id="ok")
    bad = withdrawals.create_withdrawal(h, token="USDT", amount=D(50), address=EXTERNAL, client_order_id="bad")
    for created in (ok, bad):
        withdrawals.broadcast(int(created["withdrawal_id"]))
    ok_id, bad_id = ok["withdrawal_id"], bad["withdrawal_id"]
    return [lambda: simulator.withdrawal_report(ok_id, "auditing"),
            lambda: simulator.withdrawal_report(ok_id, "broadcast", confirmations=1),
            lambda: simulator.withdrawal_report(ok_id, "broadcast", confirmations=2),
            lambda: simulator.withdrawal_report(ok_id, "confirmed", confirmations=3),
            lambda: simulator.withdrawal_report(bad_id, "auditing"),
            lambda: simulator.withdrawal_report(bad_id, "failed", reason="gas")]


def outcome(h: Holder) -> tuple:
    return (balance(h),
            sorted((d["amount"], d["state"], d["confirmations"]) for d in deposits.deposit_history(h)),
            sorted((w["amount"], w["state"]) for w in withdrawals.withdrawal_history(h)))


# --- at-least-once, any order ---------------------------------------------------------------------

def test_every_report_delivered_three_times_and_out_of_order_gives_the_balances_of_one_delivery(client):
    once, often = holder("once", funds="1000"), holder("often", funds="1000")
    for report in deposit_reports(once, "1") + withdrawal_reports(once):
        assert post(client, report()).status_code == 200
    shuffled = (deposit_reports(often, "2") + withdrawal_reports(often)) * 3
    random.Random(5).shuffle(shuffled)
    for report in shuffled:
        assert post(client, report()).status_code == 200, "a repeated report is acknowledged"
    assert outcome(often) == outcome(once)
    assert balance(once) == (D("1000") + D("12.5") - D(101), D(0))
    fees = sum(ledger.balance(money.fee_account(ORG, shard), "USDT").total for shard in range(8))
    assert fees == D(2), "each success pays its fee once"
    assert ledger.reconcile().ok


# --- authenticity ---------------------------------------------------------------------------------------

def test_a_report_with_a_bad_signature_changes_nothing(client):
    alice = holder("alice")
    [report] = deposit_reports(alice, "1")[3:4]
    good = report()
    forged = {**good.headers, "X-Custody-Signature": "0" * 64}
    answer = post(client, good, headers=forged)
    assert (answer.status_code, answer.json_body["code"]) == (401, 5010)
    assert post(client, good, body=good.body.replace(b"12.5", b"9999")).status_code == 401
    assert deposits.deposit_history(alice) == [] and balance(alice) == (D(0), D(0))
    assert post(client, good).status_code == 200, "the genuine delivery still goes through"
    assert balance(alice) == (D("12.5"), D(0))


def test_a_report_with_a_stale_or_future_timestamp_changes_nothing(client):
    alice = holder("alice")
    address = deposits.deposit_address(alice, "USDT")["address"]
    now = int(time.time() * 1000)
    for skew in (-301_000, 301_000):
        stale = gateway.simulator().deposit_report(chain="ERC20", token="USDT", address=address, amount="5",
                                                   confirmations=3, timestamp_ms=now + skew)
        answer = post(client, stale)
        assert (answer.status_code, answer.json_body["code"]) == (401, 5010)
    assert deposits.deposit_history(alice) == []


def test_an_exact_copy_of_a_delivered_report_is_a_replay_and_changes_nothing(client):
    alice = holder("alice", funds="1000")
    created = withdrawals.create_withdrawal(alice, token="USDT", amount=D(100), address=EXTERNAL,
                                            client_order_id="w")
    withdrawals.broadcast(int(created["withdrawal_id"]))
    failed = gateway.simulator().withdrawal_report(created["withdrawal_id"], "failed")
    assert post(client, failed).status_code == 200
    replayed = post(client, failed)
    assert (replayed.status_code, replayed.json_body["code"]) == (401, 5010)
    assert balance(alice) == (D(1000), D(0))


# --- reports that cannot apply ------------------------------------------------------------------------------

def test_a_report_contradicting_a_final_outcome_is_acknowledged_recorded_and_changes_no_balance(client):
    alice = holder("alice", funds="1000")
    created = withdrawals.create_withdrawal(alice, token="USDT", amount=D(100), address=EXTERNAL,
                                            client_order_id="w")
    withdrawals.broadcast(int(created["withdrawal_id"]))
    simulator = gateway.simulator()
    assert post(client, simulator.withdrawal_report(created["withdrawal_id"], "confirmed")).status_code == 200
    late = post(client, simulator.withdrawal_report(created["withdrawal_id"], "failed"))
    assert (late.status_code, late.json_body["data"]["state"]) == (200, "SUCCESS")
    assert balance(alice) == (D(899), D(0))
    assert [e.type for e in events.replay("system")] == ["custody.withdrawalConflict"]


def test_a_report_on_a_withdrawal_custody_was_never_given_is_refused(client):
    alice = holder("alice", funds="1000")
    created = withdrawals.create_withdrawal(alice, token="USDT", amount=D(100), address=EXTERNAL,
                                            client_order_id="w")
    answer = post(client, gateway.simulator().withdrawal_report(created["withdrawal_id"], "confirmed"))
    assert (answer.status_code, answer.json_body["code"]) == (409, 5013)
    unknown = post(client, gateway.simulator().withdrawal_report("424242", "failed"))
    assert (unknown.status_code, unknown.json_body["code"]) == (400, 5007)
    assert balance(alice) == (D(899), D(101))


def test_an_unreadable_report_is_a_client_error_in_the_platform_format(client):
    simulator = gateway.simulator()
    bad = simulator._signed(gateway.DEPOSIT_CALLBACK_PATH, {"chain": "ERC20", "amount": "1e3"}, None)
    answer = post(client, bad)
    assert answer.status_code == 400 and set(answer.json_body) == {"code", "msg"}


# --- the simulator's controls on the local stack ---------------------------------------------------------

def test_the_local_stack_can_make_the_simulator_report_a_deposit_and_a_withdrawal_outcome(client):
    alice = holder("alice")
    address = deposits.deposit_address(alice, "USDT")["address"]
    answer = client.http.post("/custody/simulator/deposit", headers={"Content-Type": "application/json"},
                              body=json.dumps({"chain": "ERC20", "token": "USDT", "address": address,
                                               "amount": "40", "confirmations": 3}))
    assert (answer.status_code, answer.json_body["data"]["state"]) == (200, "CREDITED")
    created = withdrawals.create_withdrawal(alice, token="USDT", amount=D(20), address=EXTERNAL,
                                            client_order_id="w")
    withdrawals.broadcast(int(created["withdrawal_id"]))
    answer = client.http.post("/custody/simulator/withdrawal", headers={"Content-Type": "application/json"},
                              body=json.dumps({"withdrawal_id": created["withdrawal_id"], "status": "confirmed"}))
    assert answer.json_body["data"]["state"] == "SUCCESS"
    assert balance(alice) == (D(19), D(0))


def test_the_simulator_controls_do_not_exist_outside_the_local_stack(client, monkeypatch):
    monkeypatch.setenv("STAGE", "prod")
    answer = client.http.post("/custody/simulator/deposit", headers={"Content-Type": "application/json"},
                              body="{}")
    assert answer.status_code == 404
