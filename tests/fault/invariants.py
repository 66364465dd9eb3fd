"""What must hold after any run of operations, kills and duplicates, once drained.

Each check returns a list of violations (empty: it holds), read from the table through
the store modules, never from the harness's own bookkeeping except for which operation
ids and which custody requests the harness used.
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from decimal import Decimal as D
from typing import Callable

from chalicelib.domain.custody import WithdrawalState
from chalicelib.domain.events import org_stream, symbol_stream, user_stream
from chalicelib.domain.orders import lock_asset_is_base, locked_remainder
from chalicelib.gateways import custody as gateway
from chalicelib.services import ledger
from chalicelib.store import custody as custody_store
from chalicelib.store import events as event_store
from chalicelib.store import ledger as ledger_store
from chalicelib.store import market
from chalicelib.store import orders as order_store
from tests.fault import world

PAGE = 1000


class Snapshot:
    """The final state, read once."""

    def __init__(self, users: list[world.User]) -> None:
        self.users = users
        self.orders = {u.trader.account_id: list(order_store.of_account(u.trader.account_id, limit=PAGE))
                       for u in users}
        self.trades = {}
        for user in users:
            for trade in market.trades_of_account(user.trader.account_id, limit=10 ** 6):
                self.trades[(trade.symbol, trade.trade_id)] = trade
        self.withdrawals = {u.holder.account_id: list(custody_store.withdrawals_of_account(u.holder.account_id,
                                                                                          limit=None))
                            for u in users}
        self.deposits = {u.holder.account_id: list(custody_store.deposits_of_account(u.holder.account_id,
                                                                                    limit=None))
                         for u in users}
        self.flows = list(ledger_store.scan_flows())
        self.streams = {}
        for head in event_store.StreamHead.scan(event_store.StreamHead.sk == "HEAD"):
            stream = head.pk[len("STREAM#"):]
            self.streams[stream] = (head.seq, _read_all(stream))

    def events(self, stream: str, kind: str) -> list:
        return [e for e in self.streams.get(stream, (0, []))[1] if e.type == kind]


def _read_all(stream: str) -> list:
    found, after = [], 0
    while True:
        page = event_store.read(stream, after, PAGE)
        found += page
        if len(page) < PAGE:
            return found
        after = page[-1].id


# --- money ------------------------------------------------------------------------------------------

def ledger_zero_sum(s: Snapshot) -> list[str]:
    """Per token, all balances (system accounts included) sum to zero; each balance equals its flows."""
    report = ledger.reconcile()
    problems = [f"token {t} sums to {v}" for t, v in report.unbalanced_tokens.items()]
    return problems + [f"balance differs from its flows: {m}" for m in report.mismatched_balances[:20]]


def locks_back_open_orders_and_withdrawals(s: Snapshot) -> list[str]:
    problems = []
    for user in s.users:
        account = user.trader.account_id
        expected: dict[str, D] = defaultdict(D)
        for stored in s.orders[account]:
            order = stored.order
            if order.is_open:
                asset = order.symbol[:-4] if lock_asset_is_base(order) else "USDT"
                expected[asset] += locked_remainder(order)
        for w in s.withdrawals[account]:
            if not w.state.is_final and not w.internal:
                expected[w.token] += w.total
        for token in world.TOKENS:
            locked = ledger.balance(account, token).locked
            if locked != expected[token]:
                problems.append(f"{account} {token}: locked {locked}, open orders and withdrawals hold {expected[token]}")
    return problems


# --- orders -------------------------------------------------------------------------------------------

def fills_equal_executed_quantity(s: Snapshot) -> list[str]:
    by_order: dict[int, list] = defaultdict(list)
    for trade in s.trades.values():
        by_order[trade.buyer_order_id].append(trade)
        by_order[trade.seller_order_id].append(trade)
    problems = []
    for stored_orders in s.orders.values():
        for stored in stored_orders:
            order = stored.order
            own = by_order.get(order.order_id, [])
            qty, quote = sum((t.qty for t in own), D(0)), sum((t.quote_qty for t in own), D(0))
            if (qty, quote) != (order.executed_qty, order.executed_quote):
                problems.append(f"order {order.order_id} ({order.status.value}): fills {qty}/{quote}, "
                                f"executed {order.executed_qty}/{order.executed_quote}")
            if order.status.value == "FILLED" and order.quote_amount is None and order.executed_qty != order.quantity:
                problems.append(f"order {order.order_id} FILLED with {order.executed_qty} of {order.quantity}")
            if order.executed_qty > order.quantity and order.quote_amount is None:
                problems.append(f"order {order.order_id} overfilled: {order.executed_qty} > {order.quantity}")
    return problems


# --- events -------------------------------------------------------------------------------------------

def streams_are_gapless(s: Snapshot) -> list[str]:
    problems = []
    for stream, (head, stored) in s.streams.items():
        ids = [e.id for e in stored]
        if ids != list(range(1, head + 1)):
            missing = sorted(set(range(1, head + 1)) - set(ids))[:10]
            problems.append(f"stream {stream}: head {head}, {len(ids)} events, missing {missing}")
    left = list(event_store.pending_outbox(int(time.time() * 1000) + 60_000))
    if left:
        problems.append(f"{len(left)} outbox items were never relayed")
    return problems


def every_effect_has_its_events(s: Snapshot) -> list[str]:
    problems = []
    # every trade: once in its symbol's stream, once to each side's org
    public = Counter()
    for m in world.MARKETS:
        for event in s.events(symbol_stream(m.symbol), "market"):
            public.update((m.symbol, int(t["id"])) for t in event.payload["trades"])
    org_notices = Counter()
    for org_id in world.ORGS:
        for event in s.events(org_stream(org_id), "org.tradeMatch"):
            org_notices[(event.payload["symbol"], int(event.payload["trade_id"]), event.payload["is_buyer"])] += 1
    for (symbol, trade_id) in s.trades:
        if public[(symbol, trade_id)] != 1:
            problems.append(f"trade {symbol}#{trade_id} is in the symbol stream {public[(symbol, trade_id)]} times")
        for is_buyer in (True, False):
            if org_notices[(symbol, trade_id, is_buyer)] != 1:
                problems.append(f"trade {symbol}#{trade_id} {'buyer' if is_buyer else 'seller'} notice seen "
                                f"{org_notices[(symbol, trade_id, is_buyer)]} times")
    extra = set(public) - set(s.trades)
    if extra:
        problems.append(f"symbol streams name trades that do not exist: {sorted(extra)[:5]}")
    for user in s.users:
        stream = user_stream(user.holder.uid)
        # every order's final state
        seen = {(e.payload["order_id"], e.payload["status"], e.payload["executed_qty"])
                for e in s.events(stream, "order")}
        for stored in s.orders[user.trader.account_id]:
            o = stored.order
            if (str(o.order_id), o.status.value, str(o.executed_qty)) not in seen:
                problems.append(f"order {o.order_id}: no event shows its final state {o.status.value} {o.executed_qty}")
        # every withdrawal's and deposit's final state
        states = {(e.payload["withdrawal_id"], e.payload["state"]) for e in s.events(stream, "withdrawal")}
        for w in s.withdrawals[user.holder.account_id]:
            if (str(w.withdrawal_id), w.state.value) not in states:
                problems.append(f"withdrawal {w.withdrawal_id}: no event shows its state {w.state.value}")
        states = {(e.payload["deposit_id"], e.payload["state"]) for e in s.events(stream, "deposit")}
        for d in s.deposits[user.holder.account_id]:
            if (str(d.deposit_id), d.state.value) not in states:
                problems.append(f"deposit {d.deposit_id}: no event shows its state {d.state.value}")
        # every balance change: an event for each (account, token, reference), none twice
        balance_events = [e.payload for e in s.events(stream, "balance")]
        keys = Counter((p["account_id"], p["token"], p["reference"], p["available"], p["locked"], p["position"])
                       for p in balance_events)
        twice = [k for k, n in keys.items() if n > 1]
        if twice:
            problems.append(f"user {user.holder.uid}: balance events appended twice: {twice[:3]}")
        references = {(p["account_id"], p["token"], p["reference"]) for p in balance_events}
        for flow in s.flows:
            if flow.account_id == user.holder.account_id and (flow.account_id, flow.token, flow.reference) not in references:
                problems.append(f"flow {flow.flow_id} ({flow.reference}, {flow.token}) has no balance event")
    return problems


# --- idempotency ------------------------------------------------------------------------------------------

def each_operation_had_one_effect(s: Snapshot) -> list[str]:
    problems = []
    for account, stored_orders in s.orders.items():
        for cid, n in Counter(o.order.client_order_id for o in stored_orders).items():
            if n > 1:
                problems.append(f"client order id {cid} of {account} made {n} orders")
    for account, ws in s.withdrawals.items():
        for cid, n in Counter(w.client_order_id for w in ws).items():
            if n > 1:
                problems.append(f"withdrawal id {cid} of {account} made {n} withdrawals")
    by_reference: dict[tuple[str, str], list] = defaultdict(list)
    for flow in s.flows:
        by_reference[(flow.account_id, flow.reference)].append(flow)
    for account, ws in s.withdrawals.items():
        for w in ws:
            flows = by_reference.get((account, f"withdrawal:{w.withdrawal_id}"), [])
            available = sum((f.available_change for f in flows), D(0))
            locked = sum((f.locked_change for f in flows), D(0))
            if w.state is WithdrawalState.SUCCESS:
                expected = (-w.total, D(0))
            elif w.state.is_final:
                expected = (D(0), D(0))
            else:
                expected = (-w.total, w.total)
            if (available, locked) != expected:
                problems.append(f"withdrawal {w.withdrawal_id} {w.state.value}: moved {available}/{locked}, "
                                f"expected {expected[0]}/{expected[1]}")
    for account, ds in s.deposits.items():
        for d in ds:
            reference = (f"withdrawal:{d.tx_hash.split(':', 1)[1]}" if d.internal else f"deposit:{d.deposit_id}")
            credited = sum((f.available_change for f in by_reference.get((account, reference), [])), D(0))
            expected = d.amount if d.state.value == "CREDITED" else D(0)
            if credited != expected:
                problems.append(f"deposit {d.deposit_id} {d.state.value}: credited {credited}, expected {expected}")
    for account, stored_orders in s.orders.items():
        for stored in stored_orders:
            o = stored.order
            for reference in (f"order:{o.order_id}", f"cancel:{o.order_id}"):
                flows = by_reference.get((account, reference), [])
                if len({f.subject for f in flows}) != len(flows):
                    problems.append(f"{reference} posted {len(flows)} flows")
    broadcast = gateway.simulator().broadcasts
    for ws in s.withdrawals.values():
        for w in ws:
            if str(w.withdrawal_id) in broadcast and w.state in (WithdrawalState.CANCELED, WithdrawalState.REJECTED):
                problems.append(f"withdrawal {w.withdrawal_id} was sent to custody and {w.state.value}")
    return problems


# --- nothing stuck ----------------------------------------------------------------------------------------

def nothing_is_stuck(s: Snapshot) -> list[str]:
    problems = []
    for m in world.MARKETS:
        left = list(order_store.WorkRecord.query(order_store.work_key(m.symbol)))
        if left:
            problems.append(f"{m.symbol}: {len(left)} matcher work items left "
                            f"({sum(1 for r in left if r.dead)} dead-lettered)")
    for ws in s.withdrawals.values():
        for w in ws:
            if w.state in (WithdrawalState.QUEUED, WithdrawalState.SENDING):
                problems.append(f"withdrawal {w.withdrawal_id} still {w.state.value}")
    for stored_orders in s.orders.values():
        for stored in stored_orders:
            o = stored.order
            if o.is_open and (o.type.value == "MARKET" or o.time_in_force.value in ("IOC", "FOK")):
                problems.append(f"order {o.order_id} {o.type.value}/{o.time_in_force.value} is still open")
    bids_asks = [market.depth(m.symbol, 1) for m in world.MARKETS]
    for m, (bids, asks) in zip(world.MARKETS, bids_asks):
        if bids and asks and bids[0][0] >= asks[0][0]:
            problems.append(f"{m.symbol}: the book is crossed ({bids[0][0]} >= {asks[0][0]})")
    return problems


CHECKS: dict[str, Callable[[Snapshot], list[str]]] = {
    "every token zero-sums (system accounts included), balances equal their flows": ledger_zero_sum,
    "locks equal open orders plus pending withdrawals": locks_back_open_orders_and_withdrawals,
    "every order's fills equal its executed quantity": fills_equal_executed_quantity,
    "event ids per stream are gapless, no outbox left": streams_are_gapless,
    "every effect's events are present, none twice": every_effect_has_its_events,
    "every idempotent operation had one effect": each_operation_had_one_effect,
    "nothing stuck: no work left, no dead letters, book not crossed": nothing_is_stuck,
}


def check(users: list[world.User]) -> dict[str, list[str]]:
    snapshot = Snapshot(users)
    return {name: check_one(snapshot) for name, check_one in CHECKS.items()}
