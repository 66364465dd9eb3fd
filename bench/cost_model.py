"""AWS requests and dollars per operation, counted from the real app in-process (moto).

Each operation goes through the app as production runs it: REST requests through
chalice.test.Client (User OpenAPI, signed like the bhex SDK; custody callbacks signed like
custody), then the SQS-triggered handlers (`matcher`, `custody`) invoked through the same
client with the records the queue held. Botocore event hooks on every client the app uses
(the pynamodb connections and the cached boto3 clients, `tests/fault/aws_hooks.py`) count:

- DynamoDB calls and request units, by AWS's rules: a write is ceil(item KB) WRU for the
  larger of the item before and after (x2 in TransactWriteItems, condition checks
  included), plus one write per global secondary index the item is or was in (x2 when
  its index key changed); a read is ceil(size / 4 KB) RRU, x0.5 when eventually
  consistent, summed per query over the items returned (at least one unit). Item sizes
  come from moto's stored items and the returned items.
- SQS requests: the app's SendMessage, plus per Lambda batch the ReceiveMessage and
  DeleteMessageBatch the event source mapping makes (idle polling is a fixed cost per
  queue, not per order, and is left out).
- Lambda invocations and their duration (wall time in process; the time spent inside
  moto is replaced by a modeled in-region latency per request for the "modeled" column).
- API Gateway REST requests, and WebSocket messages (one per frame pushed to a socket).

    .venv/bin/python bench/cost_model.py [--write-doc]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import tests.conftest  # noqa: E402,F401  (fake credentials, test stage, resource names)
from chalice.test import Client  # noqa: E402
from moto.dynamodb.models import dynamodb_backends  # noqa: E402
from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: E402

from chalicelib import settings  # noqa: E402
from chalicelib.domain.custody import Holder  # noqa: E402
from chalicelib.domain.events import Event, symbol_stream, user_stream  # noqa: E402
from chalicelib.gateways import aws, kms, push  # noqa: E402
from chalicelib.gateways import custody as gateway  # noqa: E402
from chalicelib.services import api_keys, catalog, deposits, events, matching, withdrawals  # noqa: E402
from chalicelib.store import events as event_store  # noqa: E402
from infra.local.seed import seed_demo  # noqa: E402
from tests.fault import aws_hooks  # noqa: E402
from tests.functional.test_openapi_support import Bhex, openapi_app  # noqa: E402
from tests.support.aws import moto_resources  # noqa: E402

PRICES = {  # us-east-1 public on-demand list prices, as of the run date printed with the table
    "dynamodb_wru": 1.25, "dynamodb_rru": 0.25,  # $ per million request units
    "sqs_fifo": 0.50,  # $ per million requests (64 KB chunks)
    "lambda_request": 0.20, "lambda_gb_second": 0.0000166667,  # x86
    "apigw_rest": 3.50, "ws_message": 1.00, "ws_connection_minute": 0.25,  # $ per million
}
LAMBDA_MEMORY_MB = 128  # Chalice's default; .chalice/config.json sets no lambda_memory_size
MODELED_LATENCY_S = {"dynamodb": 0.006, "sqs": 0.010}  # per request, in region
TABLE = "broker-main"
INDEX_KEYS = ("gsi1pk", "gsi2pk", "gsi3pk")
WRITES = ("PutItem", "UpdateItem", "DeleteItem")


@dataclass
class Usage:
    dynamodb_calls: Counter = field(default_factory=Counter)
    rru: float = 0.0
    wru: float = 0.0
    sqs: Counter = field(default_factory=Counter)
    lambdas: Counter = field(default_factory=Counter)
    lambda_seconds: float = 0.0
    modeled_seconds: float = 0.0
    rest: int = 0
    ws_messages: int = 0

    def add(self, other: "Usage", times: float = 1.0) -> None:
        for name, count in other.dynamodb_calls.items():
            self.dynamodb_calls[name] += count * times
        for name, count in other.sqs.items():
            self.sqs[name] += count * times
        for name, count in other.lambdas.items():
            self.lambdas[name] += count * times
        self.rru += other.rru * times
        self.wru += other.wru * times
        self.lambda_seconds += other.lambda_seconds * times
        self.modeled_seconds += other.modeled_seconds * times
        self.rest += other.rest * times
        self.ws_messages += other.ws_messages * times

    def dollars(self, modeled: bool = True) -> dict[str, float]:
        """$ for one million of this usage."""
        seconds = self.modeled_seconds if modeled else self.lambda_seconds
        return {
            "dynamodb": self.wru * PRICES["dynamodb_wru"] + self.rru * PRICES["dynamodb_rru"],
            "sqs": sum(self.sqs.values()) * PRICES["sqs_fifo"],
            "lambda": sum(self.lambdas.values()) * PRICES["lambda_request"]
            + seconds * LAMBDA_MEMORY_MB / 1024 * PRICES["lambda_gb_second"] * 1e6,
            "api_gateway": self.rest * PRICES["apigw_rest"] + self.ws_messages * PRICES["ws_message"],
        }


# --- item sizes (DynamoDB's rules) -------------------------------------------------------------

def _value_size(value: dict) -> int:
    kind, raw = next(iter(value.items()))
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        digits = raw.lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: v}) for v in raw)
    if kind == "L":
        return 3 + sum(_value_size(v) + 1 for v in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) + 1 for k, v in raw.items())
    return 0


def item_size(item: dict) -> int:
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _stored(key: dict):
    """The item as moto holds it now (None if absent)."""
    table = dynamodb_backends["123456789012"]["us-east-1"].get_table(TABLE)
    try:
        return table.get_item(DynamoType(key["pk"]), DynamoType(key["sk"]))
    except Exception:
        return None


def _key(operation: dict) -> dict:
    if "Key" in operation:
        return operation["Key"]
    return {name: operation["Item"][name] for name in ("pk", "sk")}


def _index_writes(before, after) -> int:
    writes = 0
    for name in INDEX_KEYS:
        old = before.attrs.get(name) if before is not None else None
        new = after.attrs.get(name) if after is not None else None
        if old is None and new is None:
            continue
        writes += 2 if (old is not None and new is not None and old != new) else 1
    return writes


def _write_units(before, after, transactional: bool) -> float:
    size = max(before.size() if before is not None else 0, after.size() if after is not None else 0)
    units = max(1, math.ceil(size / 1024))
    index_units = _index_writes(before, after) * units
    return units * (2 if transactional else 1) + index_units


def _read_units(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


class Meter:
    def __init__(self) -> None:
        self.usage: Usage | None = None
        self._started: dict[int, float] = {}
        self._before: dict[int, list] = {}
        self.paused = False
        self.aws_seconds = 0.0
        self.aws_calls: Counter = Counter()

    def install(self) -> None:
        aws_hooks.install("cost", before=self._before_call, after=self._after_call)

    def _before_call(self, service: str, operation: str, params: dict) -> None:
        self._started[id(params)] = time.perf_counter()
        if service == "dynamodb" and operation in WRITES:
            self._before[id(params)] = [_stored(_key(params))]
        elif service == "dynamodb" and operation == "TransactWriteItems":
            self._before[id(params)] = [_stored(_key(next(iter(i.values())))) for i in params["TransactItems"]]

    def _after_call(self, service: str, operation: str, params: dict, parsed: dict) -> None:
        started = self._started.pop(id(params), None)
        before = self._before.pop(id(params), None)
        if self.usage is None or self.paused:
            return
        if started is not None:
            self.aws_seconds += time.perf_counter() - started
            self.aws_calls[service] += 1
        if service == "sqs":
            self.usage.sqs[operation] += 1
            return
        if service != "dynamodb":
            return
        usage = self.usage
        usage.dynamodb_calls[operation] += 1
        consistent = bool(params.get("ConsistentRead"))
        if operation in WRITES:
            usage.wru += _write_units(before[0], _stored(_key(params)), False)
        elif operation == "TransactWriteItems":
            for old, item in zip(before, params["TransactItems"]):
                kind, body = next(iter(item.items()))
                new = old if kind == "ConditionCheck" else _stored(_key(body))
                usage.wru += _write_units(old, new, True)
        elif operation == "GetItem":
            usage.rru += _read_units(item_size(parsed.get("Item") or {}), consistent)
        elif operation == "BatchGetItem":
            for items in (parsed.get("Responses") or {}).values():
                usage.rru += sum(_read_units(item_size(i), True) for i in items)
        elif operation in ("Query", "Scan"):
            items = parsed.get("Items") or []
            size = sum(item_size(i) for i in items)
            scanned, returned = parsed.get("ScannedCount", len(items)), max(len(items), 1)
            usage.rru += _read_units(int(size * max(scanned, returned) / returned), consistent)

    @contextlib.contextmanager
    def lambda_invocation(self, name: str):
        """One Lambda invocation: its count, wall time, and the modeled time."""
        assert self.usage is not None
        self.aws_seconds, self.aws_calls = 0.0, Counter()
        started = time.perf_counter()
        yield
        wall = time.perf_counter() - started
        self.usage.lambdas[name] += 1
        self.usage.lambda_seconds += wall
        modeled = sum(MODELED_LATENCY_S.get(s, 0.01) * n for s, n in self.aws_calls.items())
        self.usage.modeled_seconds += max(wall - self.aws_seconds, 0.0) + modeled

    @contextlib.contextmanager
    def measuring(self, usage: Usage):
        self.usage = usage
        try:
            yield usage
        finally:
            self.usage = None


# --- the operations --------------------------------------------------------------------------------

class Bench:
    def __init__(self) -> None:
        self.meter = Meter()
        kms.forget_cached()
        catalog.invalidate()
        matching.drop_cache()
        self.seeded = seed_demo()
        catalog.invalidate()
        self.client = Client(openapi_app(), stage_name="test")
        self.http = self.client.http
        self.org = self.seeded["org"]["org_id"]
        self.alice, self.bob = self.seeded["users"][:2]
        self.a = self._key(self.alice, "a")
        self.b = self._key(self.bob, "b")
        self.pushed = 0
        original_send = push.send

        def counted_send(connection_id: str, frame: str) -> bool:
            self.pushed += 1
            if self.meter.usage is not None:
                self.meter.usage.ws_messages += 1
            return True
        push.send = counted_send
        self._original_send = original_send
        # one socket per user on their own stream, one on the market's public stream
        for name, stream in (("ws-alice", user_stream(self.alice["uid"])), ("ws-bob", user_stream(self.bob["uid"])),
                             ("ws-market", symbol_stream("BTCUSDT"))):
            event_store.save_connection(name, "events", {})
            event_store.subscribe(name, "events", stream)
        holder = Holder(self.org, self.bob["uid"], self.bob["account_id"])
        withdrawals.add_address(holder, token="USDT", address="0x" + "ab" * 20, chain="ERC20")
        self.deposit_address = deposits.deposit_address(holder, "USDT", "ERC20")["address"]
        self.meter.install()
        self._n = 0

    def _key(self, user: dict, op: str) -> Bhex:
        view, secret = api_keys.create_user_key(self.org, user["uid"], key_type=api_keys.USER_TRADE,
                                                ip_whitelist=["127.0.0.1"], operation_id=f"cost-{op}")
        return Bhex(self.http, view.api_key, secret)

    def close(self) -> None:
        push.send = self._original_send

    def _id(self) -> str:
        self._n += 1
        return f"cost-{self._n}"

    def rest(self, call):
        with self.meter.lambda_invocation("api"):
            response = call()
        self.meter.usage.rest += 1
        assert response.status_code == 200, response.body
        return json.loads(response.body)

    def _records(self, queue: str) -> list[dict]:
        self.meter.paused = True  # the harness reading the queue is not the app's cost
        try:
            sqs = aws.client("sqs")
            url = aws.queue_url(queue)
            found = []
            while True:
                got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
                    "Messages", [])
                if not got:
                    return found
                for m in got:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                    found.append({"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"],
                                  "body": m["Body"], "attributes": m.get("Attributes", {}),
                                  "eventSource": "aws:sqs"})
        finally:
            self.meter.paused = False

    def worker(self, name: str, queue: str) -> None:
        records = self._records(queue)
        for start in range(0, len(records), 10 if name == "matcher" else 1):
            batch = records[start:start + (10 if name == "matcher" else 1)]
            with self.meter.lambda_invocation(name):
                answer = self.client.lambda_.invoke(name, {"Records": batch}).payload
            assert answer == {"batchItemFailures": []}, answer
            self.meter.usage.sqs["ReceiveMessage (event source)"] += 1
            self.meter.usage.sqs["DeleteMessageBatch (event source)"] += 1

    def order(self, who: Bhex, side: str, price: str, qty: str = "0.001") -> dict:
        return self.rest(lambda: who.post("/openapi/v1/order", {
            "symbol": "BTCUSDT", "side": side, "type": "LIMIT", "quantity": qty, "price": price,
            "newClientOrderId": self._id()}))

    def measure(self) -> dict[str, Usage]:
        found: dict[str, Usage] = {}
        matching.process("BTCUSDT", self.seeded["exchange_id"] if "exchange_id" in self.seeded else "301", [])
        with self.meter.measuring(Usage()) as found["place (resting)"]:
            resting = self.order(self.b, "BUY", "20000")
            self.worker("matcher", settings.matching_queue())
        with self.meter.measuring(Usage()) as found["fill (taker against 1 maker)"]:
            self.order(self.a, "SELL", "20000")
            self.worker("matcher", settings.matching_queue())
        other = self.order_unmeasured(self.b, "BUY", "19000")
        with self.meter.measuring(Usage()) as found["cancel"]:
            self.rest(lambda: self.b.delete("/openapi/v1/order", {"orderId": other["orderId"]}))
            self.worker("matcher", settings.matching_queue())
        with self.meter.measuring(Usage()) as found["deposit (1 confirmed report)"]:
            report = gateway.simulator().deposit_report(chain="ERC20", token="USDT", address=self.deposit_address,
                                                        amount="500", confirmations=64)
            self.rest(lambda: self.http.post(report.path, headers=report.headers, body=report.body))
        with self.meter.measuring(Usage()) as found["withdrawal (request, hand-over, confirmed report)"]:
            placed = self.rest(lambda: self.b.post("/openapi/v1/withdraw", {
                "clientOrderId": self._id(), "tokenId": "USDT", "address": "0x" + "ab" * 20,
                "withdrawQuantity": "100", "chainType": "ERC20"}))
            self.worker("custody", settings.custody_queue())
            report = gateway.simulator().withdrawal_report(placed["orderId"], "confirmed", confirmations=12)
            self.rest(lambda: self.http.post(report.path, headers=report.headers, body=report.body))
        with self.meter.measuring(Usage()) as found["push (1 event, 1 subscribed socket)"]:
            with self.meter.lambda_invocation("in another function"):
                events.append_now(Event(symbol_stream("BTCUSDT"), "notice", {"hello": 1}))
            found["push (1 event, 1 subscribed socket)"].lambdas.clear()  # runs inside the caller's Lambda
        assert resting
        return found

    def order_unmeasured(self, who: Bhex, side: str, price: str) -> dict:
        response = who.post("/openapi/v1/order", {"symbol": "BTCUSDT", "side": side, "type": "LIMIT",
                                                   "quantity": "0.001", "price": price,
                                                   "newClientOrderId": self._id()})
        records = self._records(settings.matching_queue())
        self.client.lambda_.invoke("matcher", {"Records": records})
        return json.loads(response.body)


# --- the report --------------------------------------------------------------------------------------

MIX = {"place (resting)": 0.5, "fill (taker against 1 maker)": 0.5, "cancel": 0.4}


def render(found: dict[str, Usage], seconds: float) -> str:
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, moto in-process (patched), {seconds:.0f} s. Prices: us-east-1 public "
        f"on-demand list prices as of 2026-11 — DynamoDB ${PRICES['dynamodb_wru']}/M WRU, "
        f"${PRICES['dynamodb_rru']}/M RRU; SQS FIFO ${PRICES['sqs_fifo']}/M requests; Lambda "
        f"${PRICES['lambda_request']}/M requests + ${PRICES['lambda_gb_second']}/GB-s at {LAMBDA_MEMORY_MB} MB; "
        f"API Gateway REST ${PRICES['apigw_rest']}/M requests, WebSocket ${PRICES['ws_message']}/M messages + "
        f"${PRICES['ws_connection_minute']}/M connection-minutes.", "",
        "| operation | DynamoDB calls | RRU | WRU | SQS requests | Lambda invocations | Lambda s (measured / modeled) "
        "| REST requests | WS messages | $ per million (modeled Lambda time) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, usage in found.items():
        calls = ", ".join(f"{op} {int(n)}" for op, n in sorted(usage.dynamodb_calls.items()))
        money = usage.dollars()
        lines.append(
            f"| {name} | {calls} | {usage.rru:g} | {usage.wru:g} | {sum(usage.sqs.values()):g} | "
            f"{sum(usage.lambdas.values()):g} | {usage.lambda_seconds:.3f} / {usage.modeled_seconds:.3f} | "
            f"{usage.rest:g} | {usage.ws_messages:g} | {sum(money.values()):,.2f} "
            f"(DynamoDB {money['dynamodb']:,.2f}, SQS {money['sqs']:,.2f}, Lambda {money['lambda']:,.2f}, "
            f"API GW {money['api_gateway']:,.2f}) |")
    blend = Usage()
    for name, weight in MIX.items():
        blend.add(found[name], weight)
    modeled, measured = blend.dollars(True), blend.dollars(False)
    lines += ["", "Per million orders, with the mix " + ", ".join(f"{w:g} {n}" for n, w in MIX.items()) +
              " per order (pushes to the users' and the market's sockets included):", "",
              "| part | $ (modeled Lambda time) | $ (measured in-process Lambda time) |", "|---|---:|---:|"]
    for part in modeled:
        lines.append(f"| {part} | {modeled[part]:,.2f} | {measured[part]:,.2f} |")
    lines.append(f"| **total** | **{sum(modeled.values()):,.2f}** | {sum(measured.values()):,.2f} |")
    lines.append("")
    lines.append(f"WebSocket connection-minutes are per connected client, not per order: a client connected all day "
                 f"costs 1,440 connection-minutes = ${1440 * PRICES['ws_connection_minute'] / 1e6:.6f} per day.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write-doc", action="store_true", help="write the table into docs/COST_MODEL.md")
    args = parser.parse_args()
    started = time.perf_counter()
    with moto_resources():
        bench = Bench()
        try:
            found = bench.measure()
        finally:
            bench.close()
    text = render(found, time.perf_counter() - started)
    print(text)
    if args.write_doc:
        _write_doc(text)


def _write_doc(table: str) -> None:
    path = os.path.join(ROOT, "docs", "COST_MODEL.md")
    head = open(path).read().split("<!-- measured -->")[0] if os.path.exists(path) else "# Cost model\n\n"
    with open(path, "w") as out:
        out.write(head.rstrip() + "\n\n<!-- measured -->\n\n" + table + "\n")


if __name__ == "__main__":
    main()
