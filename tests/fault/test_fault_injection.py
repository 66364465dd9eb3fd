"""Random operations with the matcher and the custody worker killed between writes.

The size comes from FAULT_OPS (default 1,000: about two minutes on one free core; the
bench `bench/fault_injection.py` runs 10,000+) and the seed from FAULT_SEED.
"""
import os

import pytest

from chalicelib.services import ledger
from chalicelib.store import faults
from tests.fault import invariants, world
from tests.fault.harness import Harness
from tests.fault.killer import Killer, ProcessDeath

FAULT_OPS = int(os.environ.get("FAULT_OPS", "1000"))
FAULT_SEED = int(os.environ.get("FAULT_SEED", "7"))


@pytest.fixture
def harness():
    h = Harness(seed=FAULT_SEED)
    yield h
    h.close()


def test_random_operations_with_kills_and_duplicate_deliveries_keep_every_invariant(harness):
    harness.run(FAULT_OPS)
    harness.drain()
    results = invariants.check(harness.users)
    summary = harness.summary()
    print(f"\nfault injection: {summary}")
    assert summary["crashes_injected"] > 0 and summary["duplicates_delivered"] > 0, "no faults were injected"
    assert harness.tally.unexpected == [], harness.tally.unexpected[:3]
    assert harness.errors.records == [], harness.errors.records[:5]
    assert harness.tally.violations == [], harness.tally.violations[:5]
    assert {name: problems[:5] for name, problems in results.items() if problems} == {}


def test_a_killed_process_writes_nothing_until_it_restarts(harness):
    killer = harness.killer
    account = harness.users[0].holder.account_id
    custody = "org-custody"  # any account may receive: the movement is conserved either way
    before = ledger.balance(account, "USDT")
    killer.mode, killer.countdown = "before_write", 1
    with pytest.raises(ProcessDeath):
        ledger.post("t", "kill-1", _transfer(account, custody))
    with pytest.raises(ProcessDeath):
        ledger.balance(account, "USDT")  # a dead process does not even read
    killer.restart()
    assert ledger.balance(account, "USDT") == before
    ledger.post("t", "kill-1", _transfer(account, custody))
    assert ledger.balance(account, "USDT").available == before.available - 1
    assert ledger.reconcile().ok


def test_an_injected_error_at_a_fault_point_is_an_ordinary_exception_that_leaves_the_process_alive(harness):
    killer = harness.killer
    killer.mode, killer.point, killer.countdown = "error", "transaction.before_commit", 1
    with pytest.raises(faults.InjectedCrash):
        ledger.post("t", "err-1", _transfer(harness.users[0].holder.account_id, "org-custody"))
    assert not killer.dead
    assert killer.kills == {"error at transaction.before_commit": 1}


def _transfer(source, target):
    from decimal import Decimal as D

    from chalicelib.domain import ledger as money

    return money.postings(money.Subject.TRANSFER, money.transfer(source, target, "USDT", D(1)))


def test_the_world_opens_with_funded_users_of_two_orgs(harness):
    assert {u.holder.org_id for u in harness.users} == set(world.ORGS)
    for user in harness.users:
        assert ledger.balance(user.holder.account_id, "USDT").available == world.OPENING["USDT"]
    assert ledger.reconcile().ok
