"""What is up: the table, the queues, and the WebSocket push endpoint."""
from __future__ import annotations

import json
import time
import urllib.request
from typing import Callable

from chalicelib import settings
from chalicelib.gateways import aws


def _table() -> dict:
    description = aws.client("dynamodb").describe_table(TableName=settings.table_name())["Table"]
    return {"status": description.get("TableStatus", "UNKNOWN")}


def _queue(name: str) -> Callable[[], dict]:
    def check() -> dict:
        attributes = aws.client("sqs").get_queue_attributes(
            QueueUrl=aws.queue_url(name), AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        return {"messages": int(attributes.get("ApproximateNumberOfMessages", 0))}
    return check


def _websocket() -> dict:
    endpoint = settings.websocket_endpoint()
    if endpoint is None:
        raise RuntimeError("no WebSocket endpoint configured (WS_API_ID or LOCAL_WS_ENDPOINT)")
    if not settings.is_local():
        return {"endpoint": endpoint}
    base = endpoint.rsplit("/", 1)[0]
    with urllib.request.urlopen(f"{base}/health", timeout=2) as answer:
        return json.loads(answer.read())


CHECKS: dict[str, Callable[[], dict]] = {
    "dynamodb": _table,
    "matching_queue": _queue(settings.matching_queue()),
    "matching_dead_letter_queue": _queue(settings.matching_dead_letter_queue()),
    "custody_queue": _queue(settings.custody_queue()),
    "websocket": _websocket,
}


def report() -> tuple[bool, dict]:
    parts: dict[str, dict] = {}
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            parts[name] = {"up": True, **check()}
        except Exception as failure:
            parts[name] = {"up": False, "error": f"{type(failure).__name__}: {failure}"}
        parts[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    healthy = all(part["up"] for part in parts.values())
    return healthy, {"status": "up" if healthy else "down", "stage": settings.stage(), "parts": parts}
