"""Moves money: every operation is a conserved set of postings, committed at once.

`stage` adds an operation's writes to a transaction the caller owns (an order placement
commits its lock with the order row); `post` is the stand-alone, idempotent form.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Optional

from chalicelib.domain import ledger as rules
from chalicelib.domain.events import Event, org_stream, user_stream
from chalicelib.domain.ids import new_id
from chalicelib.domain.ledger import Balance, Posting, Subject
from chalicelib.services import idempotency
from chalicelib.store import accounts
from chalicelib.store import ledger as store
from chalicelib.store.ledger import Flow
from chalicelib.store.transaction import Transaction


def stage(tx: Transaction, entries: Iterable[Posting], *, reference: str,
          balances: Optional[dict[tuple[str, str], Balance]] = None) -> list[Flow]:
    entries = [entry for entry in entries if not entry.movement.is_empty()]
    rules.check_conserved(entry.movement for entry in entries)
    grouped: dict[tuple[str, str], list[Posting]] = defaultdict(list)
    for entry in entries:
        grouped[(entry.movement.account_id, entry.movement.token)].append(entry)
    if balances is None:
        balances = store.get_many(grouped.keys())
    flows: list[Flow] = []
    for key, group in grouped.items():
        before = balances.get(key) or store.get(*key)
        final, steps = rules.plan(before, group)
        store.stage_balance(tx, before, final)
        for entry, after in steps:
            flows.append(store.stage_flow(tx, after, entry.movement, new_id(), entry.subject, reference))
        _emit_balance_change(tx, final, sum((e.movement.total for e in group), Decimal(0)), reference)
    return flows


def _emit_balance_change(tx: Transaction, balance: Balance, change: Decimal, reference: str) -> None:
    owner = accounts.owner_of(balance.account_id)
    if owner is None or owner.uid is None:
        return
    payload = {
        "account_id": balance.account_id, "token": balance.token, "available": str(balance.available),
        "locked": str(balance.locked), "position": str(balance.position), "total": str(balance.total),
        "change": str(change), "reference": reference,
    }
    tx.emit(
        Event(user_stream(owner.uid), "balance", payload, owner.org_id, owner.uid),
        Event(org_stream(owner.org_id), "org.userBalanceChanged", {"uid": owner.uid, **payload},
              owner.org_id, owner.uid),
    )


def post(scope: str, operation_id: str, entries: list[Posting], *, reference: Optional[str] = None) -> dict:
    """One idempotent ledger operation: same id, same postings → the first result."""
    payload = {"postings": [(e.movement.account_id, e.movement.token, str(e.movement.available),
                             str(e.movement.locked), str(e.movement.position), int(e.subject)) for e in entries]}

    def build(tx: Transaction) -> dict:
        flows = stage(tx, entries, reference=reference or operation_id)
        return {"flow_ids": [str(flow.flow_id) for flow in flows]}

    return idempotency.run(scope, operation_id, payload, build)


def balance(account_id: str, token: str) -> Balance:
    return store.get(account_id, token)


def balances(account_id: str) -> list[Balance]:
    return store.for_account(account_id)


def flows(account_id: str, **query) -> list[Flow]:
    return store.flows(account_id, **query)


@dataclass(frozen=True)
class Reconciliation:
    token_totals: dict[str, Decimal]
    unbalanced_tokens: dict[str, Decimal]
    mismatched_balances: list[dict]

    @property
    def ok(self) -> bool:
        return not self.unbalanced_tokens and not self.mismatched_balances


def reconcile() -> Reconciliation:
    """Per token, all balances sum to zero; each balance equals the sum of its flows."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    from_flows: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for flow in store.scan_flows():
        parts = from_flows[(flow.account_id, flow.token)]
        parts[0] += flow.available_change
        parts[1] += flow.locked_change
        parts[2] += flow.position_change
    mismatched = []
    seen = set()
    for bal in store.scan_balances():
        totals[bal.token] += bal.total
        key = (bal.account_id, bal.token)
        seen.add(key)
        expected = from_flows.get(key, [Decimal(0)] * 3)
        if [bal.available, bal.locked, bal.position] != expected:
            mismatched.append({"account_id": bal.account_id, "token": bal.token,
                               "balance": [str(bal.available), str(bal.locked), str(bal.position)],
                               "flows": [str(x) for x in expected]})
    for key, parts in from_flows.items():
        if key not in seen and any(parts):
            mismatched.append({"account_id": key[0], "token": key[1], "balance": None,
                               "flows": [str(x) for x in parts]})
    unbalanced = {token: total for token, total in totals.items() if total != 0}
    return Reconciliation(dict(totals), unbalanced, mismatched)
