"""Balances and the rules every movement of money obeys.

A ledger operation is a set of movements that, per token, sums to zero: value only
enters or leaves through system accounts. Each movement changes one balance's
`available`, `locked` and `position` parts; none of them may go below zero, except on
an org's custody account, which stands for everything held outside the platform.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import IntEnum
from typing import Iterable

from chalicelib.domain.errors import InsufficientBalance, InvalidParameter

ZERO = Decimal(0)


class Subject(IntEnum):
    """Business subjects of balance flows (BHEX numbering where it has one)."""

    TRADE = 1
    FEE = 2
    TRANSFER = 3
    DEPOSIT = 4
    TRADE_FEE_RECEIVED = 14
    WITHDRAWAL = 33
    WITHDRAWAL_FEE = 35
    WITHDRAWAL_ROLLBACK = 39
    USER_ACCOUNT_TRANSFER = 51
    ACTIVITY_AWARD = 67
    INVITATION_REFERRAL_BONUS = 68
    REGISTER_BONUS = 69
    AIRDROP = 70
    INEX_MAPPING = 401
    CONVERT = 406
    ORDER_LOCK = 900
    ORDER_UNLOCK = 901
    WITHDRAWAL_LOCK = 902
    WITHDRAWAL_UNLOCK = 903
    LOCK_UP = 904
    UNLOCK_UP = 905
    FREEZE = 906
    UNFREEZE = 907


class AccountKind(IntEnum):
    USER = 1
    CUSTODY = 2
    OPERATING = 3
    FEE = 4


SYSTEM_SEPARATOR = ":"


def custody_account(org_id: str) -> str:
    return f"{org_id}{SYSTEM_SEPARATOR}custody"


def operating_account(org_id: str) -> str:
    return f"{org_id}{SYSTEM_SEPARATOR}operating"


def fee_account(org_id: str, shard: int) -> str:
    return f"{org_id}{SYSTEM_SEPARATOR}fee{SYSTEM_SEPARATOR}{shard}"


def account_kind(account_id: str) -> AccountKind:
    if SYSTEM_SEPARATOR not in account_id:
        return AccountKind.USER
    role = account_id.split(SYSTEM_SEPARATOR)[1]
    return {"custody": AccountKind.CUSTODY, "operating": AccountKind.OPERATING, "fee": AccountKind.FEE}[role]


def may_go_negative(account_id: str) -> bool:
    return account_kind(account_id) is AccountKind.CUSTODY


@dataclass(frozen=True)
class Balance:
    account_id: str
    token: str
    available: Decimal = ZERO
    locked: Decimal = ZERO
    position: Decimal = ZERO
    version: int = 0

    @property
    def total(self) -> Decimal:
        return self.available + self.locked + self.position


@dataclass(frozen=True)
class Movement:
    account_id: str
    token: str
    available: Decimal = ZERO
    locked: Decimal = ZERO
    position: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.available + self.locked + self.position

    def is_empty(self) -> bool:
        return not (self.available or self.locked or self.position)


def apply(balance: Balance, movement: Movement) -> Balance:
    """The balance after a movement, or InsufficientBalance if a part would go negative."""
    after = replace(
        balance,
        available=balance.available + movement.available,
        locked=balance.locked + movement.locked,
        position=balance.position + movement.position,
        version=balance.version + 1,
    )
    if not may_go_negative(balance.account_id):
        if after.available < 0 or after.locked < 0 or after.position < 0:
            raise InsufficientBalance(
                account_id=balance.account_id, token=balance.token,
                available=str(balance.available), locked=str(balance.locked), position=str(balance.position),
            )
    return after


def merge(movements: Iterable[Movement]) -> list[Movement]:
    """One movement per (account, token): a transaction may touch each balance once."""
    totals: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    order: list[tuple[str, str]] = []
    for movement in movements:
        key = (movement.account_id, movement.token)
        if key not in totals:
            order.append(key)
        parts = totals[key]
        parts[0] += movement.available
        parts[1] += movement.locked
        parts[2] += movement.position
    merged = [Movement(account, token, *totals[(account, token)]) for account, token in order]
    return [movement for movement in merged if not movement.is_empty()]


def check_conserved(movements: Iterable[Movement]) -> None:
    """Per token, the movements of one operation must sum to zero."""
    per_token: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for movement in movements:
        per_token[movement.token] += movement.total
    unbalanced = {token: total for token, total in per_token.items() if total != 0}
    if unbalanced:
        raise ValueError(f"operation creates or destroys value: {unbalanced}")


def require_positive(amount: Decimal, param: str = "amount") -> Decimal:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise InvalidParameter(param, f"Parameter '{param}' must be a positive number")
    return amount


# The operations every family uses, each a conserved list of movements.

def transfer(source: str, target: str, token: str, amount: Decimal) -> list[Movement]:
    require_positive(amount)
    return [Movement(source, token, available=-amount), Movement(target, token, available=amount)]


def lock(account_id: str, token: str, amount: Decimal) -> list[Movement]:
    require_positive(amount)
    return [Movement(account_id, token, available=-amount, locked=amount)]


def unlock(account_id: str, token: str, amount: Decimal) -> list[Movement]:
    require_positive(amount)
    return [Movement(account_id, token, available=amount, locked=-amount)]


def lock_up(account_id: str, token: str, amount: Decimal) -> list[Movement]:
    require_positive(amount)
    return [Movement(account_id, token, available=-amount, position=amount)]


def unlock_up(account_id: str, token: str, amount: Decimal) -> list[Movement]:
    require_positive(amount)
    return [Movement(account_id, token, available=amount, position=-amount)]


@dataclass(frozen=True)
class Posting:
    """A movement with the business reason it happens for."""

    movement: Movement
    subject: Subject


def postings(subject: Subject, movements: Iterable[Movement]) -> list[Posting]:
    return [Posting(movement, subject) for movement in movements if not movement.is_empty()]


def plan(balance: Balance, entries: list[Posting]) -> tuple[Balance, list[tuple[Posting, Balance]]]:
    """Applies several postings to one balance: the final balance (one version step, as it
    is written once) and the balance after each posting (for the flow rows)."""
    steps: list[tuple[Posting, Balance]] = []
    current = balance
    for entry in entries:
        current = apply(current, entry.movement)
        steps.append((entry, current))
    return replace(current, version=balance.version + 1), steps
