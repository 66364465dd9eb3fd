"""Deposits: an address per (user, token, chain), custody's deposit reports, history.

* `deposit_address` asks custody once per (account, token, chain) and keeps the answer,
  so the address is stable; an issued address is owned by one account only (the owner
  entry is written with a condition), and tagged chains share a hub address told apart
  by tag. The org's `allow_deposit` gates issuing.
* `receive_callback` applies one signed deposit report. A deposit is one chain output,
  (chain, tx hash, output index): its row key, so it exists once. It is credited, from
  the org's custody account and in the same transaction as the row turning CREDITED,
  when the reported confirmations reach the required number (token chain setting
  `requiredConfirmNum`, else the chain default of `domain.custody.CHAIN_FAMILIES`).
  Reports may come in any order and any number of times: confirmations only grow and
  the credit is one version-checked state change. Below `min_deposit` the deposit is
  recorded as IGNORED and never credited. A deposit arriving while `allow_deposit` is off
  is still credited: the value is already in the org's custody wallet.
* Reads (`deposit_history`, `deposit_detail`) are for the holder's own account only;
  anything else is DepositNotFound.

Events: user stream `deposit` (new, pending confirmations, credited or ignored) and org
stream `org.userDepositNotice` when a deposit is credited; balance events come from the
ledger.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Mapping, Optional

from chalicelib.domain import custody as rules
from chalicelib.domain import money
from chalicelib.domain.custody import Deposit, DepositState, Holder, Withdrawal
from chalicelib.domain.errors import (
    CallbackConflict,
    ConcurrentUpdate,
    CustodyUnavailable,
    DepositNotAllowed,
    DepositNotFound,
    InvalidAddress,
    InvalidParameter,
    UnknownAccount,
    UnknownToken,
)
from chalicelib.domain.events import SYSTEM_STREAM, Event, org_stream, user_stream
from chalicelib.domain.ids import new_id
from chalicelib.gateways import custody as gateway
from chalicelib.services import catalog, events, ledger
from chalicelib.store import accounts
from chalicelib.store import custody as store
from chalicelib.store.transaction import Transaction, run_with_retries

log = logging.getLogger(__name__)
MAX_PAGE = 1000


def check_holder(holder: Holder) -> None:
    """The account must be the user's, in the user's org; otherwise it does not exist."""
    owner = accounts.owner_of(holder.account_id)
    if owner is None or owner.org_id != holder.org_id or owner.uid != holder.uid:
        raise UnknownAccount()


def deposit_view(d: Deposit) -> dict:
    """The internal JSON form of a deposit; each family renders its own wire shape from it."""
    return {
        "deposit_id": str(d.deposit_id), "org_id": d.org_id, "uid": d.uid, "account_id": d.account_id,
        "token": d.token, "chain": d.chain, "address": d.address, "address_tag": d.address_tag,
        "from_address": d.from_address, "from_address_tag": d.from_address_tag, "amount": money.text(d.amount),
        "tx_hash": d.tx_hash, "output_index": d.output_index, "confirmations": d.confirmations,
        "required_confirmations": d.required_confirmations, "status": int(d.state.status),
        "status_code": d.state.status.name, "state": d.state.value, "internal": d.internal,
        "created_at": d.created_at, "updated_at": d.updated_at, "credited_at": d.credited_at,
    }


# --- addresses ----------------------------------------------------------------------------

def deposit_address(holder: Holder, token: str, chain: Optional[str] = None) -> dict:
    """The holder's address for a token on a chain (default: the token's first chain)."""
    check_holder(holder)
    listing = catalog.org(holder.org_id).token(token)
    if not listing.allow_deposit:
        raise DepositNotAllowed()
    chain_rules = rules.chain_rules(token, listing.chains, chain)
    issued = store.get_deposit_address(holder.account_id, token, chain_rules.chain)
    if issued is None:
        issued = _issue(holder, token, chain_rules)
    return {
        "token": token, "chain": chain_rules.chain, "address": issued.address, "address_tag": issued.address_tag,
        "need_address_tag": chain_rules.needs_tag, "allow_deposit": listing.allow_deposit,
        "min_deposit": money.text(listing.min_deposit),
        "required_confirmations": chain_rules.required_confirmations,
        "can_withdraw_confirmations": chain_rules.required_confirmations,
    }


def _issue(holder: Holder, token: str, chain_rules: rules.ChainRules) -> store.DepositAddress:
    answer = gateway.client().deposit_address(gateway.AddressRequest(
        holder.org_id, holder.uid, holder.account_id, token, chain_rules.chain, chain_rules.needs_tag))
    try:
        address, tag = chain_rules.check_address(answer.address, answer.address_tag)
    except InvalidParameter:
        raise CustodyUnavailable("Custody issued an address that is not valid for the chain") from None
    if chain_rules.needs_tag and not tag:
        raise CustodyUnavailable("Custody issued no address tag for a chain that needs one")
    issued = store.DepositAddress(holder.org_id, holder.uid, holder.account_id, token, chain_rules.chain, address,
                                  tag, store.now_ms())
    tx = Transaction()
    store.stage_deposit_address(tx, issued)
    try:
        tx.commit()
        return issued
    except ConcurrentUpdate:
        winner = store.get_deposit_address(holder.account_id, token, chain_rules.chain)
        if winner is None:
            raise
        return winner


# --- custody reports ------------------------------------------------------------------------

def receive_callback(payload: Mapping, *, nonce: Optional[str] = None) -> dict:
    """Applies one deposit report from custody (already signature-checked); the nonce, if
    given, is used once."""
    report = rules.parse_deposit_report(payload)
    with store.claimed_nonce(nonce):
        return deposit_view(_apply(report))


def _apply(report: rules.DepositReport) -> Deposit:
    owner = store.address_owner(report.chain, report.address, report.address_tag)
    if owner is None:
        _alert("custody.unknownDepositAddress", report)
        raise InvalidAddress("address", "Deposit address was not issued by this platform")
    listing = catalog.org(owner.org_id).tokens.get(report.token)
    if listing is None:
        _alert("custody.unlistedDepositToken", report)
        raise UnknownToken(report.token)
    chain_rules = rules.chain_rules(report.token, listing.chains, report.chain)

    def attempt() -> Deposit:
        current = store.get_deposit(report.chain, report.tx_hash, report.output_index)
        now = store.now_ms()
        if current is None:
            base = Deposit(
                new_id(), owner.org_id, owner.uid, owner.account_id, report.token, report.chain, report.tx_hash,
                report.output_index, report.address, report.address_tag, report.amount, 0,
                chain_rules.required_confirmations, DepositState.PENDING, 0, now, now, report.from_address,
                report.from_address_tag)
        else:
            try:
                rules.check_same_deposit(current, report)
            except CallbackConflict:
                _alert("custody.depositConflict", report)
                raise
            base = current
        after, credit = rules.advance_deposit(base, report.confirmations, listing.min_deposit, now)
        if after == current:
            return current
        after = replace(after, version=base.version + 1, updated_at=now)
        tx = Transaction()
        store.stage_deposit(tx, after, None if current is None else current.version)
        if credit:
            ledger.stage(tx, rules.deposit_postings(after.org_id, after.account_id, after.token, after.amount),
                         reference=f"deposit:{after.deposit_id}")
        if current is None or current.state != after.state or not after.state.is_final:
            _emit(tx, after, credited=credit)
        tx.commit()
        return after

    return run_with_retries(attempt)


def stage_internal_credit(tx: Transaction, w: Withdrawal, required_confirmations: int) -> Deposit:
    """The receiver's deposit row of an internal transfer (its postings are the withdrawal's)."""
    now = store.now_ms()
    deposit = Deposit(
        new_id(), w.target_org_id, w.target_uid, w.target_account_id, w.token, w.chain,
        f"internal:{w.withdrawal_id}", 0, w.address, w.address_tag, w.amount, required_confirmations,
        required_confirmations, DepositState.CREDITED, 1, now, now, internal=True, credited_at=now)
    store.stage_deposit(tx, deposit, None)
    _emit(tx, deposit, credited=True)
    return deposit


def _emit(tx: Transaction, d: Deposit, *, credited: bool) -> None:
    view = deposit_view(d)
    tx.emit(Event(user_stream(d.uid), "deposit", view, d.org_id, d.uid))
    if credited:
        tx.emit(Event(org_stream(d.org_id), "org.userDepositNotice", view, d.org_id, d.uid))


def _alert(kind: str, report: rules.DepositReport) -> None:
    """Operators hear of reports that cannot be applied (the custody wallet holds value
    no user was credited with)."""
    try:
        events.append_now(Event(SYSTEM_STREAM, kind, {
            "chain": report.chain, "tx_hash": report.tx_hash, "output_index": report.output_index,
            "token": report.token, "address": report.address, "address_tag": report.address_tag,
            "amount": money.text(report.amount)}))
    except Exception:
        log.exception("could not record %s for %s", kind, report.tx_hash)


# --- reads --------------------------------------------------------------------------------------

def _clamp(limit: int) -> int:
    return max(1, min(int(limit), MAX_PAGE))


def deposit_history(holder: Holder, *, token: Optional[str] = None, from_id: Optional[int] = None,
                    to_id: Optional[int] = None, start_ms: Optional[int] = None, end_ms: Optional[int] = None,
                    limit: int = 100, newest_first: bool = True) -> list[dict]:
    """The holder's deposits, newest first by default; `from_id` keeps ids below it, `to_id`
    ids above it (both exclusive), the time range is on creation time."""
    check_holder(holder)
    before, after = rules.id_window(from_id, to_id, start_ms, end_ms)
    result = []
    for deposit in store.deposits_of_account(holder.account_id, before_id=before, after_id=after,
                                             limit=None if token else _clamp(limit), newest_first=newest_first):
        if token and deposit.token != token:
            continue
        result.append(deposit_view(deposit))
        if len(result) >= _clamp(limit):
            break
    return result


def deposit_detail(holder: Holder, deposit_id) -> dict:
    check_holder(holder)
    deposit = _by_id(deposit_id)
    if deposit is None or deposit.account_id != holder.account_id or deposit.org_id != holder.org_id:
        raise DepositNotFound()
    return deposit_view(deposit)


def _by_id(deposit_id) -> Optional[Deposit]:
    text = str(deposit_id or "").strip()
    return store.deposit_by_id(int(text)) if text.isdigit() else None


def org_deposits(org_id: str, *, uid: Optional[str] = None, token: Optional[str] = None,
                 from_id: Optional[int] = None, to_id: Optional[int] = None, start_ms: Optional[int] = None,
                 end_ms: Optional[int] = None, limit: int = 100) -> list[dict]:
    """Every deposit of an org's users (Admin API, Org API statistics), newest first."""
    before, after = rules.id_window(from_id, to_id, start_ms, end_ms)
    filtered = bool(uid or token)
    result = []
    for deposit in store.deposits_of_org(org_id, before_id=before, after_id=after,
                                         limit=None if filtered else _clamp(limit)):
        if (uid and deposit.uid != uid) or (token and deposit.token != token):
            continue
        result.append(deposit_view(deposit))
        if len(result) >= _clamp(limit):
            break
    return result


def org_deposit(org_id: str, deposit_id) -> dict:
    deposit = _by_id(deposit_id)
    if deposit is None or deposit.org_id != org_id:
        raise DepositNotFound()
    return deposit_view(deposit)
