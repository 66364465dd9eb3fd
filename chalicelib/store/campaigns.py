"""Campaign rules and the bonuses they paid.

| entity | pk | sk |
|---|---|---|
| campaign rule | `CAMPAIGN#<org_id>` | `<rule_id:020d>` |
| bonus paid by a rule | `CAMPPAY#<rule_id>` | `<uid of the user whose event triggered it>` |

A rule carries its own cursor into the org's event stream, its spent budget and a
version; paying a bonus is one transaction: the ledger postings, the payout row (only if
absent: at most once per rule and user) and the rule (spent and cursor, only at the
version read). So a bonus, its budget and the cursor never disagree.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Optional

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from chalicelib.domain.errors import ConcurrentUpdate, NotFound
from chalicelib.store.attributes import DecimalAttribute, IntegerAttribute
from chalicelib.store.table import Entity, padded
from chalicelib.store.transaction import Transaction

ACTIVE, PAUSED, EXHAUSTED, ENDED = "ACTIVE", "PAUSED", "EXHAUSTED", "ENDED"


class RuleRecord(Entity):
    rule_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    name = UnicodeAttribute()
    trigger = UnicodeAttribute()
    token = UnicodeAttribute()
    amount = DecimalAttribute()
    to_lock = BooleanAttribute()
    budget = DecimalAttribute()
    spent = DecimalAttribute()
    paid_count = IntegerAttribute()
    status = UnicodeAttribute()
    starts_at = IntegerAttribute()
    ends_at = IntegerAttribute(null=True)
    cursor = IntegerAttribute()
    blocked_reason = UnicodeAttribute(null=True)
    version = IntegerAttribute()
    created_at = IntegerAttribute()
    updated_at = IntegerAttribute()


class PayoutRecord(Entity):
    rule_id = UnicodeAttribute()
    uid = UnicodeAttribute()
    recipient_uid = UnicodeAttribute()
    token = UnicodeAttribute()
    amount = DecimalAttribute()
    event_id = IntegerAttribute()
    created_at = IntegerAttribute()


@dataclass(frozen=True)
class Rule:
    rule_id: str
    org_id: str
    name: str
    trigger: str
    token: str
    amount: Decimal
    to_lock: bool
    budget: Decimal
    spent: Decimal
    paid_count: int
    status: str
    starts_at: int
    ends_at: Optional[int]
    cursor: int
    blocked_reason: Optional[str]
    version: int
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class Payout:
    rule_id: str
    uid: str
    recipient_uid: str
    token: str
    amount: Decimal
    event_id: int
    created_at: int


def now_ms() -> int:
    return int(time.time() * 1000)


def _rule_key(org_id: str) -> str:
    return f"CAMPAIGN#{org_id}"


def _to_rule(r: RuleRecord) -> Rule:
    return Rule(r.rule_id, r.org_id, r.name, r.trigger, r.token, r.amount, r.to_lock, r.budget, r.spent,
                r.paid_count, r.status, r.starts_at, r.ends_at, r.cursor, r.blocked_reason, r.version,
                r.created_at, r.updated_at)


def _record(rule: Rule) -> RuleRecord:
    return RuleRecord(
        _rule_key(rule.org_id), padded(int(rule.rule_id)), rule_id=rule.rule_id, org_id=rule.org_id,
        name=rule.name, trigger=rule.trigger, token=rule.token, amount=rule.amount, to_lock=rule.to_lock,
        budget=rule.budget, spent=rule.spent, paid_count=rule.paid_count, status=rule.status,
        starts_at=rule.starts_at, ends_at=rule.ends_at, cursor=rule.cursor, blocked_reason=rule.blocked_reason,
        version=rule.version, created_at=rule.created_at, updated_at=rule.updated_at)


def stage_create(tx: Transaction, rule: Rule) -> None:
    tx.put(_record(rule), RuleRecord.pk.does_not_exist(), on_condition_failed=ConcurrentUpdate)


def stage_update(tx: Transaction, rule: Rule, expected_version: int) -> Rule:
    """Writes `rule` as the next version; ConcurrentUpdate if someone wrote it since."""
    after = replace(rule, version=expected_version + 1, updated_at=now_ms())
    tx.put(_record(after), RuleRecord.version == expected_version, on_condition_failed=ConcurrentUpdate)
    return after


def update(rule: Rule, expected_version: int) -> Rule:
    tx = Transaction()
    after = stage_update(tx, rule, expected_version)
    tx.commit()
    return after


def get(org_id: str, rule_id: str) -> Rule:
    try:
        return _to_rule(RuleRecord.get(_rule_key(org_id), padded(int(rule_id)), consistent_read=True))
    except (RuleRecord.DoesNotExist, ValueError):
        raise NotFound("Campaign rule not found") from None


def rules(org_id: str) -> list[Rule]:
    """Newest first."""
    return [_to_rule(r) for r in RuleRecord.query(_rule_key(org_id), scan_index_forward=False,
                                                  consistent_read=True)]


class AlreadyPaid(Exception):
    """The payout row exists: this rule already paid this user."""


def stage_payout(tx: Transaction, payout: Payout) -> None:
    tx.put(PayoutRecord(f"CAMPPAY#{payout.rule_id}", payout.uid, rule_id=payout.rule_id, uid=payout.uid,
                        recipient_uid=payout.recipient_uid, token=payout.token, amount=payout.amount,
                        event_id=payout.event_id, created_at=payout.created_at),
           PayoutRecord.pk.does_not_exist(), on_condition_failed=AlreadyPaid)


def payout(rule_id: str, uid: str) -> Optional[Payout]:
    try:
        r = PayoutRecord.get(f"CAMPPAY#{rule_id}", uid, consistent_read=True)
    except PayoutRecord.DoesNotExist:
        return None
    return Payout(r.rule_id, r.uid, r.recipient_uid, r.token, r.amount, r.event_id, r.created_at)


def payouts(rule_id: str, *, after_uid: Optional[str] = None, limit: int = 50) -> list[Payout]:
    condition = PayoutRecord.sk > after_uid if after_uid else None
    return [Payout(r.rule_id, r.uid, r.recipient_uid, r.token, r.amount, r.event_id, r.created_at)
            for r in PayoutRecord.query(f"CAMPPAY#{rule_id}", condition, limit=limit, consistent_read=True)]
