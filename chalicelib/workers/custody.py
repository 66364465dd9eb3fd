"""SQS FIFO consumer of withdrawal hand-overs (`broker-custody.fifo`, group = withdrawal id).

Each record names a withdrawal; `withdrawals.broadcast` moves it to custody at most once
in effect (its own state machine plus custody's deduplication of our request id), so a
redelivered or duplicated message is harmless. A custody timeout fails the record and
SQS brings it back after the visibility timeout. Once a record fails, it and every later
record of the batch are reported failed (AWS's rule for FIFO partial batches). An
unreadable message, or one naming no withdrawal, is moved to the dead-letter queue with
a `system` event; a withdrawal whose messages all died is still re-sent by
`withdrawals.requeue_stale`.
"""
from __future__ import annotations

from chalicelib import settings

import json
import logging
from typing import Any

from chalicelib.domain.errors import WithdrawalNotFound
from chalicelib.domain.events import SYSTEM_STREAM, Event
from chalicelib.gateways import aws
from chalicelib.services import events, withdrawals

log = logging.getLogger(__name__)


class PoisonMessage(Exception):
    pass


def dead_letter_queue() -> str:
    return settings.custody_dead_letter_queue()


def _withdrawal_id(record: dict) -> int:
    try:
        return int(json.loads(record["body"])["withdrawal_id"])
    except (KeyError, TypeError, ValueError) as error:
        raise PoisonMessage(f"unreadable custody message: {error}") from error


def handle_batch(event: dict[str, Any]) -> dict:
    failures: list[dict] = []
    failed = False
    for record in event.get("Records") or []:
        if failed:
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        try:
            withdrawal_id = _withdrawal_id(record)
            outcome = withdrawals.broadcast(withdrawal_id)
            log.info("withdrawal %s: %s", withdrawal_id, outcome)
        except (PoisonMessage, WithdrawalNotFound) as poison:
            _dead_letter(record, f"{type(poison).__name__}: {poison}")
        except Exception:
            log.exception("custody hand-over failed (receive %s)",
                          (record.get("attributes") or {}).get("ApproximateReceiveCount", "1"))
            failed = True
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def _dead_letter(record: dict, reason: str) -> None:
    group = (record.get("attributes") or {}).get("MessageGroupId") or "unknown"
    aws.client("sqs").send_message(
        QueueUrl=aws.queue_url(dead_letter_queue()), MessageBody=record.get("body") or "",
        MessageGroupId=group, MessageDeduplicationId=record["messageId"])
    events.append_now(Event(SYSTEM_STREAM, "custody.deadLetter", {
        "message_id": record["messageId"], "group": group, "reason": reason[:500],
        "body": (record.get("body") or "")[:1000]}))
    log.error("custody message %s moved to the dead-letter queue: %s", record["messageId"], reason)
