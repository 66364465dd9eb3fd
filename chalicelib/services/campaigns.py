"""Campaigns: rules that pay a bonus from the operating account when an org event happens.

Triggers (both on `org.userRegister`, the event services/users.register_user emits):

* `register`: the new user gets the bonus (subject REGISTER_BONUS);
* `invite`: the user whose invite code the new user signed up with gets it, once per
  invited user (subject INVITATION_REFERRAL_BONUS).

A rule pays at most once per (rule, triggering user) and never beyond its budget: the
bonus, the payout row (written only if absent) and the rule's new spent amount and cursor
commit in one transaction conditioned on the rule's version. When the next bonus would
exceed the budget the rule becomes EXHAUSTED and pays nothing more (raising the budget
reactivates it). Events outside the rule's window are skipped; the first event at or after
`ends_at` ends the rule.

Each rule reads the org stream from its own cursor (set to the stream's head when the rule
is created or resumed, so earlier events never pay). `catch_up_all` runs on a schedule; a
bonus the operating account cannot cover holds the rule's cursor at that event, records
why (`blocked_reason`) and is paid by a later run once the account is funded. Events are
kept 30 days (store/events.py), so a rule blocked longer loses the oldest of them.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal
from typing import Optional

from chalicelib.domain import ledger as rules_ledger
from chalicelib.domain import money
from chalicelib.domain.errors import (
    AmountOffPrecision,
    ConcurrentUpdate,
    InsufficientBalance,
    InvalidParameter,
    NotFound,
)
from chalicelib.domain.events import StoredEvent, org_stream
from chalicelib.domain.ids import new_id
from chalicelib.domain.ledger import Subject
from chalicelib.services import catalog, events, idempotency, ledger, users
from chalicelib.store import campaigns as store
from chalicelib.store import catalog as catalog_store
from chalicelib.store.campaigns import ACTIVE, ENDED, EXHAUSTED, PAUSED, Payout, Rule
from chalicelib.store.transaction import Transaction, run_with_retries

log = logging.getLogger(__name__)
TRIGGERS = {"register": Subject.REGISTER_BONUS, "invite": Subject.INVITATION_REFERRAL_BONUS}
REGISTER_EVENTS = ("org.userRegister", "org.userRegistered")
BATCH = 200
MAX_ACTIVE_RULES = 20


def rule_view(rule: Rule) -> dict:
    return {"rule_id": rule.rule_id, "name": rule.name, "trigger": rule.trigger, "token_id": rule.token,
            "amount": money.text(rule.amount), "to_lock": rule.to_lock, "budget": money.text(rule.budget),
            "spent": money.text(rule.spent), "remaining": money.text(rule.budget - rule.spent),
            "paid_count": rule.paid_count, "status": rule.status, "starts_at": rule.starts_at,
            "ends_at": rule.ends_at, "blocked_reason": rule.blocked_reason, "created_at": rule.created_at,
            "updated_at": rule.updated_at}


def payout_view(payout: Payout) -> dict:
    return {"rule_id": payout.rule_id, "uid": payout.uid, "recipient_uid": payout.recipient_uid,
            "token_id": payout.token, "amount": money.text(payout.amount), "event_id": str(payout.event_id),
            "created_at": payout.created_at}


def _check_amounts(org_id: str, token: str, amount: Decimal, budget: Decimal) -> None:
    precision = catalog.org(org_id).token(token).precision
    rules_ledger.require_positive(amount, "amount")
    rules_ledger.require_positive(budget, "budget")
    if precision > 0 and not money.on_grid(amount, precision):
        raise AmountOffPrecision("amount")
    if amount > budget:
        raise InvalidParameter("budget", "The budget must cover at least one bonus")


def create_rule(org_id: str, *, name: str, trigger: str, token: str, amount: Decimal, budget: Decimal,
                to_lock: bool = False, starts_at: Optional[int] = None, ends_at: Optional[int] = None,
                operation_id: str) -> dict:
    if trigger not in TRIGGERS:
        raise InvalidParameter("trigger", f"trigger is one of {', '.join(TRIGGERS)}")
    _check_amounts(org_id, token, amount, budget)
    now = store.now_ms()
    requested_start = starts_at  # the payload keeps what the caller sent: a retry later must match
    starts_at = starts_at if starts_at is not None else now
    if ends_at is not None and ends_at <= starts_at:
        raise InvalidParameter("ends_at", "ends_at must be after starts_at")
    if sum(1 for r in store.rules(org_id) if r.status == ACTIVE) >= MAX_ACTIVE_RULES:
        raise InvalidParameter("trigger", f"At most {MAX_ACTIVE_RULES} active rules per broker")
    payload = {"name": name, "trigger": trigger, "token": token, "amount": str(amount), "budget": str(budget),
               "to_lock": bool(to_lock), "starts_at": requested_start, "ends_at": ends_at}

    def build(tx: Transaction) -> dict:
        rule = Rule(str(new_id()), org_id, name[:100], trigger, token, amount, bool(to_lock), budget, Decimal(0),
                    0, ACTIVE, starts_at, ends_at, events.last_id(org_stream(org_id)), None, 1, now, now)
        store.stage_create(tx, rule)
        return rule_view(rule)

    return idempotency.run(f"campaign:{org_id}", operation_id, payload, build)


def get_rule(org_id: str, rule_id: str) -> dict:
    return rule_view(store.get(org_id, rule_id))


def list_rules(org_id: str, *, status: Optional[str] = None) -> list[dict]:
    return [rule_view(r) for r in store.rules(org_id) if status is None or r.status == status]


def update_rule(org_id: str, rule_id: str, *, name: Optional[str] = None, budget: Optional[Decimal] = None,
                ends_at: Optional[int] = None, status: Optional[str] = None) -> tuple[dict, dict]:
    """Renames, re-budgets, re-times, pauses (PAUSED) or resumes (ACTIVE) a rule; the
    views before and after. Resuming starts reading at the stream's head: events of the
    pause never pay. A budget that covers another bonus reactivates an EXHAUSTED rule."""
    if status not in (None, ACTIVE, PAUSED):
        raise InvalidParameter("status", "status is ACTIVE or PAUSED")

    def attempt() -> tuple[dict, dict]:
        current = store.get(org_id, rule_id)
        if current.status == ENDED:
            raise InvalidParameter("rule_id", "The rule has ended")
        changed = current
        if name is not None:
            changed = replace(changed, name=name[:100])
        if budget is not None:
            _check_amounts(org_id, current.token, current.amount, budget)
            if budget < current.spent:
                raise InvalidParameter("budget", "The budget cannot be below what was already paid")
            changed = replace(changed, budget=budget)
        if ends_at is not None:
            if ends_at <= changed.starts_at:
                raise InvalidParameter("ends_at", "ends_at must be after starts_at")
            changed = replace(changed, ends_at=ends_at)
        if status == PAUSED and changed.status in (ACTIVE, EXHAUSTED):
            changed = replace(changed, status=PAUSED)
        elif status == ACTIVE and current.status == PAUSED:
            changed = replace(changed, status=ACTIVE, cursor=events.last_id(org_stream(org_id)),
                              blocked_reason=None)
        room = changed.spent + changed.amount <= changed.budget
        if changed.status == EXHAUSTED and room:
            changed = replace(changed, status=ACTIVE)
        elif changed.status == ACTIVE and not room:
            changed = replace(changed, status=EXHAUSTED)
        if changed == current:
            return rule_view(current), rule_view(current)
        return rule_view(current), rule_view(store.update(changed, current.version))

    return run_with_retries(attempt)


def payouts(org_id: str, rule_id: str, *, after_uid: Optional[str] = None, limit: int = 50) -> dict:
    store.get(org_id, rule_id)  # the rule must be this org's
    page = store.payouts(rule_id, after_uid=after_uid, limit=limit)
    return {"list": [payout_view(p) for p in page],
            "next_after_uid": page[-1].uid if len(page) == limit else None}


# --- paying ------------------------------------------------------------------------------------------------

def recipient(rule: Rule, event: StoredEvent) -> Optional[str]:
    """Who this rule pays for this event, if anyone."""
    if event.type not in REGISTER_EVENTS:
        return None
    if rule.trigger == "register":
        return str(event.payload.get("uid") or "") or None
    return str(event.payload.get("invite_user_id") or "") or None


def _save(rule: Rule, **changes) -> Rule:
    return store.update(replace(rule, **changes), rule.version)


def _pay(rule: Rule, event: StoredEvent, to_uid: str) -> Rule:
    """One bonus, the payout row and the rule's new spent and cursor, together."""
    account = users.get_user(rule.org_id, to_uid).main_account_id
    part = "position" if rule.to_lock else "available"
    tx = Transaction()
    ledger.stage(tx, rules_ledger.postings(TRIGGERS[rule.trigger], [
        rules_ledger.Movement(rules_ledger.operating_account(rule.org_id), rule.token, available=-rule.amount),
        rules_ledger.Movement(account, rule.token, **{part: rule.amount})]),
        reference=f"campaign:{rule.rule_id}:{event.payload.get('uid')}")
    store.stage_payout(tx, Payout(rule.rule_id, str(event.payload.get("uid")), to_uid, rule.token, rule.amount,
                                  event.id, store.now_ms()))
    spent = rule.spent + rule.amount
    status = EXHAUSTED if spent + rule.amount > rule.budget else rule.status  # no room for another bonus
    after = store.stage_update(tx, replace(rule, spent=spent, paid_count=rule.paid_count + 1, status=status,
                                           cursor=event.id, blocked_reason=None), rule.version)
    tx.commit()
    return after


def _advance(org_id: str, rule: Rule, max_events: int) -> int:
    """Pays what the rule owes for the events after its cursor; how many events it read."""
    read = 0
    while read < max_events:
        batch = events.replay(org_stream(org_id), rule.cursor, BATCH)
        if not batch:
            if rule.ends_at is not None and store.now_ms() >= rule.ends_at:
                _save(rule, status=ENDED)  # every event of its window is handled
            return read
        handled = rule.cursor  # events up to here need nothing more; not yet stored
        for event in batch:
            read += 1
            if rule.ends_at is not None and event.time >= rule.ends_at:
                _save(rule, status=ENDED, cursor=handled)
                return read
            to_uid = recipient(rule, event)
            if to_uid is None or event.time < rule.starts_at:
                handled = event.id
                continue
            if rule.spent + rule.amount > rule.budget:
                _save(rule, status=EXHAUSTED, cursor=handled)
                return read
            try:
                rule = _pay(replace(rule, cursor=handled), event, to_uid)
            except (store.AlreadyPaid, NotFound):
                handled = event.id  # paid already (a duplicate event), or the recipient is gone
                continue
            except InsufficientBalance:
                if rule.blocked_reason is None or handled != rule.cursor:
                    _save(rule, cursor=handled, blocked_reason="operating account balance is insufficient")
                return read
            if rule.status != ACTIVE:
                return read  # the budget has no room for another bonus
            handled = rule.cursor
        if handled != rule.cursor:
            rule = _save(rule, cursor=handled)
    return read


def catch_up(org_id: str, max_events: int = 5000) -> int:
    """Runs every active rule of the org; how many events the rules read."""
    read = 0
    for rule in store.rules(org_id):
        if rule.status != ACTIVE:
            continue
        try:
            read += _advance(org_id, rule, max_events)
        except ConcurrentUpdate:
            continue  # another runner moved this rule; the next run goes on from its cursor
    return read


def catch_up_all(max_events_per_org: int = 5000) -> int:
    """Every org's rules (the schedule); one org's failure does not hold up the others."""
    read = 0
    for org in catalog_store.all_orgs():
        try:
            read += catch_up(org.org_id, max_events_per_org)
        except Exception:
            log.exception("campaign catch-up of org %s failed; the next run retries", org.org_id)
    return read
