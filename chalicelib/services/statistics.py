"""Org statistics by day, hour and minute, counted from the org's own event stream.

Everything the Org API reports is an org.* event already (whichever family caused it),
so one projector counts them: it reads `org:<org_id>` after its cursor and adds each
event to the buckets of its three granularities, exactly once (see
`store.statistics.commit_batch`). It runs before every statistics read (bounded) and on
a schedule (`catch_up_all`), which must run well within the events' retention (30 days).

* user: registrations, logins, KYC submissions, passes and rejections.
* token: deposits credited (count, amount), withdrawals that succeeded (count, amount),
  net balance change of users, and the levels at the end of each bucket: users holding
  the token and their total holdings.
* symbol: orders placed and cancelled (count, quantity; counted from org.placeOrder and
  org.cancelOrder, so only while the org has those notifications on), executions of the
  org's users (count, base quantity, quote amount; a trade between two users of the org
  counts once per side).

Buckets are UTC: a minute, an hour, a day; `time` is the bucket start in ms.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Iterable, Optional

from chalicelib.domain import money
from chalicelib.domain.errors import ConcurrentUpdate, InvalidParameter
from chalicelib.domain.events import StoredEvent, org_stream
from chalicelib.services import catalog, events
from chalicelib.store import catalog as catalog_store
from chalicelib.store import statistics as store
from chalicelib.store.statistics import BucketKey

GRANULARITIES = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000}
# Longest range per granularity (the real system limits time-range queries to 12 h).
MAX_RANGE_MS = {"minute": 12 * 3_600_000, "hour": 31 * 86_400_000, "day": 366 * 86_400_000}
BATCH_BUDGET = 90
READ_CATCH_UP_EVENTS = 2000
USER, TOKEN, SYMBOL = "user", "token", "symbol"
FAMILY_METRICS = {
    USER: ("register_count", "login_count", "kyc_submit_count", "kyc_pass_count", "kyc_reject_count"),
    TOKEN: ("deposit_count", "deposit_amount", "withdraw_count", "withdraw_amount", "balance_change"),
    SYMBOL: ("order_count", "order_quantity", "cancel_count", "cancel_quantity", "trade_count", "trade_quantity",
             "trade_amount"),
}
ZERO = Decimal(0)


def _dec(value) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else ZERO
    except Exception:
        return ZERO


def _counts(event: StoredEvent, levels: dict[str, tuple[Decimal, Decimal]]) \
        -> tuple[list[tuple[str, str, str, Decimal]], Optional[str]]:
    """(family, scope, metric, delta) contributions of one event, and the token whose
    level it changed (the level itself is updated in `levels`)."""
    p, kind = event.payload, event.type
    if kind in ("org.userRegistered", "org.userRegister"):
        return [(USER, "all", "register_count", Decimal(1))], None
    if kind == "org.userLogin":
        return [(USER, "all", "login_count", Decimal(1))], None
    if kind == "org.userUpdateKYCInfo":
        return [(USER, "all", "kyc_submit_count", Decimal(1))], None
    if kind == "org.userUpdateKYCResult":
        return [(USER, "all", "kyc_pass_count" if p.get("passed") else "kyc_reject_count", Decimal(1))], None
    if kind == "org.userDepositNotice" and p.get("token"):
        return [(TOKEN, p["token"], "deposit_count", Decimal(1)),
                (TOKEN, p["token"], "deposit_amount", _dec(p.get("amount")))], None
    if kind in ("org.userWithdraw", "org.userWithdrawNotice") and p.get("state") == "SUCCESS" and p.get("token"):
        return [(TOKEN, p["token"], "withdraw_count", Decimal(1)),
                (TOKEN, p["token"], "withdraw_amount", _dec(p.get("amount")))], None
    if kind == "org.userBalanceChanged" and p.get("token"):
        token, total, change = p["token"], _dec(p.get("total")), _dec(p.get("change"))
        holders, holdings = levels.get(token, (ZERO, ZERO))
        holders += (total > 0) - (total - change > 0)
        levels[token] = (holders, holdings + change)
        return [(TOKEN, token, "balance_change", change)], token
    if kind == "org.placeOrder" and p.get("symbol"):
        return [(SYMBOL, p["symbol"], "order_count", Decimal(1)),
                (SYMBOL, p["symbol"], "order_quantity", _dec(p.get("quantity")))], None
    if kind == "org.cancelOrder" and p.get("symbol"):
        return [(SYMBOL, p["symbol"], "cancel_count", Decimal(1)),
                (SYMBOL, p["symbol"], "cancel_quantity", _dec(p.get("quantity")) - _dec(p.get("executed_qty")))], None
    if kind == "org.tradeMatch" and p.get("symbol"):
        return [(SYMBOL, p["symbol"], "trade_count", Decimal(1)),
                (SYMBOL, p["symbol"], "trade_quantity", _dec(p.get("qty"))),
                (SYMBOL, p["symbol"], "trade_amount", _dec(p.get("quote_qty")))], None
    return [], None


def _bucket(time_ms: int, granularity: str) -> int:
    size = GRANULARITIES[granularity]
    return time_ms - time_ms % size


def catch_up(org_id: str, max_events: int = 10_000) -> int:
    """Counts the org's events not yet counted (at most `max_events`); how many it counted."""
    stream = org_stream(org_id)
    counted = 0
    while counted < max_events:
        cursor = store.cursor(org_id)
        batch = events.replay(stream, cursor, 200)
        if not batch:
            break
        levels = store.levels(org_id)
        changed: dict[str, tuple[Decimal, Decimal]] = {}
        counters: dict[BucketKey, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        gauges: dict[BucketKey, dict[str, Decimal]] = {}
        last = cursor
        for event in batch:
            trial_levels = dict(levels)
            contributions, token = _counts(event, trial_levels)
            keys = {BucketKey(family, scope, g, _bucket(event.time, g))
                    for family, scope, _, _ in contributions for g in GRANULARITIES}
            new_items = len(keys - set(counters) - set(gauges)) + (1 if token and token not in changed else 0)
            if last != cursor and len(set(counters) | set(gauges)) + len(changed) + new_items > BATCH_BUDGET:
                break
            levels = trial_levels
            for family, scope, metric, delta in contributions:
                for g in GRANULARITIES:
                    counters[BucketKey(family, scope, g, _bucket(event.time, g))][metric] += delta
            if token:
                changed[token] = levels[token]
                for g in GRANULARITIES:
                    gauges[BucketKey(TOKEN, token, g, _bucket(event.time, g))] = {
                        "holders": levels[token][0], "holdings": levels[token][1]}
            last = event.id
        try:
            store.commit_batch(org_id, cursor, last, counters, gauges, changed)
        except ConcurrentUpdate:
            continue  # another projector counted these; read the cursor again
        counted += sum(1 for e in batch if e.id <= last)
    return counted


def catch_up_all(max_events_per_org: int = 10_000) -> int:
    return sum(catch_up(org.org_id, max_events_per_org) for org in catalog_store.all_orgs())


# --- reads ------------------------------------------------------------------------------------------

def _range(granularity: str, start_ms: Optional[int], end_ms: Optional[int], now_ms: int) -> tuple[int, int]:
    if granularity not in GRANULARITIES:
        raise InvalidParameter("granularity", "Granularity must be day, hour or minute")
    size = GRANULARITIES[granularity]
    end = _bucket(end_ms if end_ms is not None else now_ms, granularity)
    start = _bucket(start_ms, granularity) if start_ms is not None else end - 29 * size
    if start > end:
        raise InvalidParameter("start_time", "start_time is after end_time")
    if end - start > MAX_RANGE_MS[granularity]:
        raise InvalidParameter("start_time", f"A {granularity} series covers at most "
                                             f"{MAX_RANGE_MS[granularity] // size} buckets")
    return start, end


def _series(org_id: str, family: str, scope: str, granularity: str, start: int, end: int) -> list[dict]:
    stored = store.buckets(org_id, family, scope, granularity, start, end)
    carried = store.last_gauges_before(org_id, family, scope, granularity, start) if family == TOKEN else None
    gauges = carried or {"holders": ZERO, "holdings": ZERO}
    rows = []
    for bucket in range(start, end + 1, GRANULARITIES[granularity]):
        found = stored.get(bucket, {})
        row = {"time": bucket}
        for metric in FAMILY_METRICS[family]:
            row[metric] = money.text(found.get(metric, ZERO))
        if family == TOKEN:
            if "holders" in found:
                gauges = {"holders": found["holders"], "holdings": found["holdings"]}
            row["holders"] = str(int(gauges["holders"]))
            row["holdings"] = money.text(gauges["holdings"])
        rows.append(row)
    return rows


def user_statistics(org_id: str, *, granularity: str, start_ms: Optional[int] = None, end_ms: Optional[int] = None,
                    now_ms: int) -> list[dict]:
    start, end = _range(granularity, start_ms, end_ms, now_ms)
    catch_up(org_id, READ_CATCH_UP_EVENTS)
    return _series(org_id, USER, "all", granularity, start, end)


def _scoped(org_id: str, family: str, scopes: Iterable[str], field: str, granularity: str,
            start_ms: Optional[int], end_ms: Optional[int], now_ms: int) -> list[dict]:
    start, end = _range(granularity, start_ms, end_ms, now_ms)
    catch_up(org_id, READ_CATCH_UP_EVENTS)
    return [{field: scope, **row} for scope in scopes
            for row in _series(org_id, family, scope, granularity, start, end)]


def token_statistics(org_id: str, *, token: Optional[str], granularity: str, start_ms: Optional[int] = None,
                     end_ms: Optional[int] = None, now_ms: int) -> list[dict]:
    org = catalog.org(org_id)
    if token:
        org.token(token)
    tokens = [token] if token else sorted(org.tokens)
    return _scoped(org_id, TOKEN, tokens, "token_id", granularity, start_ms, end_ms, now_ms)


def symbol_statistics(org_id: str, *, symbol: Optional[str], granularity: str, start_ms: Optional[int] = None,
                      end_ms: Optional[int] = None, now_ms: int) -> list[dict]:
    org = catalog.org(org_id)
    if symbol:
        org.symbol(symbol)
    symbols = [symbol] if symbol else sorted(org.symbols)
    return _scoped(org_id, SYMBOL, symbols, "symbol_id", granularity, start_ms, end_ms, now_ms)
