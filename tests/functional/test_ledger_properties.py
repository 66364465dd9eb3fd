"""Random ledger operation streams, with repeated ids and crashes, against a plain model."""
from collections import defaultdict
from decimal import Decimal as D

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from chalicelib.domain import ledger as rules
from chalicelib.domain.errors import IdempotencyMismatch, InsufficientBalance
from chalicelib.domain.ledger import Subject
from chalicelib.services import events, idempotency, ledger
from chalicelib.store import accounts, faults
from chalicelib.store.transaction import Transaction
from tests.support.aws import reset_resources

ORG = "org1"
CUSTODY = rules.custody_account(ORG)
OPERATING = rules.operating_account(ORG)
FEE = rules.fee_account(ORG, 0)
USERS = ["101", "102", "103"]
TOKENS = ["BTC", "USDT"]
OPERATION_IDS = [f"op{i}" for i in range(8)]

amounts = st.decimals(min_value=D("0.00000001"), max_value=D("50"), places=8, allow_nan=False)
users = st.sampled_from(USERS)
tokens = st.sampled_from(TOKENS)
faults_at = st.sampled_from([None, None, None, "before", "after"])


def operation(kind, user, other, token, amount):
    """The postings of one operation kind, as the services would build them."""
    if kind == "deposit":
        return rules.postings(Subject.DEPOSIT, rules.transfer(CUSTODY, user, token, amount))
    if kind == "withdraw":
        return rules.postings(Subject.WITHDRAWAL, rules.transfer(user, CUSTODY, token, amount))
    if kind == "fund_operating":
        return rules.postings(Subject.DEPOSIT, rules.transfer(CUSTODY, OPERATING, token, amount))
    if kind == "airdrop":
        return rules.postings(Subject.AIRDROP, rules.transfer(OPERATING, user, token, amount))
    if kind == "transfer":
        return rules.postings(Subject.TRANSFER, rules.transfer(user, other, token, amount))
    if kind == "lock":
        return rules.postings(Subject.ORDER_LOCK, rules.lock(user, token, amount))
    if kind == "unlock":
        return rules.postings(Subject.ORDER_UNLOCK, rules.unlock(user, token, amount))
    if kind == "lock_up":
        return rules.postings(Subject.LOCK_UP, rules.lock_up(user, token, amount))
    if kind == "unlock_up":
        return rules.postings(Subject.UNLOCK_UP, rules.unlock_up(user, token, amount))
    if kind == "settle":
        # a fill: the seller's locked token goes to the buyer, who pays a fee to the fee account
        fee = (amount / 1000).quantize(D("0.00000001"))
        trade = rules.postings(Subject.TRADE, [rules.Movement(user, token, locked=-amount),
                                               rules.Movement(other, token, available=amount)])
        return trade + (rules.postings(Subject.FEE, rules.transfer(other, FEE, token, fee)) if fee else [])
    raise AssertionError(kind)


KINDS = ["deposit", "withdraw", "fund_operating", "airdrop", "transfer", "lock", "unlock", "lock_up",
         "unlock_up", "settle"]


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        reset_resources()
        tx = Transaction()
        for account_id in USERS:
            accounts.stage_create(tx, accounts.AccountOwner(account_id, ORG, f"u{account_id}"))
        tx.commit()
        self.model = defaultdict(lambda: [D(0), D(0), D(0)])
        self.used_ids = {}
        self.user_changes = defaultdict(int)
        self.crashed = None

    def _expected_after(self, entries):
        after = {key: list(parts) for key, parts in self.model.items()}
        for entry in entries:
            m = entry.movement
            parts = after.setdefault((m.account_id, m.token), [D(0), D(0), D(0)])
            parts[0] += m.available
            parts[1] += m.locked
            parts[2] += m.position
            if not rules.may_go_negative(m.account_id) and min(parts) < 0:
                return None
        return after

    def _apply(self, operation_id, entries, fault):
        payload_hash = idempotency.payload_hash({"postings": [
            (e.movement.account_id, e.movement.token, str(e.movement.available), str(e.movement.locked),
             str(e.movement.position), int(e.subject)) for e in entries]})
        previous = self.used_ids.get(operation_id)
        expected = self._expected_after(entries)
        if fault:
            crash_once = iter([True])
            faults.arm(f"transaction.{fault}_commit", lambda: next(crash_once, False))
        try:
            ledger.post("prop", operation_id, entries)
            outcome = "ok"
        except InsufficientBalance:
            outcome = "insufficient"
        except IdempotencyMismatch:
            outcome = "mismatch"
        except faults.InjectedCrash:
            outcome = "crash"
        finally:
            faults.disarm_all()

        if previous is not None:
            assert outcome in (("ok",) if previous == payload_hash else ("mismatch",)) or (
                outcome == "crash" and fault == "before"), (outcome, fault)
            return
        if outcome == "insufficient" or (outcome == "crash" and fault == "before"):
            assert outcome != "insufficient" or expected is None
            return
        assert expected is not None, "the ledger accepted an operation that overdraws"
        assert outcome == "ok" or (outcome == "crash" and fault == "after")
        self.used_ids[operation_id] = payload_hash
        for key, parts in expected.items():
            if parts != self.model.get(key, [D(0), D(0), D(0)]):
                if key[0] in USERS:
                    self.user_changes[key[0]] += 1
        self.model.update(expected)

    @rule(kind=st.sampled_from(KINDS), user=users, other=users, token=tokens, amount=amounts,
          operation_id=st.sampled_from(OPERATION_IDS) | st.uuids().map(str), fault=faults_at)
    def operate(self, kind, user, other, token, amount, operation_id, fault):
        if kind in ("transfer", "settle") and user == other:
            return
        self._apply(operation_id, operation(kind, user, other, token, amount), fault)

    @invariant()
    def balances_match_the_model_and_the_ledger_reconciles(self):
        report = ledger.reconcile()
        assert report.ok, report
        for (account_id, token), parts in self.model.items():
            stored = ledger.balance(account_id, token)
            assert [stored.available, stored.locked, stored.position] == parts, (account_id, token)
            if not rules.may_go_negative(account_id):
                assert min(parts) >= 0

    def teardown(self):
        events.relay_pending(min_age_seconds=0)
        for account_id in USERS:
            assert len(events.replay(f"user:u{account_id}", 0, 1000)) == self.user_changes[account_id]


def test_random_ledger_operations_with_repeats_and_crashes_keep_every_invariant():
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=20, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
