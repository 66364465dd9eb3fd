import threading
from decimal import Decimal as D

from chalicelib.domain import ledger as rules
from chalicelib.domain.errors import InsufficientBalance
from chalicelib.domain.ledger import Subject
from chalicelib.services import ledger
from chalicelib.store import accounts
from chalicelib.store.transaction import Transaction

CUSTODY = rules.custody_account("org1")


def funded_account(amount: str) -> str:
    tx = Transaction()
    accounts.stage_create(tx, accounts.AccountOwner("1", "org1", "u1"))
    tx.commit()
    ledger.post("race", "fund", rules.postings(Subject.DEPOSIT, rules.transfer(CUSTODY, "1", "USDT", D(amount))))
    return "1"


def race(operations):
    outcomes = []
    barrier = threading.Barrier(len(operations))

    def run(index, operation):
        barrier.wait()
        try:
            operation(index)
            outcomes.append("ok")
        except InsufficientBalance:
            outcomes.append("insufficient")

    threads = [threading.Thread(target=run, args=(i, op)) for i, op in enumerate(operations)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_twenty_threads_debiting_one_balance_succeed_exactly_as_often_as_it_affords():
    account = funded_account("7")

    def withdraw(index):
        ledger.post("race", f"w{index}", rules.postings(
            Subject.WITHDRAWAL, rules.transfer(account, CUSTODY, "USDT", D(1))))

    outcomes = race([withdraw] * 20)
    assert outcomes.count("ok") == 7 and outcomes.count("insufficient") == 13
    assert ledger.balance(account, "USDT").available == 0
    assert ledger.reconcile().ok


def test_twenty_threads_locking_and_debiting_one_balance_never_take_it_below_zero():
    account = funded_account("10")

    def lock_or_debit(index):
        if index % 2:
            ledger.post("race", f"l{index}", rules.postings(Subject.ORDER_LOCK, rules.lock(account, "USDT", D(1))))
        else:
            ledger.post("race", f"d{index}", rules.postings(
                Subject.WITHDRAWAL, rules.transfer(account, CUSTODY, "USDT", D(1))))

    outcomes = race([lock_or_debit] * 20)
    balance = ledger.balance(account, "USDT")
    assert outcomes.count("ok") == 10
    assert balance.available == 0 and balance.locked + balance.available + balance.position >= 0
    assert ledger.reconcile().ok
