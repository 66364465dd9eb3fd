"""The local SQS pollers feed FIFO queues to the app's handlers the way Lambda does."""
from __future__ import annotations

import json
import threading
import time

import boto3
import pytest
from chalice import Chalice
from moto import mock_aws

from infra.local.devserver import DevServer
from infra.local.sqs_poller import failed_ids, lambda_record


def wait_until(predicate, timeout=15.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


@pytest.fixture
def sqs(aws_env):
    with mock_aws():
        client = boto3.client('sqs', region_name='us-east-1')
        dlq = client.create_queue(QueueName='jobs-dlq.fifo', Attributes={'FifoQueue': 'true'})
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq['QueueUrl'],
                                              AttributeNames=['QueueArn'])['Attributes']['QueueArn']
        url = client.create_queue(QueueName='jobs.fifo', Attributes={
            'FifoQueue': 'true', 'ContentBasedDeduplication': 'false', 'VisibilityTimeout': '1',
            'RedrivePolicy': json.dumps({'deadLetterTargetArn': dlq_arn, 'maxReceiveCount': 5}),
        })['QueueUrl']
        yield client, url


def send(client, url, group, body):
    client.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group,
                        MessageDeduplicationId=f'{group}-{body}')


def queue_is_empty(client, url):
    attrs = client.get_queue_attributes(QueueUrl=url, AttributeNames=['All'])['Attributes']
    return attrs['ApproximateNumberOfMessages'] == '0' and \
        attrs['ApproximateNumberOfMessagesNotVisible'] == '0'


def run_app(app):
    return DevServer(None, app=app, rest=False, rest_port=0, ws_port=0, connections_port=0)


def test_a_reported_batch_item_failure_is_redelivered_in_group_order_and_the_rest_deleted(sqs):
    client, url = sqs
    app = Chalice(app_name='poller-test')
    seen: list[dict] = []
    batches: list[list[str]] = []
    lock = threading.Lock()

    @app.on_sqs_message(queue='jobs.fifo', batch_size=10)
    def worker(event):
        failures = []
        records = [r.to_dict() for r in event]
        with lock:
            batches.append([r['attributes']['MessageGroupId'] for r in records])
            for rec in records:
                seen.append(rec)
                if rec['body'] == 'poison-once' and rec['attributes']['ApproximateReceiveCount'] == '1':
                    failures.append({'itemIdentifier': rec['messageId']})
        return {'batchItemFailures': failures}

    for group, body in [('BTC', 'a1'), ('BTC', 'poison-once'), ('BTC', 'a3'), ('ETH', 'b1'), ('ETH', 'b2')]:
        send(client, url, group, body)

    server = run_app(app).start()
    try:
        assert wait_until(lambda: len(seen) >= 6 and queue_is_empty(client, url)), \
            [r['body'] for r in seen]
        health = server.health()['pollers']['worker']
        assert health['alive'] and health['queue'] == 'jobs.fifo'
    finally:
        server.stop()

    by_group: dict[str, list[str]] = {}
    for rec in seen:
        by_group.setdefault(rec['attributes']['MessageGroupId'], []).append(rec['body'])
    assert by_group == {'BTC': ['a1', 'poison-once', 'poison-once', 'a3'], 'ETH': ['b1', 'b2']}
    assert all(len(b) == len(set(b)) for b in batches), 'two messages of one group in one batch'
    retried = [r for r in seen if r['body'] == 'poison-once']
    assert [r['attributes']['ApproximateReceiveCount'] for r in retried] == ['1', '2']
    rec = seen[0]
    assert rec['eventSource'] == 'aws:sqs'
    assert rec['eventSourceARN'] == 'arn:aws:sqs:us-east-1:123456789012:jobs.fifo'
    assert rec['attributes']['MessageDeduplicationId'] == 'BTC-a1'
    assert rec['attributes']['SequenceNumber'] and rec['receiptHandle'] and rec['messageId']


def test_a_handler_exception_leaves_the_whole_batch_for_redelivery(sqs):
    client, url = sqs
    app = Chalice(app_name='poller-test-2')
    calls: list[list[str]] = []

    @app.on_sqs_message(queue='jobs.fifo', batch_size=5)
    def flaky(event):
        bodies = sorted(r.body for r in event)
        calls.append(bodies)
        if len(calls) == 1:
            raise RuntimeError('transient')

    send(client, url, 'g1', 'x')
    send(client, url, 'g2', 'y')
    server = run_app(app).start()
    try:
        assert wait_until(lambda: queue_is_empty(client, url) and len(calls) >= 2)
        assert server.health()['pollers']['flaky']['failed'] == 2
    finally:
        server.stop()
    delivered = [b for call in calls for b in call]
    assert sorted(delivered) == ['x', 'x', 'y', 'y']


def test_a_malformed_batch_item_failures_answer_fails_the_whole_batch():
    ids = ['m1', 'm2', 'm3']
    assert failed_ids(None, ids) == []
    assert failed_ids({'batchItemFailures': []}, ids) == []
    assert failed_ids({'batchItemFailures': [{'itemIdentifier': 'm2'}]}, ids) == ['m2']
    assert failed_ids({'batchItemFailures': [{'itemIdentifier': 'other'}]}, ids) == ids
    assert failed_ids({'batchItemFailures': [{'itemIdentifier': ''}]}, ids) == ids


def test_a_lambda_record_carries_the_fifo_attributes_and_message_attributes():
    message = {
        'MessageId': 'id-1', 'ReceiptHandle': 'rh', 'Body': '{}', 'MD5OfBody': 'abc',
        'Attributes': {'MessageGroupId': 'BTCUSDT', 'MessageDeduplicationId': 'd1',
                       'SequenceNumber': '1', 'ApproximateReceiveCount': '1', 'SenderId': 's',
                       'SentTimestamp': '1', 'ApproximateFirstReceiveTimestamp': '2'},
        'MessageAttributes': {'kind': {'StringValue': 'order', 'DataType': 'String'},
                              'raw': {'BinaryValue': b'\x00\x01', 'DataType': 'Binary'}},
    }
    rec = lambda_record(message, queue_arn='arn:aws:sqs:us-east-1:1:q.fifo', region='us-east-1')
    assert rec['attributes']['MessageGroupId'] == 'BTCUSDT'
    assert rec['messageAttributes']['kind'] == {'stringValue': 'order', 'stringListValues': [],
                                                'binaryListValues': [], 'dataType': 'String'}
    assert rec['messageAttributes']['raw']['binaryValue'] == 'AAE='
    assert rec['eventSourceARN'] == 'arn:aws:sqs:us-east-1:1:q.fifo' and rec['awsRegion'] == 'us-east-1'

