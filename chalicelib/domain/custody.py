"""Custody rules: deposit and withdrawal states, chain address rules, quotas, signatures.

Pure: no AWS, no I/O. The services decide with these functions and the store records
the outcome.

Withdrawal life (internal state -> BHEX status of specs/bhex-openapi.md §6):

    REVIEW (1) --approve(s)--> QUEUED (5) --worker--> SENDING (5) --custody accepts--> PROCESSING (5)
       |  \\--reject--> REJECTED (2)       |                  |
       \\--cancel--> CANCELED (2)  <-------/ cancel            \\--custody refuses--> FAILED (7)

    PROCESSING / SENDING --reports--> AUDITING (3) -> BROADCAST (8) -> SUCCESS (6)
                                       any active state -> FAILED (7) | AUDIT_REJECTED (4)

A user may cancel in REVIEW and QUEUED only: SENDING is written *before* the broadcast
request, so once custody might know of a withdrawal it can no longer be refunded by a
cancel. Custody reports only move a withdrawal forward (by rank); a repeated or late
report changes nothing, and a report contradicting a final outcome is a conflict that
is recorded for operators and changes no balance. CANCELED renders as status 2
(BROKER_REJECT_STATUS: refused on the broker side before processing, funds returned).

Deposit states: PENDING (status 10, DEPOSIT_BALANCE_NOT_ADD) until the confirmations
reach the required number, then CREDITED (status 2, DEPOSIT_CAN_WITHDRAW: the credit goes
to `available`, so it can be withdrawn at once). A deposit below the token's
`min_deposit` is IGNORED (status 10): recorded, never credited. `min_deposit` is a
minimum: a deposit of exactly that amount is credited.

Chains: a token's chains come from its exchange listing (`chains`, e.g.
`[{"chainType": "ERC20", "requiredConfirmNum": 12}]`); a chain entry may set
`requiredConfirmNum` and `needAddressTag`, otherwise the defaults of `CHAIN_FAMILIES`
apply (unknown chains: 6 confirmations, no tag, a permissive address pattern). A token
without chains has one chain named like the token.

Review thresholds live in the org settings as per-token maps in token units, with an
optional "*" entry for every other token, e.g.
`{"withdraw_review_threshold": {"BTC": "1", "USDT": "10000", "*": "1000"},
  "withdraw_four_eyes_threshold": {"BTC": "10"}}`. An amount *above* the review threshold
needs one admin approval; above the four-eyes threshold it needs two distinct admins.
Unset means no threshold (no review). A daily maximum of 0 means no daily limit.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum, IntEnum
from typing import Any, Mapping, Optional

from chalicelib.domain import ledger as money
from chalicelib.domain import money as decimals
from chalicelib.domain.errors import (
    AmountOffPrecision,
    CallbackConflict,
    CallbackRejected,
    InvalidAddress,
    InvalidParameter,
    MissingParameter,
    WithdrawQuotaExceeded,
    WithdrawTooSmall,
)
from chalicelib.domain.ids import first_id_at
from chalicelib.domain.ledger import Movement, Posting, Subject

ZERO = Decimal(0)


@dataclass(frozen=True)
class Holder:
    """Whose deposits and withdrawals these are; families take it from the credential."""

    org_id: str
    uid: str
    account_id: str


# --- statuses -------------------------------------------------------------------

class WithdrawalStatus(IntEnum):
    BROKER_AUDITING_STATUS = 1
    BROKER_REJECT_STATUS = 2
    AUDITING_STATUS = 3
    AUDIT_REJECT_STATUS = 4
    PROCESSING_STATUS = 5
    WITHDRAWAL_SUCCESS_STATUS = 6
    WITHDRAWAL_FAILURE_STATUS = 7
    BLOCK_MINING_STATUS = 8


class WithdrawalState(str, Enum):
    REVIEW = "REVIEW"
    QUEUED = "QUEUED"
    SENDING = "SENDING"
    PROCESSING = "PROCESSING"
    AUDITING = "AUDITING"
    BROADCAST = "BROADCAST"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    AUDIT_REJECTED = "AUDIT_REJECTED"
    REJECTED = "REJECTED"
    CANCELED = "CANCELED"

    @property
    def status(self) -> WithdrawalStatus:
        return _STATUS_OF[self]

    @property
    def is_final(self) -> bool:
        return self in _FINAL

    @property
    def cancelable(self) -> bool:
        return self in (WithdrawalState.REVIEW, WithdrawalState.QUEUED)

    @property
    def at_custody(self) -> bool:
        """Custody may know of it: reports about it are expected."""
        return self in _RANK


_S = WithdrawalState
_STATUS_OF = {
    _S.REVIEW: WithdrawalStatus.BROKER_AUDITING_STATUS, _S.REJECTED: WithdrawalStatus.BROKER_REJECT_STATUS,
    _S.CANCELED: WithdrawalStatus.BROKER_REJECT_STATUS, _S.QUEUED: WithdrawalStatus.PROCESSING_STATUS,
    _S.SENDING: WithdrawalStatus.PROCESSING_STATUS, _S.PROCESSING: WithdrawalStatus.PROCESSING_STATUS,
    _S.AUDITING: WithdrawalStatus.AUDITING_STATUS, _S.AUDIT_REJECTED: WithdrawalStatus.AUDIT_REJECT_STATUS,
    _S.BROADCAST: WithdrawalStatus.BLOCK_MINING_STATUS, _S.SUCCESS: WithdrawalStatus.WITHDRAWAL_SUCCESS_STATUS,
    _S.FAILED: WithdrawalStatus.WITHDRAWAL_FAILURE_STATUS,
}
_FINAL = frozenset({_S.SUCCESS, _S.FAILED, _S.AUDIT_REJECTED, _S.REJECTED, _S.CANCELED})
_RANK = {_S.SENDING: 0, _S.PROCESSING: 1, _S.AUDITING: 2, _S.BROADCAST: 3}


class DepositStatus(IntEnum):
    UNKNOWN = 0
    DEPOSIT_BALANCE_ADDED = 1
    DEPOSIT_CAN_WITHDRAW = 2
    DEPOSIT_BALANCE_NOT_ADD = 10


class DepositState(str, Enum):
    PENDING = "PENDING"
    CREDITED = "CREDITED"
    IGNORED = "IGNORED"

    @property
    def status(self) -> DepositStatus:
        return DepositStatus.DEPOSIT_CAN_WITHDRAW if self is DepositState.CREDITED \
            else DepositStatus.DEPOSIT_BALANCE_NOT_ADD

    @property
    def is_final(self) -> bool:
        return self is not DepositState.PENDING


# --- records ----------------------------------------------------------------------

@dataclass(frozen=True)
class Deposit:
    deposit_id: int
    org_id: str
    uid: str
    account_id: str
    token: str
    chain: str
    tx_hash: str
    output_index: int
    address: str
    address_tag: Optional[str]
    amount: Decimal
    confirmations: int
    required_confirmations: int
    state: DepositState
    version: int
    created_at: int
    updated_at: int
    from_address: Optional[str] = None
    from_address_tag: Optional[str] = None
    internal: bool = False
    credited_at: Optional[int] = None


@dataclass(frozen=True)
class Withdrawal:
    withdrawal_id: int
    org_id: str
    uid: str
    account_id: str
    token: str
    chain: str
    address: str
    address_tag: Optional[str]
    amount: Decimal
    fee: Decimal
    state: WithdrawalState
    version: int
    client_order_id: str
    quota_day: str
    created_at: int
    updated_at: int
    approvals_needed: int = 0
    approvals: tuple[str, ...] = ()
    internal: bool = False
    target_org_id: Optional[str] = None
    target_uid: Optional[str] = None
    target_account_id: Optional[str] = None
    tx_id: Optional[str] = None
    confirmations: int = 0
    required_confirmations: int = 0
    reason: Optional[str] = None
    reviewed_by: Optional[str] = None
    handed_at: Optional[int] = None
    finished_at: Optional[int] = None

    @property
    def total(self) -> Decimal:
        """What leaves the balance: the amount that arrives plus the fee."""
        return self.amount + self.fee


# --- chains and addresses -------------------------------------------------------------

@dataclass(frozen=True)
class ChainFamily:
    address: re.Pattern
    confirmations: int
    tag: Optional[re.Pattern] = None  # set: the chain uses an address tag (memo)


_BASE58 = "1-9A-HJ-NP-Za-km-z"
_BITCOIN = ChainFamily(re.compile(rf"^(?:bc1[ac-hj-np-z02-9]{{11,71}}|[13][{_BASE58}]{{25,34}})$"), 2)
_EVM = ChainFamily(re.compile(r"^0x[0-9a-fA-F]{40}$"), 12)
_TRON = ChainFamily(re.compile(rf"^T[{_BASE58}]{{33}}$"), 20)
_MEMO = re.compile(r"^[\x20-\x7e]{1,128}$")
CHAIN_FAMILIES: dict[str, ChainFamily] = {
    "BTC": _BITCOIN, "OMNI": _BITCOIN,
    "ETH": _EVM, "ERC20": _EVM, "BEP20": replace(_EVM, confirmations=15), "BSC": replace(_EVM, confirmations=15),
    "POLYGON": replace(_EVM, confirmations=128), "ARBITRUM": _EVM, "OPTIMISM": _EVM,
    "TRX": _TRON, "TRC20": _TRON,
    "XRP": ChainFamily(re.compile(rf"^r[{_BASE58}]{{24,34}}$"), 1, re.compile(r"^\d{1,10}$")),
    "EOS": ChainFamily(re.compile(r"^[a-z1-5.]{1,12}$"), 1, _MEMO),
    "XLM": ChainFamily(re.compile(r"^G[A-Z2-7]{55}$"), 1, re.compile(r"^[\x20-\x7e]{1,28}$")),
    "ATOM": ChainFamily(re.compile(r"^cosmos1[02-9ac-hj-np-z]{38}$"), 1, _MEMO),
}
_UNKNOWN_CHAIN = ChainFamily(re.compile(r"^[A-Za-z0-9:._-]{8,128}$"), 6)
_UNKNOWN_CHAIN_WITH_TAG = replace(_UNKNOWN_CHAIN, tag=_MEMO)


@dataclass(frozen=True)
class ChainRules:
    chain: str
    required_confirmations: int
    needs_tag: bool
    family: ChainFamily = field(repr=False, compare=False, default=_UNKNOWN_CHAIN)

    def check_address(self, address: Optional[str], tag: Optional[str]) -> tuple[str, Optional[str]]:
        """The address and tag as stored, or InvalidAddress. EVM checksums are not verified
        (keccak is not in the standard library); case is kept as given."""
        address = (address or "").strip()
        tag = (tag or "").strip() or None
        if not address:
            raise MissingParameter("address")
        if not self.family.address.match(address):
            raise InvalidAddress("address", f"Address is not valid for chain {self.chain}")
        if tag is not None:
            if self.family.tag is None:
                raise InvalidAddress("addressExt", f"Chain {self.chain} takes no address tag")
            if not self.family.tag.match(tag) or (tag.isdigit() and self.chain == "XRP" and int(tag) > 0xFFFFFFFF):
                raise InvalidAddress("addressExt", f"Address tag is not valid for chain {self.chain}")
        return address, tag


def chain_configs(token_id: str, chains: tuple) -> list[dict]:
    """A listing's chains as dicts (`TokenListing.chains` holds sorted item tuples)."""
    configs = [dict(entry) for entry in chains if dict(entry).get("chainType")]
    return configs or [{"chainType": token_id}]


def chain_rules(token_id: str, chains: tuple, requested: Optional[str] = None) -> ChainRules:
    """The rules of the requested chain of a token (default: its first chain)."""
    configs = chain_configs(token_id, chains)
    if requested:
        wanted = requested.strip().upper()
        matches = [c for c in configs if str(c["chainType"]).upper() == wanted]
        if not matches:
            raise InvalidParameter("chainType", f"Chain '{requested}' is not supported for {token_id}")
        config = matches[0]
    else:
        config = configs[0]
    chain = str(config["chainType"]).upper()
    family = CHAIN_FAMILIES.get(chain)
    needs_tag = config.get("needAddressTag")
    if family is None:
        family = _UNKNOWN_CHAIN_WITH_TAG if needs_tag else _UNKNOWN_CHAIN
    confirmations = int(config.get("requiredConfirmNum") or family.confirmations)
    return ChainRules(chain, max(confirmations, 1), family.tag is not None, family)


def normalize_tx_hash(tx_hash: str) -> str:
    text = (tx_hash or "").strip()
    return text.lower() if text.lower().startswith("0x") else text


# --- withdrawal terms -------------------------------------------------------------------

@dataclass(frozen=True)
class WithdrawalTerms:
    token: str
    fee: Decimal
    min_amount: Decimal
    daily_max: Decimal  # 0: no daily limit
    precision: Decimal
    review_threshold: Optional[Decimal] = None
    four_eyes_threshold: Optional[Decimal] = None

    def remaining_today(self, used: Decimal) -> Optional[Decimal]:
        return None if self.daily_max <= 0 else max(self.daily_max - used, ZERO)

    def check(self, amount: Decimal, used_today: Decimal) -> None:
        money.require_positive(amount, "amount")
        if self.precision > 0 and not decimals.on_grid(amount, self.precision):
            raise AmountOffPrecision("amount")
        if amount < self.min_amount:
            raise WithdrawTooSmall(minimum=decimals.text(self.min_amount))
        if self.daily_max > 0 and used_today + amount > self.daily_max:
            raise WithdrawQuotaExceeded(remaining=decimals.text(max(self.daily_max - used_today, ZERO)))

    def approvals_needed(self, amount: Decimal) -> int:
        if self.four_eyes_threshold is not None and amount > self.four_eyes_threshold:
            return 2
        if self.review_threshold is not None and amount > self.review_threshold:
            return 1
        return 0


def threshold(settings: Mapping[str, Any], name: str, token: str) -> Optional[Decimal]:
    """A per-token threshold from org settings (see the module docstring), or None."""
    table = settings.get(name)
    if not isinstance(table, Mapping):
        return None
    value = table.get(token, table.get("*"))
    return None if value in (None, "") else decimals.parse(value, name)


def id_window(from_id: Optional[int] = None, to_id: Optional[int] = None, start_ms: Optional[int] = None,
              end_ms: Optional[int] = None) -> tuple[Optional[int], Optional[int]]:
    """Paging bounds as ids, both exclusive: (ids below, ids above). `from_id` keeps ids
    below it, `to_id` ids above it (Org API convention); a time range narrows them, as
    ids are time-ordered."""
    before, after = from_id, to_id
    if end_ms is not None:
        bound = first_id_at(end_ms + 1)
        before = bound if before is None else min(before, bound)
    if start_ms is not None:
        bound = first_id_at(start_ms) - 1
        after = bound if after is None else max(after, bound)
    return before, after


def quota_day(time_ms: int) -> str:
    """The UTC day a withdrawal counts against the daily maximum."""
    return time.strftime("%Y%m%d", time.gmtime(time_ms / 1000))


# --- ledger postings --------------------------------------------------------------------

def deposit_postings(org_id: str, account_id: str, token: str, amount: Decimal) -> list[Posting]:
    return money.postings(Subject.DEPOSIT, money.transfer(money.custody_account(org_id), account_id, token, amount))


def lock_postings(w: Withdrawal) -> list[Posting]:
    return money.postings(Subject.WITHDRAWAL_LOCK, money.lock(w.account_id, w.token, w.total))


def refund_postings(w: Withdrawal) -> list[Posting]:
    return money.postings(Subject.WITHDRAWAL_UNLOCK, money.unlock(w.account_id, w.token, w.total))


def settle_postings(w: Withdrawal, fee_shard: int) -> list[Posting]:
    """The amount leaves through the org's custody account; the fee goes to its fee account."""
    entries = money.postings(Subject.WITHDRAWAL, [
        Movement(w.account_id, w.token, locked=-w.amount),
        Movement(money.custody_account(w.org_id), w.token, available=w.amount)])
    if w.fee > 0:
        entries += money.postings(Subject.WITHDRAWAL_FEE, [
            Movement(w.account_id, w.token, locked=-w.fee),
            Movement(money.fee_account(w.org_id, fee_shard), w.token, available=w.fee)])
    return entries


def internal_postings(w: Withdrawal) -> list[Posting]:
    """Straight from the sender's available to the receiver's; across orgs the value leaves
    the sender's org through its custody account and enters the receiver's through theirs,
    so each org's custody account keeps mirroring what that org's users hold."""
    sender, receiver = w.account_id, w.target_account_id
    if w.target_org_id == w.org_id:
        return (money.postings(Subject.WITHDRAWAL, [Movement(sender, w.token, available=-w.amount)])
                + money.postings(Subject.DEPOSIT, [Movement(receiver, w.token, available=w.amount)]))
    return (money.postings(Subject.WITHDRAWAL, money.transfer(sender, money.custody_account(w.org_id), w.token,
                                                              w.amount))
            + money.postings(Subject.DEPOSIT, money.transfer(money.custody_account(w.target_org_id), receiver,
                                                             w.token, w.amount)))


# --- deposits -----------------------------------------------------------------------------

@dataclass(frozen=True)
class DepositReport:
    chain: str
    tx_hash: str
    output_index: int
    token: str
    address: str
    address_tag: Optional[str]
    amount: Decimal
    confirmations: int
    from_address: Optional[str] = None
    from_address_tag: Optional[str] = None


def advance_deposit(deposit: Deposit, confirmations: int, min_deposit: Decimal, now_ms: int) -> tuple[Deposit, bool]:
    """The deposit after a report of `confirmations`, and whether it is credited now.

    Confirmations only grow (a late, lower report changes nothing); the credit happens in
    the one step that takes a PENDING deposit to CREDITED, so it happens once.
    """
    seen = max(deposit.confirmations, confirmations)
    state = deposit.state
    if state is DepositState.PENDING and deposit.amount < min_deposit:
        state = DepositState.IGNORED
    elif state is DepositState.PENDING and seen >= deposit.required_confirmations:
        state = DepositState.CREDITED
    credit = state is DepositState.CREDITED and deposit.state is DepositState.PENDING
    after = replace(deposit, confirmations=seen, state=state,
                    credited_at=now_ms if credit else deposit.credited_at)
    return after, credit


def check_same_deposit(stored: Deposit, report: DepositReport) -> None:
    """One chain output is one deposit: a report that disagrees with the record is refused."""
    if (stored.token, stored.address, stored.address_tag, stored.amount) != (
            report.token, report.address, report.address_tag, report.amount):
        raise CallbackConflict("Deposit report disagrees with the recorded deposit",
                               chain=report.chain, tx_hash=report.tx_hash, output_index=report.output_index)


# --- withdrawal reports from custody ------------------------------------------------------

class ReportKind(str, Enum):
    AUDITING = "auditing"
    AUDIT_REJECTED = "audit_rejected"
    BROADCAST = "broadcast"
    CONFIRMED = "confirmed"
    FAILED = "failed"


_TARGET = {ReportKind.AUDITING: _S.AUDITING, ReportKind.BROADCAST: _S.BROADCAST,
           ReportKind.CONFIRMED: _S.SUCCESS, ReportKind.FAILED: _S.FAILED,
           ReportKind.AUDIT_REJECTED: _S.AUDIT_REJECTED}


@dataclass(frozen=True)
class WithdrawalReport:
    withdrawal_id: int
    kind: ReportKind
    tx_id: Optional[str] = None
    confirmations: int = 0
    reason: Optional[str] = None


@dataclass(frozen=True)
class Step:
    """What a withdrawal becomes; `effect` is "settle", "refund" or None."""

    after: Withdrawal
    effect: Optional[str] = None


@dataclass(frozen=True)
class ReportOutcome:
    step: Optional[Step]  # None: nothing to write
    conflict: bool = False


def apply_report(w: Withdrawal, report: WithdrawalReport, now_ms: int) -> ReportOutcome:
    """A custody report applied to a withdrawal: forward only, final outcomes once."""
    if w.internal or w.handed_at is None:
        raise CallbackConflict("Custody reported on a withdrawal it was never sent",
                               withdrawal_id=str(w.withdrawal_id), state=w.state.value)
    target = _TARGET[report.kind]
    confirmations = max(w.confirmations, report.confirmations)
    tx_id = w.tx_id or report.tx_id
    if w.state.is_final:
        conflict = target.is_final and target is not w.state
        late_tx_id = tx_id != w.tx_id and w.state is _S.SUCCESS
        if late_tx_id and not conflict:
            return ReportOutcome(Step(replace(w, tx_id=tx_id, confirmations=confirmations, updated_at=now_ms)))
        return ReportOutcome(None, conflict)
    if target.is_final:
        effect = "settle" if target is _S.SUCCESS else "refund"
        reason = None if target is _S.SUCCESS else (report.reason or target.value.lower())
        return ReportOutcome(Step(replace(w, state=target, tx_id=tx_id, confirmations=confirmations, reason=reason,
                                          finished_at=now_ms, updated_at=now_ms), effect))
    if _RANK[target] > _RANK[w.state] or (target is w.state and (confirmations, tx_id) != (w.confirmations, w.tx_id)):
        return ReportOutcome(Step(replace(w, state=target, tx_id=tx_id, confirmations=confirmations,
                                          updated_at=now_ms)))
    return ReportOutcome(None)


# --- report parsing -------------------------------------------------------------------------

def _text(payload: Mapping[str, Any], name: str, *, required: bool = True, limit: int = 256) -> Optional[str]:
    value = payload.get(name)
    if value in (None, ""):
        if required:
            raise MissingParameter(name)
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool) or len(str(value)) > limit:
        raise InvalidParameter(name)
    return str(value).strip()


def _count(payload: Mapping[str, Any], name: str) -> int:
    value = payload.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise InvalidParameter(name)
    return int(value)


def parse_deposit_report(payload: Mapping[str, Any]) -> DepositReport:
    amount = decimals.parse(payload.get("amount"), "amount")
    money.require_positive(amount, "amount")
    return DepositReport(
        chain=_text(payload, "chain", limit=32).upper(),
        tx_hash=normalize_tx_hash(_text(payload, "tx_hash")),
        output_index=_count(payload, "output_index"),
        token=_text(payload, "token", limit=32).upper(),
        address=_text(payload, "address"),
        address_tag=_text(payload, "address_tag", required=False),
        amount=amount,
        confirmations=_count(payload, "confirmations"),
        from_address=_text(payload, "from_address", required=False),
        from_address_tag=_text(payload, "from_address_tag", required=False),
    )


def parse_withdrawal_report(payload: Mapping[str, Any]) -> WithdrawalReport:
    request_id = _text(payload, "request_id", limit=32)
    if not request_id.isdigit():
        raise InvalidParameter("request_id")
    try:
        kind = ReportKind(_text(payload, "status", limit=32).lower())
    except ValueError:
        raise InvalidParameter("status", "Unknown withdrawal report status") from None
    tx_id = _text(payload, "tx_id", required=kind in (ReportKind.BROADCAST, ReportKind.CONFIRMED))
    return WithdrawalReport(int(request_id), kind, tx_id, _count(payload, "confirmations"),
                            _text(payload, "reason", required=False, limit=500))


# --- signatures (custody requests and callbacks) ------------------------------------------

TIMESTAMP_HEADER = "X-Custody-Timestamp"
NONCE_HEADER = "X-Custody-Nonce"
SIGNATURE_HEADER = "X-Custody-Signature"
KEY_HEADER = "X-Custody-Key"
CALLBACK_WINDOW_MS = 5 * 60 * 1000


def signature(secret: str, timestamp: str, nonce: str, method: str, path: str, body: bytes) -> str:
    """HMAC-SHA256 (hex) of `timestamp \\n nonce \\n METHOD \\n path \\n` + the raw body."""
    message = f"{timestamp}\n{nonce}\n{method.upper()}\n{path}\n".encode() + (body or b"")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignedMessage:
    timestamp: str
    nonce: str
    signature: str


def check_signed(secret: str, method: str, path: str, body: bytes, signed: SignedMessage, now_ms: int,
                 window_ms: int = CALLBACK_WINDOW_MS) -> None:
    """Refuses a missing or wrong signature, and a timestamp outside the window either way."""
    if not (signed.timestamp and signed.nonce and signed.signature) or len(signed.nonce) > 128:
        raise CallbackRejected()
    if not signed.timestamp.isdigit() or abs(now_ms - int(signed.timestamp)) > window_ms:
        raise CallbackRejected("Callback timestamp is outside the accepted window")
    expected = signature(secret, signed.timestamp, signed.nonce, method, path, body)
    if not hmac.compare_digest(expected, signed.signature.strip().lower()):
        raise CallbackRejected("Callback signature is not valid")
