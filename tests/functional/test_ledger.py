from decimal import Decimal as D

import pytest

from chalicelib.domain import ledger as rules
from chalicelib.domain.errors import IdempotencyMismatch, InsufficientBalance
from chalicelib.domain.ledger import Subject
from chalicelib.services import events, ledger
from chalicelib.store import accounts, faults
from chalicelib.store.transaction import Transaction

ORG = "org1"
CUSTODY = rules.custody_account(ORG)


def open_account(account_id: str, uid: str) -> None:
    tx = Transaction()
    accounts.stage_create(tx, accounts.AccountOwner(account_id, ORG, uid))
    tx.commit()


def deposit(account_id, token, amount, operation_id):
    return ledger.post("test", operation_id, rules.postings(
        Subject.DEPOSIT, rules.transfer(CUSTODY, account_id, token, D(amount))))


def test_a_deposit_moves_value_out_of_custody_so_the_token_still_sums_to_zero():
    open_account("1", "u1")
    deposit("1", "BTC", "1.25", "d1")
    assert ledger.balance("1", "BTC").available == D("1.25")
    assert ledger.balance(CUSTODY, "BTC").available == D("-1.25")
    assert ledger.reconcile().ok


def test_locking_more_than_is_available_is_refused_and_changes_nothing():
    open_account("1", "u1")
    deposit("1", "USDT", "10", "d1")
    with pytest.raises(InsufficientBalance):
        ledger.post("test", "l1", rules.postings(Subject.ORDER_LOCK, rules.lock("1", "USDT", D("10.01"))))
    assert ledger.balance("1", "USDT") == rules.Balance("1", "USDT", D(10), D(0), D(0), 1)


def test_the_same_operation_id_replayed_ten_times_has_one_effect_and_the_same_response():
    open_account("1", "u1")
    responses = [deposit("1", "ETH", "2", "same-id") for _ in range(10)]
    assert all(response == responses[0] for response in responses)
    assert ledger.balance("1", "ETH").available == D(2)
    assert len(ledger.flows("1")) == 1


def test_the_same_operation_id_with_another_payload_gets_the_mismatch_error():
    open_account("1", "u1")
    deposit("1", "ETH", "2", "same-id")
    with pytest.raises(IdempotencyMismatch):
        deposit("1", "ETH", "3", "same-id")
    assert ledger.balance("1", "ETH").available == D(2)


def test_every_balance_equals_the_sum_of_its_flows_after_mixed_operations():
    open_account("1", "u1")
    open_account("2", "u2")
    deposit("1", "BTC", "5", "d1")
    ledger.post("test", "t1", rules.postings(Subject.TRANSFER, rules.transfer("1", "2", "BTC", D("1.5"))))
    ledger.post("test", "l1", rules.postings(Subject.ORDER_LOCK, rules.lock("1", "BTC", D("2"))))
    ledger.post("test", "p1", rules.postings(Subject.LOCK_UP, rules.lock_up("2", "BTC", D("1"))))
    report = ledger.reconcile()
    assert report.ok, report
    assert ledger.balance("1", "BTC") == rules.Balance("1", "BTC", D("1.5"), D("2"), D(0), 3)
    assert ledger.balance("2", "BTC").position == D(1)


def test_several_postings_on_one_balance_write_it_once_and_keep_a_flow_row_each():
    open_account("1", "u1")
    open_account("2", "u2")
    deposit("1", "USDT", "100", "d1")
    fee_account = rules.fee_account(ORG, 0)
    entries = (rules.postings(Subject.TRADE, rules.transfer("1", "2", "USDT", D("50")))
               + rules.postings(Subject.FEE, rules.transfer("1", fee_account, "USDT", D("0.05"))))
    ledger.post("test", "trade-1", entries)
    assert ledger.balance("1", "USDT") == rules.Balance("1", "USDT", D("49.95"), D(0), D(0), 2)
    assert sorted(flow.subject for flow in ledger.flows("1")) == sorted(
        [Subject.DEPOSIT, Subject.TRADE, Subject.FEE])
    assert ledger.reconcile().ok


def test_each_user_balance_change_appends_a_user_event_and_an_org_notification():
    open_account("1", "u1")
    deposit("1", "BTC", "1", "d1")
    user_events = events.replay("user:u1")
    org_events = events.replay("org:org1")
    assert [(e.id, e.type, e.payload["total"]) for e in user_events] == [(1, "balance", "1")]
    assert [(e.type, e.payload["uid"]) for e in org_events] == [("org.userBalanceChanged", "u1")]


def test_a_crash_between_commit_and_relay_leaves_the_events_for_the_sweeper_without_loss():
    open_account("1", "u1")
    crashes = iter([True])
    faults.arm("transaction.after_commit", lambda: next(crashes, False))
    with pytest.raises(faults.InjectedCrash):
        deposit("1", "BTC", "1", "d1")
    assert events.replay("user:u1") == []
    assert events.relay_pending(min_age_seconds=0) == 2
    assert events.relay_pending(min_age_seconds=0) == 0
    assert [e.type for e in events.replay("user:u1")] == ["balance"]
    replayed = deposit("1", "BTC", "1", "d1")
    assert str(ledger.flows("1")[0].flow_id) in replayed["flow_ids"]
    assert ledger.balance("1", "BTC").available == D(1)


def test_a_page_between_two_adjacent_ids_is_empty_rather_than_an_error():
    open_account("1", "u1")
    deposit("1", "BTC", "1", "d1")
    flow_id = ledger.flows("1")[0].flow_id
    assert ledger.flows("1", before_id=flow_id + 1, after_id=flow_id) == []
    assert ledger.flows("1", before_id=flow_id, after_id=flow_id) == []
    assert [f.flow_id for f in ledger.flows("1", before_id=flow_id + 1, after_id=flow_id - 1)] == [flow_id]
