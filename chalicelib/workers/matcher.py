"""SQS FIFO consumer of matching work: records in, the matching service, failures out.

Lambda hands a FIFO batch in queue order. Once a record fails, it and every later record
are reported failed (AWS's rule for FIFO partial batches), so nothing overtakes it.
A poison message (unreadable, or failing again and again) is moved to the dead-letter
queue by hand with a `system` event, so its symbol is blocked for a few redeliveries at
most, not until SQS's redrive gives up.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from chalicelib import settings
from chalicelib.domain.events import SYSTEM_STREAM, Event
from chalicelib.gateways import aws
from chalicelib.services import events, matching
from chalicelib.store.orders import Work, mark_dead, now_ms

log = logging.getLogger(__name__)
POISON_AFTER_RECEIVES = 3


class PoisonMessage(Exception):
    pass


def _work(record: dict) -> Work:
    try:
        body = json.loads(record["body"])
        return Work(body["symbol"], body["kind"], int(body["order_id"]), body["exchange_id"], now_ms())
    except (KeyError, TypeError, ValueError) as error:
        raise PoisonMessage(f"unreadable matching message: {error}") from error


def handle_batch(event: dict[str, Any]) -> dict:
    """Processes consecutive records of one symbol together, so the matcher can commit
    several orders in one transaction; a failed run fails every record from it on."""
    records = event.get("Records") or []
    failures: list[dict] = []
    runs: list[tuple[str, list[tuple[dict, Work]]]] = []
    for record in records:
        try:
            work = _work(record)
        except PoisonMessage as poison:
            _dead_letter(record, str(poison))
            continue
        if runs and runs[-1][0] == work.symbol:
            runs[-1][1].append((record, work))
        else:
            runs.append((work.symbol, [(record, work)]))
    failed = False
    for symbol, run in runs:
        if failed:
            failures += [{"itemIdentifier": record["messageId"]} for record, _ in run]
            continue
        try:
            matching.process(symbol, run[0][1].exchange_id, [work for _, work in run])
        except Exception as error:
            receives = max(int((r.get("attributes") or {}).get("ApproximateReceiveCount", "1")) for r, _ in run)
            log.exception("matching work for %s failed (receive %s)", symbol, receives)
            if receives >= POISON_AFTER_RECEIVES and len(run) == 1:
                _dead_letter(run[0][0], f"{type(error).__name__}: {error}")
                continue
            failed = True
            failures += [{"itemIdentifier": record["messageId"]} for record, _ in run]
    return {"batchItemFailures": failures}


def _dead_letter(record: dict, reason: str) -> None:
    attributes = record.get("attributes") or {}
    group = attributes.get("MessageGroupId") or "unknown"
    aws.client("sqs").send_message(
        QueueUrl=aws.queue_url(settings.matching_dead_letter_queue()), MessageBody=record.get("body") or "",
        MessageGroupId=group, MessageDeduplicationId=record["messageId"])
    try:
        mark_dead(_work(record), reason)
    except PoisonMessage:
        pass
    events.append_now(Event(SYSTEM_STREAM, "matching.deadLetter", {
        "message_id": record["messageId"], "group": group, "reason": reason[:500], "body": (record.get("body") or "")[:1000]}))
    log.error("matching message %s moved to the dead-letter queue: %s", record["messageId"], reason)
