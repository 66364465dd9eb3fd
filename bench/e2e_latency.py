"""The local stack end to end: orders/s through the REST path (the BHEX OpenAPI) and the
latency from an order being accepted to its trade event arriving on the user data stream.

Starts its own local stack (infra/local/stack.py), takes the seeded demo users, and
drives signed REST requests the way the bhex SDK does. Latency: one user rests a sell,
the other sends a crossing buy; the clock runs from the HTTP answer of the buy to the
seller's executionReport with a fill, over the WebSocket user stream.

    .venv/bin/python bench/e2e_latency.py [--orders 200] [--trades 50] [--write-doc]
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import platform
import statistics
import sys
import time
import urllib.parse

import requests
import websockets

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from infra.local.stack import LocalStack  # noqa: E402


class Trader:
    def __init__(self, rest_url: str, user: dict) -> None:
        self.rest_url, self.key, self.secret = rest_url, user["api_key"], user["api_secret"]
        self.http = requests.Session()

    def call(self, method: str, path: str, **params) -> dict:
        params["timestamp"] = str(int(time.time() * 1000))
        query = urllib.parse.urlencode(params)
        signature = hmac.new(self.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        body = f"{query}&signature={signature}"
        headers = {"X-BH-APIKEY": self.key}
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            answer = self.http.post(f"{self.rest_url}{path}", data=body, headers=headers, timeout=30)
        else:
            answer = self.http.request(method, f"{self.rest_url}{path}?{body}", headers=headers, timeout=30)
        return answer.json()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def order_throughput(trader: Trader, count: int) -> float:
    started = time.perf_counter()
    for index in range(count):
        answer = trader.call("POST", "/openapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                             quantity="0.001", price=str(10000 + index % 100), newClientOrderId=f"tp-{index}")
        assert "orderId" in answer, answer
    return count / (time.perf_counter() - started)


async def trade_latencies(stack: LocalStack, seller: Trader, buyer: Trader, count: int) -> list[float]:
    listen_key = seller.call("POST", "/openapi/v1/userDataStream")["listenKey"]
    ws_base = stack.ws_url.rstrip("/")
    latencies = []
    async with websockets.connect(f"{ws_base}/openapi/ws/{listen_key}") as socket:
        for index in range(count):
            price = str(20000 + index)
            seller.call("POST", "/openapi/v1/order", symbol="BTCUSDT", side="SELL", type="LIMIT",
                        quantity="0.001", price=price, newClientOrderId=f"s-{index}")
            buy = buyer.call("POST", "/openapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                             quantity="0.001", price=price, newClientOrderId=f"b-{index}")
            accepted = time.perf_counter()
            assert "orderId" in buy, buy
            while True:
                frame = json.loads(await asyncio.wait_for(socket.recv(), 30))
                reports = frame if isinstance(frame, list) else []
                if any(r.get("e") == "executionReport" and r.get("c") == f"s-{index}" and r.get("l") not in (
                        None, "0") for r in reports):
                    latencies.append((time.perf_counter() - accepted) * 1000)
                    break
    return latencies


def _raise_rate_limits(stack: LocalStack, org_id: str) -> None:
    """BHEX level 9 (500 orders per 2 s) for the demo org, so the limiter is not what is measured."""
    os.environ.update({"AWS_ENDPOINT_URL": stack.aws_endpoint, "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    from chalicelib.store import catalog

    catalog.update_org_settings(org_id, {"openapi_api_level": 9})
    time.sleep(6)  # the server's catalog cache lives 5 s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--trades", type=int, default=50)
    parser.add_argument("--write-doc", action="store_true")
    args = parser.parse_args()
    with LocalStack() as stack:
        _raise_rate_limits(stack, stack.info["org"]["org_id"])
        alice, bob = (Trader(stack.rest_url, user) for user in stack.info["users"][:2])
        rate = order_throughput(alice, args.orders)
        latencies = asyncio.run(trade_latencies(stack, alice, bob, args.trades))
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"local stack (patched moto server, Chalice local server, SQS poller, WebSocket gateway)", "",
        "| measure | value |", "|---|---|",
        f"| orders accepted through REST (sequential, one client) | {rate:.1f} orders/s over {args.orders} |",
        f"| order accepted → trade event on the user stream, p50 | {statistics.median(latencies):.0f} ms |",
        f"| order accepted → trade event on the user stream, p99 | {percentile(latencies, 0.99):.0f} ms "
        f"({len(latencies)} trades) |",
    ]
    print("\n".join(lines))
    if args.write_doc:
        path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "BENCHMARKS.md")
        heading = "## Local stack end to end"
        text = open(path).read()
        if heading in text:
            start = text.index(heading)
            end = text.find("\n## ", start + 1)
            text = text[:start] + (text[end + 1:] if end != -1 else "")
        text = text.rstrip() + f"\n\n{heading}\n\n`bench/e2e_latency.py`.\n\n" + "\n".join(lines) + "\n"
        open(path, "w").write(text)


if __name__ == "__main__":
    main()
