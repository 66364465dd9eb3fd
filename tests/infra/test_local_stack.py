"""The whole local stack (moto server + dev server) runs a Chalice project end to end."""
from __future__ import annotations

import json
import os
import socket
import textwrap
import time

import pytest
import requests

from infra.local.stack import LocalStack

APP = '''
import json, os
import boto3
from chalice import Chalice

app = Chalice(app_name='stack-probe')
app.experimental_feature_flags.update(['WEBSOCKETS'])
app.websocket_api.session = boto3.session.Session()


@app.route('/ping')
def ping():
    return {'pong': True, 'table': os.environ['BROKER_TABLE'], 'stage': os.environ['STAGE'],
            'ws': os.environ['LOCAL_WS_ENDPOINT']}


@app.route('/jobs', methods=['POST'])
def enqueue():
    body = app.current_request.json_body
    boto3.client('sqs').send_message(
        QueueUrl=boto3.client('sqs').get_queue_url(QueueName=os.environ['MATCHING_QUEUE'])['QueueUrl'],
        MessageBody=json.dumps(body), MessageGroupId='BTCUSDT', MessageDeduplicationId=body['id'])
    return {'queued': body['id']}


@app.on_ws_connect()
def connect(event):
    return None


@app.on_ws_message()
def message(event):
    app.websocket_api.send(event.connection_id, json.dumps({'you': event.connection_id}))


@app.on_sqs_message(queue='broker-matching.fifo', batch_size=5)
def matcher(event):
    table = boto3.resource('dynamodb').Table(os.environ['BROKER_TABLE'])
    app.websocket_api.configure_from_api_id(os.environ['WS_API_ID'], os.environ['WS_STAGE'])
    for record in event:
        job = json.loads(record.body)
        group = record.to_dict()['attributes']['MessageGroupId']
        table.put_item(Item={'pk': 'JOB#' + job['id'], 'sk': 'META', 'group': group})
        app.websocket_api.send(job['cid'], json.dumps({'done': job['id'], 'group': group}))
'''

SEED = '''
def seed_demo():
    import boto3, os
    boto3.client('dynamodb').put_item(TableName=os.environ['BROKER_TABLE'],
                                      Item={'pk': {'S': 'DEMO'}, 'sk': {'S': 'USER'}})
    return {'demo_user': 'alice@example.com', 'demo_password': 'pw'}
'''

CONFIG = {
    'version': '2.0', 'app_name': 'stack-probe',
    'environment_variables': {'BROKER_TABLE': 'broker-main', 'MATCHING_QUEUE': 'broker-matching.fifo'},
    'stages': {'local': {'api_gateway_stage': 'api', 'environment_variables': {
        'STAGE': 'local', 'UPLOADS_BUCKET': 'probe-uploads-local',
        'LOCAL_WS_ENDPOINT': 'http://127.0.0.1:8002/api'}}},
}


@pytest.fixture
def project(tmp_path):
    (tmp_path / 'app.py').write_text(textwrap.dedent(APP))
    (tmp_path / 'probe_seed.py').write_text(textwrap.dedent(SEED))
    (tmp_path / '.chalice').mkdir()
    (tmp_path / '.chalice' / 'config.json').write_text(json.dumps(CONFIG))
    return tmp_path


def port_is_closed(port):
    with socket.socket() as s:
        return s.connect_ex(('127.0.0.1', port)) != 0


def test_the_local_stack_serves_rest_websockets_and_sqs_workers_and_stops_cleanly(project):
    from websockets.sync.client import connect
    stack = LocalStack(str(project), seed='probe_seed:seed_demo')
    stack.start()
    try:
        assert stack.info['demo_user'] == 'alice@example.com'
        for key in ('rest_url', 'ws_url', 'connections_url', 'aws_endpoint', 'health_url'):
            assert stack.info[key]
        ping = requests.get(stack.rest_url + '/ping', timeout=5).json()
        assert ping == {'pong': True, 'table': 'broker-main', 'stage': 'local',
                        'ws': stack.connections_url}
        ddb = stack.client('dynamodb')
        assert ddb.get_item(TableName='broker-main',
                            Key={'pk': {'S': 'DEMO'}, 'sk': {'S': 'USER'}})['Item']
        assert stack.client('s3').head_bucket(Bucket='probe-uploads-local')

        with connect(stack.ws_url + '/openapi/ws/key') as ws:
            ws.send('who')
            cid = json.loads(ws.recv(timeout=5))['you']
            for job in ('j1', 'j2'):
                assert requests.post(stack.rest_url + '/jobs', json={'id': job, 'cid': cid},
                                     timeout=5).json() == {'queued': job}
            got = [json.loads(ws.recv(timeout=10)) for _ in range(2)]
        assert got == [{'done': 'j1', 'group': 'BTCUSDT'}, {'done': 'j2', 'group': 'BTCUSDT'}]
        assert ddb.get_item(TableName='broker-main',
                            Key={'pk': {'S': 'JOB#j2'}, 'sk': {'S': 'META'}})['Item']

        deadline = time.monotonic() + 10   # the poller deletes after the handler returns
        while stack.health()['pollers']['matcher']['processed'] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        health = stack.health()
        assert health['status'] == 'ok', health
        assert health['pollers']['matcher']['alive'] and health['pollers']['matcher']['processed'] == 2
    finally:
        stack.stop()
    for name, port in stack.ports.items():
        deadline = time.monotonic() + 5
        while not port_is_closed(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert port_is_closed(port), f'{name} {port} still open'


def test_running_the_stack_again_starts_from_fresh_moto_state(project):
    with LocalStack(str(project), seed=False) as stack:
        ddb = stack.client('dynamodb')
        assert 'Item' not in ddb.get_item(TableName='broker-main',
                                          Key={'pk': {'S': 'DEMO'}, 'sk': {'S': 'USER'}})
        assert requests.get(stack.health_url, timeout=5).json()['status'] == 'ok'
    assert not os.path.exists(os.path.join(stack.state_dir or '', 'stack.json'))
