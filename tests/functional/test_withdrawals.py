import json
import socket
import threading
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from chalicelib.api.custody_callbacks import accept
from chalicelib.domain import ledger as money
from chalicelib.domain.custody import Holder
from chalicelib.domain.errors import (
    AmountOffPrecision,
    ConcurrentUpdate,
    CustodyUnavailable,
    IdempotencyMismatch,
    InsufficientBalance,
    InvalidAddress,
    WithdrawalAddressNotSaved,
    WithdrawalNotCancelable,
    WithdrawalNotFound,
    WithdrawalNotReviewable,
    WithdrawNotAllowed,
    WithdrawQuotaExceeded,
    WithdrawTooSmall,
)
from chalicelib.domain.ledger import Subject
from chalicelib.gateways import aws
from chalicelib.gateways import custody as gateway
from chalicelib.services import catalog, deposits, events, ledger, users, withdrawals
from chalicelib.store import accounts
from chalicelib.store import catalog as listings
from chalicelib.store.table import Entity
from chalicelib.workers import custody as worker
from tests.support.aws import reset_resources

ORG, OTHER_ORG = "7002", "7003"
EXTERNAL = "0x" + "ab" * 20
SETTINGS = {"withdraw_review_threshold": {"USDT": "500"}, "withdraw_four_eyes_threshold": {"USDT": "5000"}}


def list_usdt() -> None:
    listings.put_exchange_token(listings.ExchangeTokenRecord(
        exchange_id="301", token_id="USDT", name="USDT", full_name="Tether", precision=D("0.01"),
        chains=json.dumps([{"chainType": "ERC20", "requiredConfirmNum": 3}, {"chainType": "XRP"}])))
    for org_id in (ORG, OTHER_ORG):
        listings.put_org(listings.OrgRecord(org_id=org_id, name=org_id, exchange_id="301",
                                            settings=json.dumps(SETTINGS)))
        listings.put_org_token(listings.OrgTokenRecord(
            org_id=org_id, token_id="USDT", min_deposit=D(1), withdraw_fee=D(1), min_withdraw=D(10),
            max_withdraw_daily=D(10000)))
    catalog.invalidate()


@pytest.fixture(autouse=True)
def listed_usdt():
    gateway.reset()
    list_usdt()
    yield
    gateway.reset()


def holder(name="alice", org_id=ORG, funds="1000") -> Holder:
    user = users.register_user(org_id, email=f"{name}@example.com", operation_id=f"reg-{name}")
    if D(funds):
        ledger.post("test-funding", f"fund-{name}", money.postings(Subject.DEPOSIT, money.transfer(
            money.custody_account(org_id), user.main_account_id, "USDT", D(funds))))
    return Holder(org_id, user.uid, user.main_account_id)


def withdraw(h: Holder, amount, *, address=EXTERNAL, client_order_id=None, **options):
    return withdrawals.create_withdrawal(h, token="USDT", amount=D(amount), address=address,
                                         client_order_id=client_order_id or f"w-{amount}-{address[-6:]}", **options)


def balance(h: Holder):
    b = ledger.balance(h.account_id, "USDT")
    return b.available, b.locked


def report(withdrawal_id, status, **fields):
    callback = gateway.simulator().withdrawal_report(withdrawal_id, status, **fields)
    return withdrawals.receive_callback(json.loads(callback.body))


def queued_messages() -> list[dict]:
    sqs = aws.client("sqs")
    url = aws.queue_url("broker-custody.fifo")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                   AttributeNames=["All"]).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def run_worker(withdrawal_id, receive_count=1) -> dict:
    body = json.dumps({"withdrawal_id": str(withdrawal_id)})
    record = {"messageId": f"m-{withdrawal_id}-{receive_count}", "body": body,
              "attributes": {"ApproximateReceiveCount": str(receive_count), "MessageGroupId": str(withdrawal_id)}}
    return worker.handle_batch({"Records": [record]})


# --- quota and refusals ------------------------------------------------------------------------------

def test_the_quota_shows_fee_limits_precision_and_what_can_be_withdrawn_now():
    alice = holder(funds="100.5")
    quota = withdrawals.withdrawal_quota(alice, "USDT")
    assert {k: quota[k] for k in ("chain", "fee", "min_withdraw", "max_withdraw_daily", "remaining_today",
                                  "max_withdrawable", "precision", "need_address_tag")} == {
        "chain": "ERC20", "fee": "1", "min_withdraw": "10", "max_withdraw_daily": "10000",
        "remaining_today": "10000", "max_withdrawable": "99.5", "precision": "0.01", "need_address_tag": False}
    withdraw(alice, "50")
    assert withdrawals.withdrawal_quota(alice, "USDT")["remaining_today"] == "9950"


@pytest.mark.parametrize("amount,address,error", [
    ("9.99", EXTERNAL, WithdrawTooSmall),
    ("10.001", EXTERNAL, AmountOffPrecision),
    ("10000.01", EXTERNAL, WithdrawQuotaExceeded),
    ("1000", EXTERNAL, InsufficientBalance),
    ("20", "0x1234", InvalidAddress),
])
def test_a_withdrawal_off_the_rules_is_refused_and_locks_nothing(amount, address, error):
    alice = holder()
    with pytest.raises(error):
        withdraw(alice, amount, address=address)
    assert balance(alice) == (D(1000), D(0))
    assert withdrawals.withdrawal_history(alice) == []


def test_a_user_frozen_for_withdrawals_or_a_token_closed_for_them_is_refused():
    alice = holder()
    users.set_frozen(ORG, alice.uid, withdraw=True)
    with pytest.raises(WithdrawNotAllowed):
        withdraw(alice, "20")
    users.set_frozen(ORG, alice.uid, withdraw=False)
    listings.put_org_token(listings.OrgTokenRecord(org_id=ORG, token_id="USDT", min_deposit=D(1), withdraw_fee=D(1),
                                                   min_withdraw=D(10), max_withdraw_daily=D(10000),
                                                   allow_withdraw=False))
    catalog.invalidate()
    with pytest.raises(WithdrawNotAllowed):
        withdraw(alice, "20")


def test_the_daily_maximum_counts_every_withdrawal_of_the_day_and_a_refund_gives_its_share_back():
    alice = holder(funds="20000")
    first = withdraw(alice, "400", client_order_id="a")
    withdraw(alice, "400", client_order_id="b")
    listings.put_org_token(listings.OrgTokenRecord(org_id=ORG, token_id="USDT", min_deposit=D(1), withdraw_fee=D(1),
                                                   min_withdraw=D(10), max_withdraw_daily=D(1000)))
    catalog.invalidate()
    with pytest.raises(WithdrawQuotaExceeded):
        withdraw(alice, "300", client_order_id="c")
    withdrawals.cancel_withdrawal(alice, first["withdrawal_id"])
    withdraw(alice, "300", client_order_id="c")


# --- create, idempotency and events ---------------------------------------------------------------

def test_creating_a_withdrawal_locks_amount_plus_fee_and_queues_it_for_custody():
    alice = holder()
    created = withdraw(alice, "100")
    assert (created["state"], created["status"], created["amount"], created["fee"], created["total"]) == (
        "QUEUED", 5, "100", "1", "101")
    assert balance(alice) == (D(899), D(101))
    [message] = queued_messages()
    assert json.loads(message["Body"]) == {"withdrawal_id": created["withdrawal_id"]}
    assert message["Attributes"]["MessageGroupId"] == created["withdrawal_id"]


def test_the_same_client_order_id_returns_the_first_withdrawal_and_other_terms_are_refused():
    alice = holder()
    first = withdraw(alice, "100", client_order_id="same")
    assert withdraw(alice, "100", client_order_id="same") == first
    with pytest.raises(IdempotencyMismatch):
        withdraw(alice, "200", client_order_id="same")
    assert balance(alice) == (D(899), D(101))
    assert withdrawals.withdrawal_detail(alice, client_order_id="same")["withdrawal_id"] == first["withdrawal_id"]


def test_the_user_hears_of_every_change_and_the_org_of_the_request_and_each_new_state():
    alice = holder()
    created = withdraw(alice, "100")
    run_worker(created["withdrawal_id"])
    report(created["withdrawal_id"], "broadcast", confirmations=1)
    report(created["withdrawal_id"], "broadcast", confirmations=2)
    report(created["withdrawal_id"], "confirmed", confirmations=3)
    mine = [e.payload["state"] for e in events.replay(f"user:{alice.uid}") if e.type == "withdrawal"]
    assert mine == ["QUEUED", "SENDING", "PROCESSING", "BROADCAST", "BROADCAST", "SUCCESS"]
    org = [(e.type, e.payload["state"]) for e in events.replay(f"org:{ORG}") if e.type.startswith("org.userWithdraw")]
    assert org == [("org.userWithdraw", "QUEUED")] + [("org.userWithdrawNotice", s) for s in (
        "SENDING", "PROCESSING", "BROADCAST", "SUCCESS")]


# --- custody hand-over and outcomes -----------------------------------------------------------------

def test_a_confirmed_withdrawal_settles_the_amount_to_custody_and_the_fee_to_the_fee_account():
    alice = holder()
    created = withdraw(alice, "100")
    assert run_worker(created["withdrawal_id"]) == {"batchItemFailures": []}
    assert gateway.simulator().broadcasts[created["withdrawal_id"]].amount == D(100)
    done = report(created["withdrawal_id"], "confirmed", confirmations=3)
    assert (done["state"], done["status"], done["tx_id"] is not None) == ("SUCCESS", 6, True)
    assert balance(alice) == (D(899), D(0))
    assert ledger.balance(money.custody_account(ORG), "USDT").total == D(-900)
    fee_total = sum(ledger.balance(money.fee_account(ORG, shard), "USDT").total for shard in range(8))
    assert fee_total == D(1)
    assert ledger.reconcile().ok


@pytest.mark.parametrize("status,state", [("failed", "FAILED"), ("audit_rejected", "AUDIT_REJECTED")])
def test_a_failure_or_audit_rejection_at_custody_refunds_the_lock(status, state):
    alice = holder()
    created = withdraw(alice, "100")
    run_worker(created["withdrawal_id"])
    refunded = report(created["withdrawal_id"], status, reason="chain congested")
    assert (refunded["state"], refunded["reason"]) == (state, "chain congested")
    assert balance(alice) == (D(1000), D(0))
    assert withdrawals.withdrawal_quota(alice, "USDT")["remaining_today"] == "10000"


def test_a_withdrawal_custody_refuses_outright_fails_and_is_refunded():
    alice = holder()
    created = withdraw(alice, "100")
    gateway.simulator().fail_next_broadcast("refuse")
    run_worker(created["withdrawal_id"])
    assert withdrawals.withdrawal_detail(alice, withdrawal_id=created["withdrawal_id"])["state"] == "FAILED"
    assert balance(alice) == (D(1000), D(0))


@pytest.mark.parametrize("fault", ["lost_answer", "lost_request"])
def test_a_broadcast_retried_after_a_timeout_reaches_custody_once(fault):
    alice = holder()
    created = withdraw(alice, "100")
    simulator = gateway.simulator()
    simulator.fail_next_broadcast(fault)
    first = run_worker(created["withdrawal_id"], receive_count=1)
    assert first["batchItemFailures"]
    assert withdrawals.withdrawal_detail(alice, withdrawal_id=created["withdrawal_id"])["state"] == "SENDING"
    with pytest.raises(WithdrawalNotCancelable):
        withdrawals.cancel_withdrawal(alice, created["withdrawal_id"])
    for receive in (2, 3, 4):
        assert run_worker(created["withdrawal_id"], receive_count=receive) == {"batchItemFailures": []}
    assert (simulator.broadcast_count, simulator.broadcast_calls) == (1, 2)
    assert withdrawals.withdrawal_detail(alice, withdrawal_id=created["withdrawal_id"])["state"] == "PROCESSING"


def test_a_lost_enqueue_is_sent_again_by_the_sweeper():
    alice = holder()
    created = withdraw(alice, "100")
    queued_messages()
    assert withdrawals.requeue_stale(min_age_seconds=0) == 1
    assert [json.loads(m["Body"])["withdrawal_id"] for m in queued_messages()] == [created["withdrawal_id"]]
    run_worker(created["withdrawal_id"])
    assert withdrawals.requeue_stale(min_age_seconds=0) == 0


def test_a_message_naming_no_withdrawal_goes_to_the_dead_letter_queue():
    assert run_worker(123456789) == {"batchItemFailures": []}
    assert worker.handle_batch({"Records": [{"messageId": "x", "body": "not json"}]}) == {"batchItemFailures": []}
    assert [e.type for e in events.replay("system")] == ["custody.deadLetter"] * 2


# --- cancel -------------------------------------------------------------------------------------------------

def test_a_user_cancels_until_the_withdrawal_is_handed_to_custody_and_the_worker_then_skips_it():
    alice = holder()
    created = withdraw(alice, "100")
    canceled = withdrawals.cancel_withdrawal(alice, created["withdrawal_id"])
    assert (canceled["state"], canceled["status"]) == ("CANCELED", 2)
    assert withdrawals.cancel_withdrawal(alice, created["withdrawal_id"]) == canceled
    assert balance(alice) == (D(1000), D(0))
    run_worker(created["withdrawal_id"])
    assert gateway.simulator().broadcast_calls == 0


def test_a_withdrawal_handed_to_custody_can_no_longer_be_canceled():
    alice = holder()
    created = withdraw(alice, "100")
    run_worker(created["withdrawal_id"])
    with pytest.raises(WithdrawalNotCancelable):
        withdrawals.cancel_withdrawal(alice, created["withdrawal_id"])
    assert balance(alice) == (D(899), D(101))


# --- review -------------------------------------------------------------------------------------------------

def test_above_the_review_threshold_a_withdrawal_waits_and_one_approval_sends_it():
    alice = holder()
    waiting = withdraw(alice, "500.01")
    assert (waiting["state"], waiting["status"], waiting["needs_review"]) == ("REVIEW", 1, True)
    assert queued_messages() == []
    assert [w["withdrawal_id"] for w in withdrawals.review_queue(ORG)] == [waiting["withdrawal_id"]]
    approved = withdrawals.approve(ORG, waiting["withdrawal_id"], "admin-1")
    assert (approved["state"], approved["approvals"]) == ("QUEUED", ["admin-1"])
    assert len(queued_messages()) == 1 and withdrawals.review_queue(ORG) == []
    with pytest.raises(WithdrawalNotReviewable):
        withdrawals.reject(ORG, waiting["withdrawal_id"], "admin-2")


def test_above_the_four_eyes_threshold_two_distinct_admins_must_approve():
    alice = holder(funds="6000")
    waiting = withdraw(alice, "5000.01")
    assert waiting["approvals_needed"] == 2
    assert withdrawals.approve(ORG, waiting["withdrawal_id"], "admin-1")["state"] == "REVIEW"
    assert withdrawals.approve(ORG, waiting["withdrawal_id"], "admin-1")["approvals"] == ["admin-1"]
    assert withdrawals.approve(ORG, waiting["withdrawal_id"], "admin-2")["state"] == "QUEUED"


def test_a_rejected_withdrawal_is_refunded_and_another_orgs_admin_cannot_touch_it():
    alice = holder()
    waiting = withdraw(alice, "600")
    with pytest.raises(WithdrawalNotFound):
        withdrawals.approve(OTHER_ORG, waiting["withdrawal_id"], "admin-x")
    rejected = withdrawals.reject(ORG, waiting["withdrawal_id"], "admin-1", "unusual activity")
    assert (rejected["state"], rejected["status"], rejected["reason"], rejected["reviewed_by"]) == (
        "REJECTED", 2, "unusual activity", "admin-1")
    assert withdrawals.reject(ORG, waiting["withdrawal_id"], "admin-1")["state"] == "REJECTED"
    assert balance(alice) == (D(1000), D(0))


# --- internal transfers ----------------------------------------------------------------------------------------

def test_a_withdrawal_to_another_users_deposit_address_settles_at_once_without_fee_or_custody():
    alice, bob = holder(), holder("bob", funds="0")
    address = deposits.deposit_address(bob, "USDT")["address"]
    sent = withdraw(alice, "100", address=address)
    assert (sent["state"], sent["status"], sent["internal"], sent["fee"]) == ("SUCCESS", 6, True, "0")
    assert "target_uid" not in sent
    assert balance(alice) == (D(900), D(0)) and balance(bob) == (D(100), D(0))
    [received] = deposits.deposit_history(bob)
    assert (received["state"], received["internal"], received["amount"]) == ("CREDITED", True, "100")
    assert queued_messages() == [] and gateway.simulator().broadcast_calls == 0
    assert ledger.reconcile().ok


def test_an_internal_transfer_to_another_org_passes_through_both_custody_accounts():
    alice, carol = holder(), holder("carol", OTHER_ORG, funds="0")
    withdraw(alice, "100", address=deposits.deposit_address(carol, "USDT")["address"])
    assert balance(carol) == (D(100), D(0))
    assert ledger.balance(money.custody_account(ORG), "USDT").total == D(-900)
    assert ledger.balance(money.custody_account(OTHER_ORG), "USDT").total == D(-100)
    assert ledger.reconcile().ok


def test_ones_own_deposit_address_and_an_unknown_tag_on_a_platform_hub_are_refused():
    alice, bob = holder(), holder("bob", funds="0")
    with pytest.raises(InvalidAddress):
        withdraw(alice, "100", address=deposits.deposit_address(alice, "USDT")["address"])
    hub = deposits.deposit_address(bob, "USDT", "XRP")
    with pytest.raises(InvalidAddress) as refused:
        withdraw(alice, "100", address=hub["address"], address_tag="42", chain="XRP")
    assert refused.value.param == "addressExt"
    assert withdraw(alice, "100", address=hub["address"], address_tag=hub["address_tag"], chain="XRP")["internal"]


# --- saved addresses -----------------------------------------------------------------------------------------

def test_a_family_may_require_a_saved_address_which_the_user_keeps_in_a_book():
    alice = holder()
    with pytest.raises(WithdrawalAddressNotSaved):
        withdraw(alice, "100", require_saved_address=True)
    saved = withdrawals.add_address(alice, token="USDT", address=EXTERNAL, label="cold wallet")
    assert withdrawals.add_address(alice, token="USDT", address=EXTERNAL) == saved
    assert withdraw(alice, "100", require_saved_address=True)["state"] == "QUEUED"
    assert [a["label"] for a in withdrawals.addresses(alice, token="USDT")] == ["cold wallet"]
    withdrawals.remove_address(alice, saved["address_id"])
    assert withdrawals.addresses(alice) == []


def test_an_address_check_says_whether_it_is_valid_and_whether_it_is_ours():
    bob = holder("bob", funds="0")
    ours = deposits.deposit_address(bob, "USDT")["address"]
    assert withdrawals.check_address(ORG, token="USDT", address=ours)["internal"] is True
    assert withdrawals.check_address(ORG, token="USDT", address=EXTERNAL) == {
        "valid": True, "internal": False, "chain": "ERC20", "message": ""}
    assert withdrawals.check_address(ORG, token="USDT", address="nope")["valid"] is False


# --- reads -----------------------------------------------------------------------------------------------------

def test_a_user_never_sees_another_users_withdrawals():
    alice, bob = holder(), holder("bob")
    created = withdraw(alice, "100")
    assert withdrawals.withdrawal_history(bob) == []
    for attempt in (lambda: withdrawals.withdrawal_detail(bob, withdrawal_id=created["withdrawal_id"]),
                    lambda: withdrawals.withdrawal_detail(bob, client_order_id=created["client_order_id"]),
                    lambda: withdrawals.cancel_withdrawal(bob, created["withdrawal_id"])):
        with pytest.raises(WithdrawalNotFound):
            attempt()
    assert balance(alice) == (D(899), D(101))


def test_history_is_newest_first_and_pages_by_id():
    alice = holder()
    ids = [withdraw(alice, str(10 + n), client_order_id=f"c{n}")["withdrawal_id"] for n in range(4)]
    assert [w["withdrawal_id"] for w in withdrawals.withdrawal_history(alice)] == ids[::-1]
    assert [w["withdrawal_id"] for w in withdrawals.withdrawal_history(alice, limit=2)] == ids[:1:-1]
    assert [w["withdrawal_id"] for w in withdrawals.withdrawal_history(
        alice, from_id=int(ids[3]), to_id=int(ids[0]))] == [ids[2], ids[1]]
    assert [w["withdrawal_id"] for w in withdrawals.org_withdrawals(ORG, state="QUEUED")] == ids[::-1]


# --- random streams keep every token at zero sum -------------------------------------------------------------

MACHINE_USERS = [("ann", ORG), ("ben", ORG), ("cat", OTHER_ORG)]
OUTCOMES = ["confirm", "fail", "audit_reject", "cancel", "reject"]
REPORTS = {"confirm": [("auditing", {}), ("broadcast", {"confirmations": 1}), ("confirmed", {"confirmations": 3})],
           "fail": [("auditing", {}), ("failed", {"reason": "gas"})], "audit_reject": [("audit_rejected", {})]}


def deliver(callback) -> dict:
    return accept(callback.path, callback.headers, callback.body)["data"]


class CustodyMachine(RuleBasedStateMachine):
    """Deposits, withdrawals (approved, rejected, failed, canceled) and internal transfers,
    each report repeated and shuffled, against a model of every user's balance."""

    def __init__(self):
        super().__init__()
        reset_resources()
        gateway.reset()
        list_usdt()
        self.holders = [holder(name, org_id, funds="0") for name, org_id in MACHINE_USERS]
        self.addresses = [deposits.deposit_address(h, "USDT")["address"] for h in self.holders]
        self.model = {h.account_id: [D(0), D(0)] for h in self.holders}
        self.used = {h.account_id: D(0) for h in self.holders}
        self.open: list[tuple[Holder, str, D]] = []
        self.serial = 0
        for user, h in enumerate(self.holders):
            deliver(gateway.simulator().deposit_report(chain="ERC20", token="USDT", address=self.addresses[user],
                                                       amount="2000", confirmations=3, tx_hash=f"0xf{user}"))
            self.model[h.account_id][0] = D(2000)

    def _next(self) -> int:
        self.serial += 1
        return self.serial

    @rule(user=st.integers(0, 2), amount=st.decimals(D("0.5"), D("900"), places=2),
          confirmations=st.lists(st.integers(0, 5), min_size=1, max_size=4), repeat=st.integers(1, 3),
          shuffle=st.randoms(use_true_random=False))
    def deposit(self, user, amount, confirmations, repeat, shuffle):
        h, tx_hash = self.holders[user], f"0x{self._next():x}"
        runs = confirmations * repeat
        shuffle.shuffle(runs)
        for count in runs:
            deliver(gateway.simulator().deposit_report(chain="ERC20", token="USDT", address=self.addresses[user],
                                                       amount=amount, confirmations=count, tx_hash=tx_hash))
        if amount >= 1 and max(confirmations) >= 3:
            self.model[h.account_id][0] += amount

    @rule(user=st.integers(0, 2), amount=st.decimals(D(10), D(700), places=2), to=st.sampled_from([None, 0, 1, 2]),
          outcome=st.sampled_from([None] + OUTCOMES), repeat=st.integers(2, 3),
          chance=st.randoms(use_true_random=False))
    def withdraw(self, user, amount, to, outcome, repeat, chance):
        """Creates a withdrawal (or internal transfer) and, unless `outcome` is None, sees
        it to its end at once; the others are ended later by `finish`."""
        h = self.holders[user]
        internal = to is not None and to != user
        total = amount if internal else amount + 1
        over_quota = self.used[h.account_id] + amount > 10000
        try:
            created = withdrawals.create_withdrawal(
                h, token="USDT", amount=amount, address=self.addresses[to] if internal else EXTERNAL,
                client_order_id=f"c{self._next()}")
        except WithdrawQuotaExceeded:
            assert over_quota
            return
        except InsufficientBalance:
            assert not over_quota and self.model[h.account_id][0] < total
            return
        assert not over_quota and self.model[h.account_id][0] >= total
        self.used[h.account_id] += amount
        self.model[h.account_id][0] -= total
        if internal:
            assert created["state"] == "SUCCESS"
            self.model[self.holders[to].account_id][0] += amount
            return
        self.model[h.account_id][1] += total
        if outcome is None:
            self.open.append((h, created["withdrawal_id"], amount))
        else:
            self._finish(h, created["withdrawal_id"], amount, outcome, repeat, chance)

    @precondition(lambda self: self.open)
    @rule(pick=st.integers(0, 50), outcome=st.sampled_from(OUTCOMES), repeat=st.integers(2, 3),
          chance=st.randoms(use_true_random=False))
    def finish(self, pick, outcome, repeat, chance):
        self._finish(*self.open.pop(pick % len(self.open)), outcome, repeat, chance)

    def _finish(self, h, withdrawal_id, amount, outcome, repeat, chance):
        """Review, cancel, hand-over (sometimes after a lost answer) and custody reports,
        each decision and report repeated and the reports shuffled."""
        if self._review_or_cancel(h, withdrawal_id, outcome, repeat):
            self._refund(h, amount)
            return
        if chance.random() < 0.3:
            gateway.simulator().fail_next_broadcast("lost_answer")
            with pytest.raises(CustodyUnavailable):
                withdrawals.broadcast(int(withdrawal_id))
        for _ in range(repeat):
            withdrawals.broadcast(int(withdrawal_id))
        outcome = "fail" if outcome == "reject" else outcome
        reports = REPORTS[outcome] * repeat
        chance.shuffle(reports)
        for status, fields in reports:
            deliver(gateway.simulator().withdrawal_report(withdrawal_id, status, **fields))
        if outcome == "confirm":
            self.model[h.account_id][1] -= amount + 1
        else:
            self._refund(h, amount)

    def _review_or_cancel(self, h, withdrawal_id, outcome, repeat) -> bool:
        """Takes a review decision and a cancel; True when the withdrawal ended refunded."""
        if withdrawals.withdrawal_detail(h, withdrawal_id=withdrawal_id)["state"] == "REVIEW":
            if outcome == "reject":
                for _ in range(repeat):
                    withdrawals.reject(h.org_id, withdrawal_id, "admin-1")
                return True
            if outcome != "cancel":
                for _ in range(repeat):
                    withdrawals.approve(h.org_id, withdrawal_id, "admin-1")
        if outcome == "cancel":
            for _ in range(repeat):
                assert withdrawals.cancel_withdrawal(h, withdrawal_id)["state"] == "CANCELED"
            return True
        return False

    def _refund(self, h, amount):
        self.model[h.account_id][0] += amount + 1
        self.model[h.account_id][1] -= amount + 1
        self.used[h.account_id] -= amount

    @invariant()
    def balances_match_the_model_and_every_token_sums_to_zero_with_custody_included(self):
        report = ledger.reconcile()
        assert report.ok, report
        for account_id, (available, locked) in self.model.items():
            stored = ledger.balance(account_id, "USDT")
            assert (stored.available, stored.locked, stored.position) == (available, locked, D(0)), account_id


def test_random_deposits_withdrawals_and_internal_transfers_keep_the_ledger_at_zero_sum():
    run_state_machine_as_test(CustodyMachine, settings=settings(
        max_examples=8, stateful_step_count=15, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


# --- races against a moto server (in-process moto is not safe for concurrent conditional writes) ----------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _forget_connections() -> None:
    """pynamodb caches a connection per model; the next call makes one for the current endpoint."""
    pending = [Entity]
    while pending:
        model = pending.pop()
        model._connection = None
        pending.extend(model.__subclasses__())
    aws.reset()
    accounts.forget_cached_owners()
    catalog.invalidate()


def _race(*calls) -> list:
    """Runs the calls at once in threads; each result is a value or the exception raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - the race's outcome is what we inspect
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


class TestRacesAgainstAPatchedMotoServer:
    @pytest.fixture
    def aws_resources(self, monkeypatch):
        """Replaces the in-process moto of conftest: a ThreadedMotoServer (patched by
        infra.local.moto_patch, which tests.support.aws imports) on a free port."""
        from moto.server import ThreadedMotoServer

        port = _free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        _forget_connections()
        try:
            reset_resources()
            yield
        finally:
            server.stop()
            _forget_connections()

    def test_racing_withdrawals_of_one_balance_never_overdraw_it(self):
        alice = holder(funds="100")
        results = _race(*[lambda n=n: withdraw(alice, "30", client_order_id=f"race-{n}") for n in range(8)])
        won = [r for r in results if isinstance(r, dict)]
        assert all(isinstance(r, (dict, InsufficientBalance, ConcurrentUpdate)) for r in results), results
        assert 1 <= len(won) <= 3
        assert balance(alice) == (D(100) - 31 * len(won), 31 * len(won))
        assert sorted(w["withdrawal_id"] for w in withdrawals.withdrawal_history(alice)) == sorted(
            w["withdrawal_id"] for w in won)
        assert withdrawals.withdrawal_quota(alice, "USDT")["used_today"] == str(30 * len(won))
        assert ledger.reconcile().ok

    def test_a_cancel_racing_the_hand_over_to_custody_either_refunds_or_sends_never_both(self):
        alice = holder(funds="1000")
        for round_ in range(4):
            created = withdraw(alice, "100", client_order_id=f"r{round_}")
            calls_before = gateway.simulator().broadcast_calls
            canceled, handed = _race(lambda: withdrawals.cancel_withdrawal(alice, created["withdrawal_id"]),
                                     lambda: withdrawals.broadcast(int(created["withdrawal_id"])))
            sent = gateway.simulator().broadcast_calls - calls_before
            if isinstance(canceled, dict):
                assert (canceled["state"], handed, sent) == ("CANCELED", "CANCELED", 0)
            else:
                assert isinstance(canceled, WithdrawalNotCancelable) and (handed, sent) == ("accepted", 1)
        held = D(100 + 1) * gateway.simulator().broadcast_count
        assert balance(alice) == (D(1000) - held, held)
        assert ledger.reconcile().ok
