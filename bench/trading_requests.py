"""DynamoDB and SQS requests and items written per order placed, per fill and per cancel,
counted from the real calls (moto in-process, patched), at several book depths.

Each figure is split into the API path (place_order / cancel_order, including the
synchronous event relay) and the matcher (matching.process). Setup writes the resting
book directly through the store (orders, locks, depth levels) so a 10,000-order book
does not take minutes to build; only the operations below are counted.

    .venv/bin/python bench/trading_requests.py [--depths 10,1000,10000] [--write-doc]
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import os
import platform
import sys
from decimal import Decimal as D

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench",
                   "AWS_SECRET_ACCESS_KEY": "bench", "STAGE": "test"})
os.environ.pop("AWS_ENDPOINT_URL", None)

import infra.local.moto_patch  # noqa: E402,F401
from moto import mock_aws  # noqa: E402
from pynamodb.connection.base import Connection  # noqa: E402

from chalicelib.domain import ledger as money  # noqa: E402
from chalicelib.domain.orders import OrderRequest, OrderType, Side, TimeInForce, open_order  # noqa: E402
from chalicelib.gateways import aws  # noqa: E402
from chalicelib.services import ledger, matching, orders  # noqa: E402
from chalicelib.store import market, orders as order_store  # noqa: E402
from chalicelib.store.orders import StoredOrder  # noqa: E402
from chalicelib.store.transaction import Transaction  # noqa: E402
from infra.provision import provision  # noqa: E402
from tests.support.trading import EXCHANGE, SYMBOL, funded_trader, list_market, pending  # noqa: E402

READS = {"GetItem", "Query", "BatchGetItem", "Scan"}


class Counter:
    def __init__(self) -> None:
        self.calls: collections.Counter = collections.Counter()
        self.items_written = 0
        self.transactions: list[int] = []

    def dynamodb(self, operation: str, kwargs: dict) -> None:
        self.calls[operation] += 1
        if operation == "TransactWriteItems":
            size = len(kwargs.get("TransactItems", []))
            self.items_written += size
            self.transactions.append(size)
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            self.items_written += 1
        elif operation == "BatchWriteItem":
            self.items_written += sum(len(v) for v in kwargs.get("RequestItems", {}).values())

    def sqs(self, operation: str) -> None:
        self.calls[f"sqs.{operation}"] += 1

    def summary(self) -> dict:
        reads = sum(n for op, n in self.calls.items() if op in READS)
        return {"reads": reads, "tx": self.calls["TransactWriteItems"],
                "other_writes": sum(self.calls[op] for op in ("PutItem", "UpdateItem", "DeleteItem")),
                "items": self.items_written, "sqs": sum(n for op, n in self.calls.items() if op.startswith("sqs.")),
                "tx_sizes": self.transactions}


_active: list[Counter] = []


def install_hooks() -> None:
    def count_sqs(model, **_):  # a before-call handler must return None, or botocore uses it as the answer
        for counter in _active:
            counter.sqs(model.name)

    aws.client("sqs").meta.events.register("before-call.sqs.*", count_sqs)
    if getattr(Connection._make_api_call, "counted", False):
        return
    original = Connection._make_api_call

    def counted(self, operation_name, operation_kwargs, *args, **kwargs):
        for counter in _active:
            counter.dynamodb(operation_name, operation_kwargs)
        return original(self, operation_name, operation_kwargs, *args, **kwargs)

    counted.counted = True
    Connection._make_api_call = counted


@contextlib.contextmanager
def counting():
    counter = Counter()
    _active.append(counter)
    try:
        yield counter
    finally:
        _active.remove(counter)


def seed_book(maker: orders.Trader, depth: int) -> None:
    """`depth` resting sells at distinct prices 40000.00, 40000.01, ... written directly."""
    total = D(0)
    levels = []
    with order_store.OrderRecord.batch_write() as orders_batch, market.DepthRecord.batch_write() as depth_batch:
        for index in range(depth):
            price = D("40000") + D(index) / 100
            request = OrderRequest(SYMBOL, Side.SELL, OrderType.LIMIT, TimeInForce.GTC, price, D("0.001"))
            order = open_order(request, order_id=10 ** 9 + index, account_id=maker.account_id,
                               org_id=maker.org_id, user_id=maker.uid, created_at=1)
            order.priority = index + 1
            orders_batch.save(order_store.to_record(StoredOrder(order, EXCHANGE, D(0), None, 2, 1), resting=True))
            depth_batch.save(market.DepthRecord(f"DEPTH#{SYMBOL}", market._price_key(Side.SELL, price),
                                                price=price, qty=D("0.001")))
            total += D("0.001")
            levels.append(price)
    ledger.post("bench", f"lock-{depth}", money.postings(money.Subject.ORDER_LOCK,
                                                          money.lock(maker.account_id, "BTC", total)))
    state = market.MarketState(SYMBOL, 1, depth, 0, {}, None, 1)
    tx = Transaction()
    market.stage_market_state(tx, state, 0, on_changed=None)
    tx.commit()
    matching.drop_cache()


def measure(depth: int) -> dict:
    with mock_aws():
        provision(None, region="us-east-1")
        aws.reset()
        install_hooks()
        list_market()
        maker = funded_trader("o1", "maker", btc=str(depth), usdt="0")
        taker = funded_trader("o1", "taker", btc="100", usdt="100000000")
        seed_book(maker, depth)
        matching.process(SYMBOL, EXCHANGE, [])  # warm the matcher's cache (the rebuild is not counted)
        results = {}

        with counting() as api:
            placed = orders.place_order(taker, symbol=SYMBOL, side="BUY", order_type="LIMIT",
                                        quantity=D("0.001"), price=D("30000"))
        with counting() as matcher:
            matching.process(SYMBOL, EXCHANGE, pending())
        results["place (rests)"] = (api.summary(), matcher.summary())

        with counting() as api:
            orders.place_order(taker, symbol=SYMBOL, side="BUY", order_type="LIMIT", quantity=D("0.001"),
                               price=D("40000"))
        with counting() as matcher:
            matching.process(SYMBOL, EXCHANGE, pending())
        results["fill (1 maker)"] = (api.summary(), matcher.summary())

        with counting() as api:
            orders.cancel_order(taker, order_id=placed["order_id"])
        with counting() as matcher:
            matching.process(SYMBOL, EXCHANGE, pending())
        results["cancel"] = (api.summary(), matcher.summary())

        for index in range(10):
            orders.place_order(taker, symbol=SYMBOL, side="BUY", order_type="LIMIT", quantity=D("0.001"),
                               price=D("20000") + index)
        with counting() as matcher:
            matching.process(SYMBOL, EXCHANGE, pending())
        results["batch of 10 resting orders (matcher)"] = (None, matcher.summary())
        return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--depths", default="10,1000,10000")
    parser.add_argument("--write-doc", action="store_true")
    args = parser.parse_args()
    lines = [f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"moto in-process (patched)", "",
             "| book depth | operation | API: reads / tx (items) / sqs | matcher: reads / tx (items) / sqs |",
             "|---|---|---|---|"]
    for depth in [int(d) for d in args.depths.split(",")]:
        for name, (api, matcher) in measure(depth).items():
            def cell(s):
                if s is None:
                    return "-"
                sizes = "+".join(str(n) for n in s["tx_sizes"]) or "0"
                return f"{s['reads']} / {s['tx']} ({sizes}) / {s['sqs']}"
            lines.append(f"| {depth} | {name} | {cell(api)} | {cell(matcher)} |")
            print(lines[-1], flush=True)
    if args.write_doc:
        _write_section("\n".join(lines))


def _write_section(body: str) -> None:
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "BENCHMARKS.md")
    heading = "## Requests per trading operation"
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    if heading in text:
        start = text.index(heading)
        end = text.find("\n## ", start + 1)
        text = text[:start] + text[end + 1:] if end != -1 else text[:start]
    text = text.rstrip() + f"\n\n{heading}\n\n`bench/trading_requests.py`. " \
        "reads = GetItem/Query/BatchGetItem; tx = TransactWriteItems with the item count of each.\n\n" + body + "\n"
    open(path, "w").write(text)


if __name__ == "__main__":
    main()
