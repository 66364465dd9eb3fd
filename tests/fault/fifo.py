"""An SQS FIFO queue as Lambda's event source mapping delivers it, with adversarial timing.

The app sends to the real (moto) queue; `pull` moves what it sent into per-group lines
here, in the order SQS assigned. `next_batch` hands out up to `batch_size` messages from
the heads of randomly chosen groups, each group's messages in order, as Lambda does for
FIFO. `settle` applies the handler's answer the way SQS does: a batch whose handler died
stays whole (its receive counts grow), reported failures stay at their group's head, the
rest are deleted. `duplicate` puts a copy of an already delivered message at the end of
its group again (at-least-once delivery; also what moto's short dedup window and the
requeue sweepers produce).

moto forgets a FIFO dedup id once the message is deleted, and this model deletes at
once, so sends that AWS would drop within its 5-minute window arrive here too: the
consumers must be idempotent without relying on SQS deduplication.
"""
from __future__ import annotations

import itertools
import random
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from chalicelib.gateways import aws


@dataclass
class Message:
    message_id: str
    body: str
    group: str
    dedup_id: str
    sequence: int
    receive_count: int = 0

    def record(self, queue_arn: str) -> dict:
        return {
            "messageId": self.message_id, "receiptHandle": f"rh-{self.message_id}-{self.receive_count}",
            "body": self.body, "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
            "attributes": {"ApproximateReceiveCount": str(self.receive_count), "MessageGroupId": self.group,
                           "MessageDeduplicationId": self.dedup_id, "SequenceNumber": str(self.sequence)},
            "messageAttributes": {}, "md5OfBody": "",
        }


@dataclass
class FifoChannel:
    queue_name: str
    rng: random.Random
    batch_size: int
    groups: "OrderedDict[str, deque[Message]]" = field(default_factory=OrderedDict)
    delivered: list[Message] = field(default_factory=list)
    seen_dedup_ids: set = field(default_factory=set)
    duplicates_delivered: int = 0
    redeliveries: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def arn(self) -> str:
        return f"arn:aws:sqs:us-east-1:123456789012:{self.queue_name}"

    def pull(self) -> int:
        """Moves every message the app sent to the moto queue into this model."""
        sqs = aws.client("sqs")
        url = aws.queue_url(self.queue_name)
        moved = 0
        while True:
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
            messages = answer.get("Messages", [])
            if not messages:
                return moved
            for raw in messages:
                attributes = raw.get("Attributes", {})
                self._append(Message(raw["MessageId"], raw["Body"], attributes.get("MessageGroupId", "none"),
                                     attributes.get("MessageDeduplicationId", raw["MessageId"]), next(self._ids)))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=raw["ReceiptHandle"])
                moved += 1

    def _append(self, message: Message) -> None:
        self.groups.setdefault(message.group, deque()).append(message)

    def __len__(self) -> int:
        return sum(len(line) for line in self.groups.values())

    def next_batch(self) -> list[Message]:
        live = [g for g, line in self.groups.items() if line]
        if not live:
            return []
        chosen = self.rng.sample(live, self.rng.randint(1, len(live)))
        takes = {g: list(self.groups[g])[:self.rng.randint(1, self.batch_size)] for g in chosen}
        batch: list[Message] = []
        while len(batch) < self.batch_size and any(takes.values()):
            group = self.rng.choice([g for g, t in takes.items() if t])
            batch.append(takes[group].pop(0))  # interleaved across groups, in order within each
        for message in batch:
            message.receive_count += 1
            if message.receive_count > 1:
                self.redeliveries += 1
            elif message.dedup_id in self.seen_dedup_ids:
                self.duplicates_delivered += 1
            self.seen_dedup_ids.add(message.dedup_id)
        return batch

    def settle(self, batch: list[Message], died: bool, failed_ids: set[str]) -> None:
        if died:
            return  # nothing was deleted; every message comes back after the visibility timeout
        for message in batch:
            if message.message_id in failed_ids:
                continue
            line = self.groups[message.group]
            line.remove(message)
            self.delivered.append(message)

    def duplicate(self) -> bool:
        if not self.delivered:
            return False
        original = self.rng.choice(self.delivered[-200:])
        self._append(Message(f"dup-{next(self._ids)}", original.body, original.group, original.dedup_id,
                             next(self._ids)))
        return True
