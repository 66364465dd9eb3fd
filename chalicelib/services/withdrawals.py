"""Withdrawals: quota, create, review, hand-over to custody, custody reports, cancel, reads.

Money moves in two phases. Creating a withdrawal locks amount + fee (one transaction
with the withdrawal row, the day's quota use and the idempotency record of the
caller's `client_order_id`). It ends in exactly one of: settled (success: the amount
leaves through the org's custody account, the fee goes to the org's fee account) or
refunded (failure, custody audit rejection, broker rejection, user cancel: the lock is
released and the day's quota use given back). Every step is a version-checked change of
the withdrawal row in the same transaction as its postings, so it happens once however
often it is asked for (`domain.custody` has the state machine).

Review: an amount above the org's `withdraw_review_threshold` waits for an admin
(`approve` / `reject`); above `four_eyes_threshold` (or its older name
`withdraw_four_eyes_threshold`) for two distinct admins
(thresholds per token in org settings, see `domain.custody`; unset: no review).

Hand-over: a withdrawal that needs no (more) review is QUEUED and put on the custody FIFO
queue (group = withdrawal id). The worker calls `broadcast`: QUEUED -> SENDING is written
before custody is asked, so a cancel can no longer refund what custody may send; custody
is asked with our withdrawal id as its request id, which it deduplicates, so asking again
after a timeout never sends twice. A lost enqueue is repaired by `requeue_stale`.

Internal transfers: an address we issued to another user (a deposit address) settles at
once, without custody and without fee, in the same transaction that creates the
withdrawal: a SUCCESS withdrawal for the sender and a CREDITED deposit for the receiver.

The second factor (GA / SMS / trade password) is checked by the calling family before
it calls `create_withdrawal`; a user with `withdraw_frozen` is refused here.

Events: user stream `withdrawal` on every change; org stream `org.userWithdraw` when one is
created and `org.userWithdrawNotice` when its state changes (approved, handed over,
broadcast, settled, failed, rejected, canceled); balance events come from the ledger.
"""
from __future__ import annotations

import json
import logging
from dataclasses import replace
from decimal import Decimal
from typing import Callable, Mapping, Optional

from chalicelib import settings
from chalicelib.domain import custody as rules
from chalicelib.domain import money
from chalicelib.domain.custody import Holder, Step, Withdrawal, WithdrawalState
from chalicelib.domain.errors import (
    CallbackConflict,
    InvalidAddress,
    InvalidParameter,
    MissingParameter,
    NotFound,
    WithdrawalAddressNotSaved,
    WithdrawalNotCancelable,
    WithdrawalNotFound,
    WithdrawalNotReviewable,
    WithdrawNotAllowed,
)
from chalicelib.domain.events import SYSTEM_STREAM, Event, org_stream, user_stream
from chalicelib.domain.ids import new_id
from chalicelib.domain.settlement import fee_shard
from chalicelib.gateways import aws
from chalicelib.gateways import custody as gateway
from chalicelib.services import catalog, deposits, events, idempotency, ledger, users
from chalicelib.store import custody as store
from chalicelib.store import idempotency as idempotency_records
from chalicelib.store.transaction import Transaction, run_with_retries

log = logging.getLogger(__name__)
ZERO = Decimal(0)
MAX_PAGE = 1000

# --- views ----------------------------------------------------------------------------------


def withdrawal_view(w: Withdrawal, *, admin: bool = False) -> dict:
    """The internal JSON form of a withdrawal; each family renders its own wire shape.

    `amount` arrives at the address, `fee` is charged on top, `total` left the balance.
    The admin form adds who approved and, for internal transfers, who received it."""
    view = {
        "withdrawal_id": str(w.withdrawal_id), "client_order_id": w.client_order_id, "org_id": w.org_id,
        "uid": w.uid, "account_id": w.account_id, "token": w.token, "chain": w.chain, "address": w.address,
        "address_tag": w.address_tag, "amount": money.text(w.amount), "arrive_amount": money.text(w.amount),
        "fee": money.text(w.fee), "fee_token": w.token, "total": money.text(w.total),
        "status": int(w.state.status), "status_code": w.state.status.name, "state": w.state.value,
        "internal": w.internal, "tx_id": w.tx_id, "confirmations": w.confirmations,
        "required_confirmations": w.required_confirmations, "needs_review": w.approvals_needed > 0,
        "approvals_needed": w.approvals_needed, "approval_count": len(w.approvals), "reason": w.reason,
        "cancelable": w.state.cancelable, "created_at": w.created_at, "updated_at": w.updated_at,
        "handed_at": w.handed_at, "finished_at": w.finished_at,
    }
    if admin:
        view.update(approvals=list(w.approvals), reviewed_by=w.reviewed_by, target_org_id=w.target_org_id,
                    target_uid=w.target_uid, target_account_id=w.target_account_id)
    return view


# --- terms ------------------------------------------------------------------------------------

def _terms(org: catalog.OrgView, listing: catalog.TokenListing) -> rules.WithdrawalTerms:
    return rules.WithdrawalTerms(
        listing.token_id, listing.withdraw_fee, listing.min_withdraw, listing.max_withdraw_daily, listing.precision,
        rules.threshold(org.settings, "withdraw_review_threshold", listing.token_id),
        _four_eyes(org, listing.token_id))


def _four_eyes(org: catalog.OrgView, token: str):
    """`four_eyes_threshold` (the Admin API's name) or `withdraw_four_eyes_threshold`, per
    token in the token's own units: a USDT value would move with prices between the
    request and the review, and a review rule must not change under a waiting request."""
    found = rules.threshold(org.settings, "four_eyes_threshold", token)
    return found if found is not None else rules.threshold(org.settings, "withdraw_four_eyes_threshold", token)


def withdrawal_quota(holder: Holder, token: str, chain: Optional[str] = None) -> dict:
    """Fee, minimum, daily maximum and what is left of it today, precision, and the most
    the holder can withdraw now (available minus fee, within today's remainder)."""
    deposits.check_holder(holder)
    org = catalog.org(holder.org_id)
    listing = org.token(token)
    chain_rules = rules.chain_rules(token, listing.chains, chain)
    terms = _terms(org, listing)
    used = store.get_quota(holder.account_id, token, rules.quota_day(store.now_ms())).used
    remaining = terms.remaining_today(used)
    available = ledger.balance(holder.account_id, token).available
    most = max(available - terms.fee, ZERO)
    if remaining is not None:
        most = min(most, remaining)
    if terms.precision > 0:
        most = (most // terms.precision) * terms.precision
    return {
        "token": token, "chain": chain_rules.chain, "allow_withdraw": listing.allow_withdraw,
        "fee": money.text(terms.fee), "fee_token": token, "internal_fee": "0",
        "min_withdraw": money.text(terms.min_amount), "max_withdraw_daily": money.text(terms.daily_max),
        "used_today": money.text(used), "remaining_today": None if remaining is None else money.text(remaining),
        "available": money.text(available), "max_withdrawable": money.text(most),
        "precision": money.text(terms.precision), "need_address_tag": chain_rules.needs_tag,
        "required_confirmations": chain_rules.required_confirmations,
        "review_threshold": None if terms.review_threshold is None else money.text(terms.review_threshold),
    }


# --- create ---------------------------------------------------------------------------------------

def create_withdrawal(holder: Holder, *, token: str, amount: Decimal, address: str,
                      address_tag: Optional[str] = None, chain: Optional[str] = None, client_order_id: str,
                      require_saved_address: bool = False) -> dict:
    """Locks amount + fee and records the withdrawal (or settles an internal transfer at once).

    The client order id is the operation id: the same id and terms give back the first
    answer; the same id with other terms is refused (IdempotencyMismatch)."""
    deposits.check_holder(holder)
    if not isinstance(amount, Decimal):
        raise InvalidParameter("amount", "Parameter 'amount' must be a decimal")
    if not client_order_id:
        raise MissingParameter("clientOrderId")
    if len(client_order_id) > 64:
        raise InvalidParameter("clientOrderId", "Client order id is longer than 64 characters")
    if users.get_user(holder.org_id, holder.uid).withdraw_frozen:
        raise WithdrawNotAllowed("Withdrawals are frozen for this user")
    org = catalog.org(holder.org_id)
    listing = org.token(token)
    if not listing.allow_withdraw:
        raise WithdrawNotAllowed()
    if listing.max_withdraw is not None and amount > listing.max_withdraw:
        raise WithdrawNotAllowed(f"At most {money.text(listing.max_withdraw)} {token} per withdrawal")
    chain_rules = rules.chain_rules(token, listing.chains, chain)
    address, address_tag = chain_rules.check_address(address, address_tag)
    if require_saved_address and store.saved_address(holder.uid, token, chain_rules.chain, address,
                                                     address_tag) is None:
        raise WithdrawalAddressNotSaved()
    target = _platform_owner(holder, chain_rules.chain, address, address_tag)
    terms = _terms(org, listing)
    now = store.now_ms()
    withdrawal_id = new_id()
    internal = target is not None
    approvals_needed = 0 if internal else terms.approvals_needed(amount)
    base = Withdrawal(
        withdrawal_id, holder.org_id, holder.uid, holder.account_id, token, chain_rules.chain, address, address_tag,
        amount, ZERO if internal else terms.fee, WithdrawalState.QUEUED, 1, client_order_id, rules.quota_day(now),
        now, now, approvals_needed, internal=internal, required_confirmations=chain_rules.required_confirmations,
        target_org_id=target.org_id if target else None, target_uid=target.uid if target else None,
        target_account_id=target.account_id if target else None)
    payload = {"token": token, "chain": chain_rules.chain, "address": address, "address_tag": address_tag,
               "amount": money.text(amount)}

    def build(tx: Transaction) -> dict:
        quota = store.get_quota(holder.account_id, token, base.quota_day)
        terms.check(amount, quota.used)
        store.stage_quota(tx, quota, quota.used + amount)
        if internal:
            w = replace(base, state=WithdrawalState.SUCCESS, finished_at=now)
            store.stage_withdrawal(tx, w, None)
            ledger.stage(tx, rules.internal_postings(w), reference=f"withdrawal:{withdrawal_id}")
            deposits.stage_internal_credit(tx, w, chain_rules.required_confirmations)
        else:
            w = replace(base, state=WithdrawalState.REVIEW if approvals_needed else WithdrawalState.QUEUED)
            store.stage_withdrawal(tx, w, None)
            ledger.stage(tx, rules.lock_postings(w), reference=f"withdrawal:{withdrawal_id}")
        _emit(tx, None, w)
        return withdrawal_view(w)

    view = idempotency.run(f"withdraw:{holder.account_id}", client_order_id, payload, build)
    if view["state"] == WithdrawalState.QUEUED.value:
        enqueue(int(view["withdrawal_id"]))
    return view


def _platform_owner(holder: Holder, chain: str, address: str, tag: Optional[str]) -> Optional[store.AddressOwner]:
    """The user an address was issued to, if it is one of ours."""
    owner = store.address_owner(chain, address, tag)
    if owner is None:
        if store.is_platform_hub(chain, address):
            raise InvalidAddress("addressExt", "This address tag belongs to no user of this platform")
        return None
    if owner.account_id == holder.account_id:
        raise InvalidAddress("address", "This is your own deposit address")
    return owner


# --- state changes -----------------------------------------------------------------------------------

def _advance(withdrawal_id: int, decide: Callable[[Withdrawal], Optional[Step]]) -> Withdrawal:
    """Reads the withdrawal, lets `decide` choose its next step, and commits the step with
    its postings and events, conditioned on the version read (retried on a race)."""
    def attempt() -> Withdrawal:
        current = store.get_withdrawal(withdrawal_id)
        if current is None:
            raise WithdrawalNotFound()
        step = decide(current)
        if step is None:
            return current
        after = replace(step.after, version=current.version + 1)
        tx = Transaction()
        store.stage_withdrawal(tx, after, current.version)
        reference = f"withdrawal:{withdrawal_id}"
        if step.effect == "settle":
            ledger.stage(tx, rules.settle_postings(after, fee_shard(withdrawal_id)), reference=reference)
        elif step.effect == "refund":
            ledger.stage(tx, rules.refund_postings(after), reference=reference)
            quota = store.get_quota(after.account_id, after.token, after.quota_day)
            store.stage_quota(tx, quota, max(quota.used - after.amount, ZERO))
        _emit(tx, current, after)
        tx.commit()
        return after

    return run_with_retries(attempt)


def _emit(tx: Transaction, before: Optional[Withdrawal], after: Withdrawal) -> None:
    view = withdrawal_view(after)
    tx.emit(Event(user_stream(after.uid), "withdrawal", view, after.org_id, after.uid))
    if before is None:
        tx.emit(Event(org_stream(after.org_id), "org.userWithdraw", view, after.org_id, after.uid))
    elif before.state is not after.state:
        tx.emit(Event(org_stream(after.org_id), "org.userWithdrawNotice", view, after.org_id, after.uid))


def _numeric(withdrawal_id) -> int:
    text = str(withdrawal_id or "").strip()
    if not text.isdigit():
        raise WithdrawalNotFound()
    return int(text)


def _own(holder: Holder, withdrawal_id) -> Withdrawal:
    found = store.get_withdrawal(_numeric(withdrawal_id))
    if found is None or found.account_id != holder.account_id or found.org_id != holder.org_id:
        raise WithdrawalNotFound()
    return found


def cancel_withdrawal(holder: Holder, withdrawal_id) -> dict:
    """Until it is handed to custody; canceling a canceled withdrawal returns it as it is."""
    deposits.check_holder(holder)
    own = _own(holder, withdrawal_id)

    def decide(current: Withdrawal) -> Optional[Step]:
        if current.state is WithdrawalState.CANCELED:
            return None
        if not current.state.cancelable:
            raise WithdrawalNotCancelable()
        now = store.now_ms()
        return Step(replace(current, state=WithdrawalState.CANCELED, reason="canceled by user", finished_at=now,
                            updated_at=now), "refund")

    return withdrawal_view(_advance(own.withdrawal_id, decide))


# --- review (Admin API) ----------------------------------------------------------------------------------

def _in_org(org_id: str, current: Withdrawal) -> Withdrawal:
    if current.org_id != org_id:
        raise WithdrawalNotFound()
    return current


def approve(org_id: str, withdrawal_id, admin_id: str) -> dict:
    """One admin's approval; the last one needed queues the withdrawal for custody. An
    admin approving again changes nothing (four-eyes needs two distinct admins)."""
    if not admin_id:
        raise MissingParameter("admin_id")

    def decide(current: Withdrawal) -> Optional[Step]:
        _in_org(org_id, current)
        if admin_id in current.approvals:
            return None
        if current.state is not WithdrawalState.REVIEW:
            raise WithdrawalNotReviewable()
        approvals = current.approvals + (str(admin_id),)
        done = len(approvals) >= current.approvals_needed
        return Step(replace(current, approvals=approvals, reviewed_by=str(admin_id), updated_at=store.now_ms(),
                            state=WithdrawalState.QUEUED if done else WithdrawalState.REVIEW))

    after = _advance(_numeric(withdrawal_id), decide)
    if after.state is WithdrawalState.QUEUED:
        enqueue(after.withdrawal_id)
    return withdrawal_view(after, admin=True)


def reject(org_id: str, withdrawal_id, admin_id: str, reason: Optional[str] = None) -> dict:
    """Refuses a withdrawal in review and refunds it; rejecting again changes nothing."""
    if not admin_id:
        raise MissingParameter("admin_id")

    def decide(current: Withdrawal) -> Optional[Step]:
        _in_org(org_id, current)
        if current.state is WithdrawalState.REJECTED:
            return None
        if current.state is not WithdrawalState.REVIEW:
            raise WithdrawalNotReviewable()
        now = store.now_ms()
        return Step(replace(current, state=WithdrawalState.REJECTED, reviewed_by=str(admin_id), finished_at=now,
                            updated_at=now, reason=(reason or "rejected by broker")[:500]), "refund")

    return withdrawal_view(_advance(_numeric(withdrawal_id), decide), admin=True)


def review_queue(org_id: str, *, from_id: Optional[int] = None, limit: int = 100) -> list[dict]:
    """Withdrawals waiting for review, oldest first (`from_id`: ids below it)."""
    return [withdrawal_view(w, admin=True)
            for w in store.awaiting_review(org_id, before_id=from_id, limit=_clamp(limit))]


# --- hand-over to custody ----------------------------------------------------------------------------------

def enqueue(withdrawal_id: int) -> None:
    """Puts a withdrawal on the custody queue; a lost message is re-sent by `requeue_stale`."""
    try:
        aws.client("sqs").send_message(
            QueueUrl=aws.queue_url(settings.custody_queue()), MessageGroupId=str(withdrawal_id),
            MessageDeduplicationId=f"{withdrawal_id}-{store.now_ms() // 60000}",
            MessageBody=json.dumps({"withdrawal_id": str(withdrawal_id)}))
    except Exception:
        log.exception("enqueue of withdrawal %s failed; the sweeper will requeue it", withdrawal_id)


def requeue_stale(min_age_seconds: float = 60.0) -> int:
    """Re-sends withdrawals still queued for, or being handed to, custody (scheduled)."""
    count = 0
    for withdrawal_id in list(store.awaiting_custody(store.now_ms() - int(min_age_seconds * 1000))):
        enqueue(withdrawal_id)
        count += 1
    return count


def broadcast(withdrawal_id: int) -> str:
    """The worker's step: hand a queued withdrawal to custody, at most once in effect.

    Returns what happened ("accepted", "refused", or the state that needed no call).
    A timeout raises CustodyUnavailable: the message comes back and custody is asked
    again with the same request id."""
    def hand_over(current: Withdrawal) -> Optional[Step]:
        if current.state is not WithdrawalState.QUEUED:
            return None
        now = store.now_ms()
        return Step(replace(current, state=WithdrawalState.SENDING, handed_at=now, updated_at=now))

    w = _advance(withdrawal_id, hand_over)
    if w.state is not WithdrawalState.SENDING:
        return w.state.value
    request = gateway.BroadcastRequest(str(w.withdrawal_id), w.org_id, w.uid, w.token, w.chain, w.address,
                                       w.address_tag, w.amount)
    try:
        gateway.client().broadcast(request)
    except gateway.CustodyRefused as refused:
        _advance(withdrawal_id, lambda c: _sending_to(c, WithdrawalState.FAILED, str(refused)[:500] or "refused"))
        return "refused"
    _advance(withdrawal_id, lambda c: _sending_to(c, WithdrawalState.PROCESSING))
    return "accepted"


def _sending_to(current: Withdrawal, state: WithdrawalState, reason: Optional[str] = None) -> Optional[Step]:
    if current.state is not WithdrawalState.SENDING:
        return None  # a custody report got there first
    now = store.now_ms()
    final = state.is_final
    return Step(replace(current, state=state, reason=reason, updated_at=now, finished_at=now if final else None),
                "refund" if final else None)


def receive_callback(payload: Mapping, *, nonce: Optional[str] = None) -> dict:
    """Applies one withdrawal report from custody (already signature-checked). Repeats and
    late reports change nothing; a report contradicting a final outcome changes nothing
    and is recorded on the system stream for operators."""
    report = rules.parse_withdrawal_report(payload)
    conflicts: list[Withdrawal] = []

    def decide(current: Withdrawal) -> Optional[Step]:
        outcome = rules.apply_report(current, report, store.now_ms())
        if outcome.conflict:
            conflicts.append(current)
        return outcome.step

    with store.claimed_nonce(nonce):
        try:
            after = _advance(report.withdrawal_id, decide)
        except (CallbackConflict, NotFound):
            _alert(report, "custody.withdrawalReportRefused")
            raise
    if conflicts:
        _alert(report, "custody.withdrawalConflict", conflicts[-1].state.value)
    return withdrawal_view(after)


def _alert(report: rules.WithdrawalReport, kind: str, state: Optional[str] = None) -> None:
    try:
        events.append_now(Event(SYSTEM_STREAM, kind, {
            "withdrawal_id": str(report.withdrawal_id), "reported": report.kind.value, "state": state,
            "tx_id": report.tx_id, "reason": report.reason}))
    except Exception:
        log.exception("could not record %s for withdrawal %s", kind, report.withdrawal_id)


# --- reads ----------------------------------------------------------------------------------------------

def _clamp(limit: int) -> int:
    return max(1, min(int(limit), MAX_PAGE))


def withdrawal_detail(holder: Holder, *, withdrawal_id=None, client_order_id: Optional[str] = None) -> dict:
    deposits.check_holder(holder)
    if withdrawal_id not in (None, "", "0", 0):
        return withdrawal_view(_own(holder, withdrawal_id))
    if not client_order_id:
        raise MissingParameter("orderId", "Either orderId or clientOrderId is required")
    record = idempotency_records.get(f"withdraw:{holder.account_id}", client_order_id)
    if record is None or not record.response:
        raise WithdrawalNotFound()
    return withdrawal_view(_own(holder, record.response["withdrawal_id"]))


def withdrawal_history(holder: Holder, *, token: Optional[str] = None, from_id: Optional[int] = None,
                       to_id: Optional[int] = None, start_ms: Optional[int] = None, end_ms: Optional[int] = None,
                       limit: int = 100, newest_first: bool = True) -> list[dict]:
    """The holder's withdrawals (internal transfers included), newest first by default;
    `from_id` keeps ids below it, `to_id` ids above it (both exclusive)."""
    deposits.check_holder(holder)
    before, after = rules.id_window(from_id, to_id, start_ms, end_ms)
    result = []
    for w in store.withdrawals_of_account(holder.account_id, before_id=before, after_id=after,
                                          limit=None if token else _clamp(limit), newest_first=newest_first):
        if token and w.token != token:
            continue
        result.append(withdrawal_view(w))
        if len(result) >= _clamp(limit):
            break
    return result


def org_withdrawals(org_id: str, *, uid: Optional[str] = None, token: Optional[str] = None,
                    state: Optional[str] = None, from_id: Optional[int] = None, to_id: Optional[int] = None,
                    start_ms: Optional[int] = None, end_ms: Optional[int] = None, limit: int = 100) -> list[dict]:
    """Every withdrawal of an org's users (Admin API, Org API statistics), newest first."""
    before, after = rules.id_window(from_id, to_id, start_ms, end_ms)
    filtered = bool(uid or token or state)
    result = []
    for w in store.withdrawals_of_org(org_id, before_id=before, after_id=after,
                                      limit=None if filtered else _clamp(limit)):
        if (uid and w.uid != uid) or (token and w.token != token) or (state and w.state.value != state):
            continue
        result.append(withdrawal_view(w, admin=True))
        if len(result) >= _clamp(limit):
            break
    return result


def org_withdrawal(org_id: str, withdrawal_id) -> dict:
    found = store.get_withdrawal(_numeric(withdrawal_id))
    if found is None or found.org_id != org_id:
        raise WithdrawalNotFound()
    return withdrawal_view(found, admin=True)


# --- saved withdrawal addresses ----------------------------------------------------------------------------

def _saved_view(entry: store.SavedAddress) -> dict:
    return {"address_id": str(entry.address_id), "token": entry.token, "chain": entry.chain,
            "address": entry.address, "address_tag": entry.address_tag, "label": entry.label,
            "created_at": entry.created_at}


def add_address(holder: Holder, *, token: str, address: str, address_tag: Optional[str] = None,
                chain: Optional[str] = None, label: str = "") -> dict:
    """Saves a checked address to the user's book (adding one twice returns the first)."""
    deposits.check_holder(holder)
    listing = catalog.org(holder.org_id).token(token)
    chain_rules = rules.chain_rules(token, listing.chains, chain)
    address, address_tag = chain_rules.check_address(address, address_tag)
    if len(label or "") > 64:
        raise InvalidParameter("label", "Label is longer than 64 characters")
    entry = store.SavedAddress(new_id(), holder.org_id, holder.uid, token, chain_rules.chain, address, address_tag,
                               (label or "").strip(), store.now_ms())
    return _saved_view(store.save_address(entry))


def addresses(holder: Holder, *, token: Optional[str] = None) -> list[dict]:
    deposits.check_holder(holder)
    return [_saved_view(entry) for entry in store.saved_addresses(holder.uid, token)]


def remove_address(holder: Holder, address_id) -> None:
    deposits.check_holder(holder)
    for entry in store.saved_addresses(holder.uid):
        if str(entry.address_id) == str(address_id) and entry.org_id == holder.org_id:
            store.delete_saved_address(entry)
            return
    raise NotFound("Withdrawal address does not exist")


def check_address(org_id: str, *, token: str, address: str, address_tag: Optional[str] = None,
                  chain: Optional[str] = None) -> dict:
    """Whether an address is valid for a token's chain, and whether it is one of ours
    (an internal transfer, without chain fee)."""
    listing = catalog.org(org_id).token(token)
    chain_rules = rules.chain_rules(token, listing.chains, chain)
    try:
        address, address_tag = chain_rules.check_address(address, address_tag)
    except InvalidParameter as invalid:
        return {"valid": False, "internal": False, "chain": chain_rules.chain, "message": invalid.message}
    internal = store.address_owner(chain_rules.chain, address, address_tag) is not None
    if not internal and store.is_platform_hub(chain_rules.chain, address):
        return {"valid": False, "internal": False, "chain": chain_rules.chain,
                "message": "This address tag belongs to no user of this platform"}
    return {"valid": True, "internal": internal, "chain": chain_rules.chain, "message": ""}
