"""Throughput of the matching core (book + match + apply) on a mixed workload.

    .venv/bin/python bench/matching_core.py [--ops 200000] [--seed 7] [--repeat 3]
                                            [--spread 200 | --spread 10,50,200,1000] [--depth 5000]

The workload is generated once per spread, with a fixed seed, by replaying it
through our own core (untimed), so that every cancel names an order that is
still resting and every MARKET BUY carries the quote amount that buys exactly
the base quantity the peer is asked for. Both engines then see the same book at
every step and do the same matching work; the run checks that they end with
the same resting orders and the same traded quantity.

Mix: 55% limits resting 1..SPREAD ticks off the mid, 25% cancels of a random
resting order (more once the book holds DEPTH orders, so its size stays put),
14% limits crossing up to 10 ticks, 6% market orders; the mid walks randomly.
Every order has its own account, so self-trade prevention, which the peer does
not have, never changes an outcome; our core still runs its check, charges both
fees of every fill and tracks every lock.

The peer is `lightmatchingengine` (PyPI, pure Python, no dependencies). It is
skipped with a message when it is not installed. Times are the best of
`--repeat` runs per engine, the engines interleaved; results print as a
Markdown table (docs/BENCHMARKS.md, "Matching core").
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from chalicelib.domain.book import OrderBook  # noqa: E402
from chalicelib.domain.fees import FeeRates, FeeSchedule  # noqa: E402
from chalicelib.domain.filters import SymbolRules, validate_new_order  # noqa: E402
from chalicelib.domain.matching import match  # noqa: E402
from chalicelib.domain.orders import Order, OrderType, Side, TimeInForce, open_order  # noqa: E402

SYMBOL = "BTCUSDT"
TICK = Decimal("0.01")
STEP = Decimal("0.001")
RULES = SymbolRules(
    symbol=SYMBOL, base_asset="BTC", quote_asset="USDT",
    tick_size=TICK, step_size=STEP, min_price=TICK, max_price=Decimal("1000000"),
    min_qty=STEP, max_qty=Decimal("100000"), min_notional=Decimal(0), market_quote_step=Decimal("0.00001"),
    base_precision=Decimal("0.00000001"), quote_precision=Decimal("0.00000001"),
)
FEES = FeeSchedule(FeeRates(Decimal("0.001"), Decimal("0.002")))

PLACE, CANCEL = 0, 1


# --- workload --------------------------------------------------------------------

def generate(ops: int, seed: int, spread: int = 200, depth: int = 5000) -> list[tuple]:
    """(PLACE, order_id, side, price | None, qty, quote_amount | None) or (CANCEL, order_id)."""
    rng = random.Random(seed)
    book = OrderBook(SYMBOL)
    resting: list[int] = []  # ids of resting orders, for O(1) random picks
    where: dict[int, int] = {}
    mid = 10_000_00  # in ticks: 10000.00
    stream: list[tuple] = []
    next_id = 0

    def forget(order_id: int) -> None:
        index = where.pop(order_id)
        last = resting.pop()
        if last != order_id:
            resting[index] = last
            where[last] = index

    for _ in range(ops):
        roll = rng.random()
        mid += rng.choice((-1, 0, 1))
        # Cancel more once the book holds `depth` orders, so that it stays near that size.
        if resting and (roll < 0.25 or (len(resting) > depth and rng.random() < 0.5)):
            order_id = resting[rng.randrange(len(resting))]
            book.cancel(order_id)
            forget(order_id)
            stream.append((CANCEL, order_id))
            continue
        next_id += 1
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        qty = rng.randint(1, 2000) * STEP
        sign = -1 if side is Side.BUY else 1
        quote_amount = None
        if roll < 0.80:
            price = (mid + sign * rng.randint(1, spread)) * TICK
        elif roll < 0.94:
            price = (mid - sign * rng.randint(0, 10)) * TICK
            qty *= 3
        else:
            price = None
            if side is Side.BUY:
                quote_amount = _cost_of_buying(book, qty)
        order = _order(next_id, side, price, qty, quote_amount)
        result = match(book, order, RULES, FEES)
        book.apply(result)
        for update in result.maker_updates:
            if update.status.is_final:
                forget(update.order_id)
        if result.rests:
            resting.append(next_id)
            where[next_id] = len(resting) - 1
        stream.append((PLACE, next_id, side, price, qty, quote_amount))
    return stream


def _cost_of_buying(book: OrderBook, qty: Decimal) -> Decimal:
    """The quote amount that buys exactly `qty` from the asks (or all of them)."""
    cost = Decimal(0)
    for level in book.asks.best_first():
        take = min(qty, level.total_qty)
        cost += take * level.price
        qty -= take
        if not qty:
            return cost
    return cost + Decimal(1)  # the book runs out either way; leave unspendable change


def _order(order_id, side, price, qty, quote_amount) -> Order:
    if price is None:
        return Order(order_id, "acct", "org", "user", SYMBOL, side, OrderType.MARKET, TimeInForce.IOC, None,
                     Decimal(0) if quote_amount is not None else qty, quote_amount,
                     self_trade_key=str(order_id))
    return Order(order_id, "acct", "org", "user", SYMBOL, side, OrderType.LIMIT, TimeInForce.GTC, price, qty,
                 self_trade_key=str(order_id))


# --- engines ---------------------------------------------------------------------

def run_ours(stream: list[tuple]) -> tuple[float, int, Decimal]:
    book = OrderBook(SYMBOL)
    traded = Decimal(0)
    started = time.perf_counter()
    for op in stream:
        if op[0] == CANCEL:
            book.cancel(op[1])
            continue
        _, order_id, side, price, qty, quote_amount = op
        result = match(book, _order(order_id, side, price, qty, quote_amount), RULES, FEES)
        book.apply(result)
        traded += result.taker_update.filled_qty
    return time.perf_counter() - started, len(book), traded


def run_ours_with_validation(stream: list[tuple]) -> tuple[float, int, Decimal]:
    """The same, plus `validate_new_order` + `open_order` as the placing service would do."""
    book = OrderBook(SYMBOL)
    traded = Decimal(0)
    started = time.perf_counter()
    for op in stream:
        if op[0] == CANCEL:
            book.cancel(op[1])
            continue
        _, order_id, side, price, qty, quote_amount = op
        request = validate_new_order(
            RULES, side=side, order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
            quantity=quote_amount if quote_amount is not None else qty, price=price,
            time_in_force=TimeInForce.IOC if price is None else TimeInForce.GTC,
        )
        order = open_order(request, order_id=order_id, account_id="acct", org_id="org", user_id="user",
                           self_trade_key=str(order_id))
        result = match(book, order, RULES, FEES)
        book.apply(result)
        traded += result.taker_update.filled_qty
    return time.perf_counter() - started, len(book), traded


def load_peer():
    try:
        from lightmatchingengine.lightmatchingengine import LightMatchingEngine
        from lightmatchingengine.lightmatchingengine import Side as PeerSide
    except ImportError:
        return None
    from importlib.metadata import version

    def run_peer(stream: list[tuple]) -> tuple[float, int, Decimal]:
        engine = LightMatchingEngine()
        buy, sell, zero = PeerSide.BUY, PeerSide.SELL, Decimal(0)
        traded = Decimal(0)
        started = time.perf_counter()
        for op in stream:
            if op[0] == CANCEL:
                engine.cancel_order(op[1], SYMBOL)
                continue
            _, _, side, price, qty, _ = op
            order, _ = engine.add_order(SYMBOL, zero if price is None else price, qty,
                                        buy if side is Side.BUY else sell)
            traded += order.cum_qty
            if price is None and order.leaves_qty:
                # The peer rests a market remainder at price 0; a market order's remainder is canceled.
                engine.cancel_order(order.order_id, SYMBOL)
        elapsed = time.perf_counter() - started
        book = engine.order_books[SYMBOL]
        resting = sum(len(level) for side in (book.bids, book.asks) for level in side.values())
        return elapsed, resting, traded

    return f"lightmatchingengine {version('lightmatchingengine')}", run_peer


# --- report ----------------------------------------------------------------------

def machine_info() -> str:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs (nproc), {cpu}, Python {platform.python_version()} ({platform.python_implementation()})"


def measure(engines, stream, repeat):
    """Best of `repeat` runs per engine, the engines interleaved so that load from
    anything else on the machine falls on all of them alike."""
    best = {}
    for _ in range(repeat):
        for name, run in engines:
            outcome = run(stream)
            if name not in best or outcome[0] < best[name][0]:
                best[name] = outcome
    return best


def book_levels(stream: list[tuple]) -> int:
    book = OrderBook(SYMBOL)
    for op in stream:
        if op[0] == CANCEL:
            book.cancel(op[1])
        else:
            book.apply(match(book, _order(*op[1:]), RULES, FEES))
    return len(book.bids) + len(book.asks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--spread", default="200",
                        help="resting orders rest 1..SPREAD ticks off the mid; a comma list runs a sweep")
    parser.add_argument("--depth", type=int, default=5000, help="resting orders the book hovers around")
    args = parser.parse_args()

    engines = [("ours: match + apply", run_ours), ("ours: validate + match + apply", run_ours_with_validation)]
    peer = load_peer()
    if peer is None:
        print("peer skipped: lightmatchingengine is not installed "
              "(pip install lightmatchingengine==2019.1.4)\n")
    else:
        engines.append(peer)
    print(f"machine: {machine_info()}")
    print(f"run at: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"load average before: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"workload: {args.ops} ops, seed {args.seed}, book of about {args.depth} orders, "
          f"best of {args.repeat} interleaved runs\n")
    print("| spread (ticks) | resting orders / price levels at end | engine | seconds | ops/s | vs peer |")
    print("|---:|---:|---|---:|---:|---:|")
    for spread in (int(value) for value in args.spread.split(",")):
        stream = generate(args.ops, args.seed, spread, args.depth)
        results = measure(engines, stream, args.repeat)
        levels = book_levels(stream)
        peer_seconds = results[peer[0]][0] if peer else None
        for name, (elapsed, resting, traded) in results.items():
            ratio = f"{peer_seconds / elapsed:.2f}x" if peer_seconds else "-"
            print(f"| {spread} | {resting} / {levels} | {name} | {elapsed:.2f} | {args.ops / elapsed:,.0f} | {ratio} |")
        if peer is not None:
            ours, theirs = results[engines[0][0]], results[peer[0]]
            if (ours[1], ours[2]) != (theirs[1], theirs[2]):
                print(f"WARNING: at spread {spread} the engines ended in different states (not like for like)")
    kinds = {"cancel": 0, "limit": 0, "market": 0}
    for op in generate(args.ops, args.seed, int(args.spread.split(",")[0]), args.depth):
        kinds["cancel" if op[0] == CANCEL else "market" if op[3] is None else "limit"] += 1
    print(f"\nmix (first spread): {kinds['limit']} limit, {kinds['market']} market, {kinds['cancel']} cancel")
    print(f"load average after: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
