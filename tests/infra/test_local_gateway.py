"""The local WebSocket gateway and @connections endpoint behave like API Gateway."""
from __future__ import annotations

import asyncio
import json
import queue

import boto3
import pytest
import requests
from chalice import Chalice, WebsocketDisconnectedError

from infra.local.devserver import DevServer


def make_app(events: 'queue.Queue'):
    app = Chalice(app_name='gateway-test')
    app.experimental_feature_flags.update(['WEBSOCKETS'])

    @app.on_ws_connect()
    def connect(event):
        raw = event.to_dict()
        events.put(('connect', raw))
        if raw['queryStringParameters'].get('deny'):
            return {'statusCode': 403}
        return None

    @app.on_ws_message()
    def message(event):
        events.put(('message', event.to_dict()))
        app.websocket_api.send(event.connection_id, 'echo:' + event.body)

    @app.on_ws_disconnect()
    def disconnect(event):
        events.put(('disconnect', event.to_dict()))

    return app


def next_event(events, kind, timeout=5):
    while True:
        got_kind, event = events.get(timeout=timeout)
        if got_kind == kind:
            return event


@pytest.fixture
def gateway_server(aws_env):
    events: queue.Queue = queue.Queue()
    app = make_app(events)
    server = DevServer(None, app=app, rest=False, pollers=False, rest_port=0, ws_port=0,
                       connections_port=0)
    server.start()
    try:
        yield server, app, events
    finally:
        server.stop()


def test_a_websocket_connect_reaches_the_handler_as_an_api_gateway_event(gateway_server):
    from websockets.sync.client import connect
    server, app, events = gateway_server
    with connect(f'{server.ws_url}/openapi/ws/LISTENKEY123?lang=en&x=1&x=2',
                 additional_headers={'X-Client': 'sdk'}) as ws:
        event = next_event(events, 'connect')
        ctx = event['requestContext']
        assert ctx['routeKey'] == '$connect' and ctx['eventType'] == 'CONNECT'
        assert ctx['stage'] == 'api' and ctx['apiId'] == 'local'
        assert ctx['identity']['sourceIp'] == '127.0.0.1'
        for key in ('connectionId', 'domainName', 'requestId', 'connectedAt'):
            assert ctx[key]
        qs = event['queryStringParameters']
        assert qs['__path'] == '/openapi/ws/LISTENKEY123'
        assert qs['lang'] == 'en' and qs['x'] == '2'
        assert event['multiValueQueryStringParameters']['x'] == ['1', '2']
        assert event['headers']['X-Client'] == 'sdk'

        ws.send('hello')
        msg = next_event(events, 'message')
        assert msg['body'] == 'hello'
        assert msg['requestContext']['routeKey'] == '$default'
        assert msg['requestContext']['connectionId'] == ctx['connectionId']
        assert ws.recv(timeout=5) == 'echo:hello'
    gone = next_event(events, 'disconnect')
    assert gone['requestContext']['eventType'] == 'DISCONNECT'
    assert gone['requestContext']['connectionId'] == ctx['connectionId']


def test_posting_to_a_connection_delivers_a_frame_and_an_unknown_id_is_gone(gateway_server):
    from websockets.sync.client import connect
    server, app, events = gateway_server
    mgmt = boto3.client('apigatewaymanagementapi', endpoint_url=server.connections_url,
                        region_name='us-east-1')
    with connect(server.ws_url) as ws:
        cid = next_event(events, 'connect')['requestContext']['connectionId']
        mgmt.post_to_connection(ConnectionId=cid, Data=b'{"e":"trade"}')
        assert json.loads(ws.recv(timeout=5)) == {'e': 'trade'}
        info = mgmt.get_connection(ConnectionId=cid)
        assert info['Identity']['SourceIp'] == '127.0.0.1'

        raw = requests.post(f'{server.connections_url}/@connections/nope', data=b'x', timeout=5)
        assert raw.status_code == 410 and raw.headers['x-amzn-ErrorType'] == 'GoneException'
        with pytest.raises(mgmt.exceptions.GoneException):
            mgmt.post_to_connection(ConnectionId='nope', Data=b'x')
        # Chalice's own send path turns it into WebsocketDisconnectedError
        app.websocket_api.configure_from_api_id('local', 'api')
        with pytest.raises(WebsocketDisconnectedError):
            app.websocket_api.send('nope', 'x')

        mgmt.delete_connection(ConnectionId=cid)   # server-side close fires $disconnect
        assert next_event(events, 'disconnect')['requestContext']['connectionId'] == cid
    with pytest.raises(mgmt.exceptions.GoneException):
        mgmt.post_to_connection(ConnectionId=cid, Data=b'late')


def test_a_connect_handler_answering_403_refuses_the_handshake(gateway_server):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect
    server, app, events = gateway_server
    with pytest.raises(InvalidStatus) as err:
        connect(f'{server.ws_url}/?deny=1', open_timeout=5)
    assert err.value.response.status_code == 403
    next_event(events, 'connect')
    assert not server.gateway.connections


def test_the_health_endpoint_reports_every_part(gateway_server):
    server, app, events = gateway_server
    report = requests.get(server.health_url, timeout=5).json()
    assert report['status'] == 'ok'
    assert report['ws_gateway']['alive'] and report['connections']['alive']
    assert report['pollers'] == {}


def test_many_sockets_can_talk_at_once(gateway_server):
    import websockets
    server, app, events = gateway_server

    async def one(i):
        async with websockets.connect(server.ws_url) as ws:
            await ws.send(f'm{i}')
            return await asyncio.wait_for(ws.recv(), 5)

    async def main():
        return await asyncio.gather(*(one(i) for i in range(10)))

    assert sorted(asyncio.run(main())) == sorted(f'echo:m{i}' for i in range(10))
