"""Feed an SQS queue to a Lambda-style handler, the way the SQS event source mapping does.

One ``SqsPoller`` thread per ``@app.on_sqs_message`` event source. It receives
messages, builds the Lambda event (``{'Records': [...]}`` with ``messageId``,
``receiptHandle``, ``body``, ``attributes`` incl. ``MessageGroupId``,
``MessageDeduplicationId``, ``SequenceNumber``, ``ApproximateReceiveCount``,
``messageAttributes``, ``eventSourceARN``...), calls the handler and then:

* handler returned normally: every record is deleted, except those it lists in a
  ``{'batchItemFailures': [{'itemIdentifier': messageId}, ...]}`` answer
  (ReportBatchItemFailures). As in Lambda, an answer naming an id that is not in the
  batch, or an empty/missing identifier, fails the whole batch;
* handler raised: nothing is deleted; the messages come back after their visibility
  timeout (``retry_visibility_timeout`` shortens that locally if set), their
  ApproximateReceiveCount grows, and the queue's RedrivePolicy moves them to the DLQ.

FIFO queues: by default at most one message per message group is in flight
(``one_per_group``): each batch holds up to ``batch_size`` messages from distinct
groups. This sidesteps moto's redelivery-order bug (several in-flight messages of a
group come back out of order) while keeping per-group order, which is what the
single-writer design relies on.
"""
from __future__ import annotations

import base64
import logging
import threading
import time
import traceback
from typing import Any, Callable

log = logging.getLogger('infra.local.sqs')

_SYSTEM_ATTRIBUTES = ('ApproximateReceiveCount', 'SentTimestamp', 'SenderId',
                      'ApproximateFirstReceiveTimestamp', 'SequenceNumber', 'MessageGroupId',
                      'MessageDeduplicationId', 'AWSTraceHeader', 'DeadLetterQueueSourceArn')


def lambda_message_attributes(attrs: dict | None) -> dict:
    out: dict[str, dict] = {}
    for name, a in (attrs or {}).items():
        binary = a.get('BinaryValue')
        out[name] = {
            'stringValue': a.get('StringValue'),
            'binaryValue': base64.b64encode(binary).decode() if isinstance(binary, bytes) else binary,
            'stringListValues': list(a.get('StringListValues') or []),
            'binaryListValues': [base64.b64encode(b).decode() if isinstance(b, bytes) else b
                                 for b in a.get('BinaryListValues') or []],
            'dataType': a.get('DataType'),
        }
        if out[name]['stringValue'] is None:
            del out[name]['stringValue']
        if out[name]['binaryValue'] is None:
            del out[name]['binaryValue']
    return out


def lambda_record(message: dict, *, queue_arn: str, region: str) -> dict:
    """One SQS message as a record of the Lambda SQS event."""
    attributes = {k: v for k, v in (message.get('Attributes') or {}).items()
                  if k in _SYSTEM_ATTRIBUTES}
    record = {
        'messageId': message['MessageId'],
        'receiptHandle': message['ReceiptHandle'],
        'body': message.get('Body', ''),
        'attributes': attributes,
        'messageAttributes': lambda_message_attributes(message.get('MessageAttributes')),
        'md5OfBody': message.get('MD5OfBody'),
        'eventSource': 'aws:sqs',
        'eventSourceARN': queue_arn,
        'awsRegion': region,
    }
    if message.get('MD5OfMessageAttributes'):
        record['md5OfMessageAttributes'] = message['MD5OfMessageAttributes']
    return record


def failed_ids(result: Any, batch_ids: list[str]) -> list[str]:
    """Which records the handler's answer reports as failed (ReportBatchItemFailures)."""
    if not isinstance(result, dict) or 'batchItemFailures' not in result:
        return []
    failures = result.get('batchItemFailures') or []
    if not isinstance(failures, list):
        return list(batch_ids)
    ids: list[str] = []
    for f in failures:
        ident = f.get('itemIdentifier') if isinstance(f, dict) else None
        if not ident or ident not in batch_ids:
            return list(batch_ids)   # Lambda: a malformed answer fails the whole batch
        ids.append(ident)
    return ids


class SqsPoller(threading.Thread):
    def __init__(self, *, name: str, queue_name: str, handler: Callable[[dict, Any], Any],
                 client_factory: Callable[[], Any], batch_size: int = 1, region: str = 'us-east-1',
                 one_per_group: bool = True, wait_seconds: int = 1,
                 retry_visibility_timeout: int | None = None,
                 context_factory: Callable[[], Any] | None = None,
                 queue_wait_timeout: float = 30.0):
        super().__init__(name=f'sqs-poller-{name}', daemon=True)
        self.handler_name = name
        self.queue_name = queue_name
        self.handler = handler
        self.client_factory = client_factory
        self.batch_size = max(1, min(int(batch_size), 10 if queue_name.endswith('.fifo') else 10000))
        self.region = region
        self.one_per_group = one_per_group
        self.wait_seconds = wait_seconds
        self.retry_visibility_timeout = retry_visibility_timeout
        self.context_factory = context_factory or (lambda: None)
        self.queue_wait_timeout = queue_wait_timeout
        self.fifo = queue_name.endswith('.fifo')
        self.queue_url: str | None = None
        self.queue_arn: str | None = None
        self.last_poll: float | None = None
        self.processed = 0
        self.failed = 0
        self.batches = 0
        self.last_error: str | None = None
        self._stop_event = threading.Event()
        self.ready = threading.Event()     # set once the queue is resolved (or given up on)
        self._redelivery_pending_until = 0.0
        self._client: Any = None

    # ------------------------------------------------------------------ control

    def stop(self, timeout: float | None = None) -> None:
        self._stop_event.set()
        if timeout is not None and self.is_alive():
            self.join(timeout)

    def health(self) -> dict:
        return {
            'alive': self.is_alive(), 'queue': self.queue_name, 'handler': self.handler_name,
            'batch_size': self.batch_size, 'last_poll': self.last_poll,
            'last_poll_age_s': None if self.last_poll is None else round(time.time() - self.last_poll, 3),
            'processed': self.processed, 'failed': self.failed, 'batches': self.batches,
            'last_error': self.last_error,
        }

    # --------------------------------------------------------------------- loop

    def run(self) -> None:
        try:
            self._client = self.client_factory()
            self._resolve_queue()
        except Exception as exc:  # noqa: BLE001
            self.last_error = f'{type(exc).__name__}: {exc}'
            log.error('poller %s: cannot reach queue %s: %s', self.handler_name, self.queue_name, exc)
            self.ready.set()
            return
        self.ready.set()
        while not self._stop_event.is_set():
            try:
                self.last_poll = time.time()
                messages = self._receive()
                self.last_poll = time.time()
                if not messages:
                    if self._short_polling():
                        self._stop_event.wait(0.2)
                    continue
                self._process(messages)
            except Exception as exc:  # noqa: BLE001 - keep polling (moto restarting, ...)
                self.last_error = f'{type(exc).__name__}: {exc}'
                log.warning('poller %s: %s', self.handler_name, self.last_error)
                self._stop_event.wait(0.5)

    def _resolve_queue(self) -> None:
        deadline = time.monotonic() + self.queue_wait_timeout
        while True:
            try:
                self.queue_url = self._client.get_queue_url(QueueName=self.queue_name)['QueueUrl']
                break
            except Exception:
                if time.monotonic() > deadline or self._stop_event.is_set():
                    raise
                self._stop_event.wait(0.2)
        self.queue_arn = self._client.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=['QueueArn'])['Attributes']['QueueArn']

    def _short_polling(self) -> bool:
        # moto's long poll spins while a group's head is in flight and later messages of
        # that group are visible; poll briefly instead until our failed messages return.
        return time.time() < self._redelivery_pending_until

    def _receive_some(self, count: int, wait: int) -> list[dict]:
        resp = self._client.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=count, WaitTimeSeconds=wait,
            AttributeNames=['All'], MessageSystemAttributeNames=['All'],
            MessageAttributeNames=['All'])
        return resp.get('Messages', [])

    def _receive(self) -> list[dict]:
        wait = 0 if self._short_polling() else self.wait_seconds
        if not (self.fifo and self.one_per_group):
            return self._receive_some(self.batch_size, wait)
        batch = self._receive_some(1, wait)
        # A group with a message in flight is skipped by further receives, so each
        # further single receive yields the head of another group.
        while batch and len(batch) < self.batch_size and not self._stop_event.is_set():
            more = self._receive_some(1, 0)
            if not more:
                break
            batch.extend(more)
        return batch

    def _process(self, messages: list[dict]) -> None:
        records = [lambda_record(m, queue_arn=self.queue_arn or '', region=self.region)
                   for m in messages]
        ids = [r['messageId'] for r in records]
        self.batches += 1
        try:
            result = self.handler({'Records': records}, self.context_factory())
            failed = set(failed_ids(result, ids))
            if failed:
                self.last_error = f'batchItemFailures: {sorted(failed)}'
        except Exception as exc:  # noqa: BLE001 - Lambda: the whole batch fails
            failed = set(ids)
            self.last_error = f'{type(exc).__name__}: {exc}'
            log.error('poller %s: handler raised; %d message(s) left for redelivery\n%s',
                      self.handler_name, len(ids), traceback.format_exc())
        done = [m for m in messages if m['MessageId'] not in failed]
        for i in range(0, len(done), 10):
            chunk = done[i:i + 10]
            self._client.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {'Id': str(n), 'ReceiptHandle': m['ReceiptHandle']} for n, m in enumerate(chunk)])
        self.processed += len(done)
        if failed:
            self.failed += len(failed)
            retry = self.retry_visibility_timeout
            for m in messages:
                if m['MessageId'] in failed and retry is not None:
                    self._client.change_message_visibility(
                        QueueUrl=self.queue_url, ReceiptHandle=m['ReceiptHandle'],
                        VisibilityTimeout=int(retry))
            if retry is None:
                retry = self._queue_visibility_timeout()
            self._redelivery_pending_until = max(self._redelivery_pending_until,
                                                 time.time() + retry + 1)

    def _queue_visibility_timeout(self) -> int:
        try:
            attrs = self._client.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=['VisibilityTimeout'])['Attributes']
            return int(attrs.get('VisibilityTimeout', 30))
        except Exception:  # noqa: BLE001
            return 30
