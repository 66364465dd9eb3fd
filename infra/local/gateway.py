"""A local stand-in for API Gateway WebSocket APIs.

``WebSocketGateway`` accepts sockets (``websockets`` library) and turns them into the
Lambda events API Gateway sends: ``$connect`` on the handshake (a handler answer with
statusCode >= 300 refuses the handshake with that HTTP status), ``$default`` for each
frame, ``$disconnect`` when the socket closes. The socket's URL path and query string
reach ``$connect`` as ``queryStringParameters`` plus ``__path`` (the URL path), so the
path-style URLs real SDKs use work locally; production has one URL per stage.

``ConnectionsServer`` is the ``@connections`` management API on a plain HTTP port:
``POST|GET|DELETE /{stage}/@connections/{connectionId}`` (unknown id: HTTP 410 with
``x-amzn-ErrorType: GoneException``, which boto3 and Chalice turn into
``GoneException`` / ``WebsocketDisconnectedError``), and ``GET /health``.

Handlers are invoked through a callable ``invoke(route_key, event) -> response`` in a
thread pool, so a handler that posts back to a socket cannot block the event loop.
Frames of one connection are handled in order, one at a time.
"""
from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import datetime as dt
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote, urlsplit

log = logging.getLogger('infra.local.gateway')

Invoke = Callable[[str, dict], Any]


def _now_ms() -> int:
    return int(time.time() * 1000)


def _request_time(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime('%d/%b/%Y:%H:%M:%S +0000')


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).isoformat().replace('+00:00', 'Z')


def new_connection_id() -> str:
    """16 characters like API Gateway's ('L0SM9cOFvHcCIhw='), URL-safe alphabet."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


@dataclass
class Connection:
    connection_id: str
    ws: Any
    connected_at: int
    source_ip: str
    user_agent: str
    last_active: int = field(default_factory=_now_ms)


class WebSocketGateway:
    def __init__(self, invoke: Invoke, *, host: str = '127.0.0.1', port: int = 8001,
                 stage: str = 'api', api_id: str = 'local', max_workers: int = 16,
                 has_route: Callable[[str], bool] | None = None):
        self.invoke = invoke
        self.host = host
        self.port = port
        self.stage = stage
        self.api_id = api_id
        self.has_route = has_route or (lambda route: True)
        self.connections: dict[str, Connection] = {}
        self._lock = threading.Lock()
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix='ws-handler')
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._error: BaseException | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 10.0) -> 'WebSocketGateway':
        self._thread = threading.Thread(target=self._run, name='ws-gateway', daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError('websocket gateway did not start')
        if self._error:
            raise self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # noqa: BLE001
            self._error = exc
            self._ready.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        from websockets.asyncio.server import serve
        self._stopped = asyncio.Event()
        async with serve(self._handler, self.host, self.port,
                         process_request=self._process_request,
                         select_subprotocol=self._select_subprotocol,
                         max_size=128 * 1024,  # API Gateway's frame limit is 32 KB, messages 128 KB
                         ping_interval=None) as server:
            self._server = server
            self.port = server.sockets[0].getsockname()[1] if server.sockets else self.port
            self._ready.set()
            await self._stopped.wait()
            # Closing the server closes the sockets; their handlers fire $disconnect.
            server.close(close_connections=True)
            await server.wait_closed()

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._stopped is not None and self._thread and \
                self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopped.set)
            self._thread.join(timeout)
        self._executor.shutdown(wait=False, cancel_futures=True)

    def alive(self) -> bool:
        return bool(self._thread and self._thread.is_alive() and self._ready.is_set()
                    and self._error is None)

    @property
    def url(self) -> str:
        return f'ws://{self.host}:{self.port}'

    @property
    def domain_name(self) -> str:
        return f'{self.host}:{self.port}'

    # --------------------------------------------------------------------- events

    def _context(self, route_key: str, event_type: str, conn: Connection | Any,
                 **extra: Any) -> dict:
        now = _now_ms()
        ctx = {
            'routeKey': route_key,
            'eventType': event_type,
            'extendedRequestId': uuid.uuid4().hex[:16] + '=',
            'requestTime': _request_time(now),
            'messageDirection': 'IN',
            'stage': self.stage,
            'connectedAt': conn.connected_at,
            'requestTimeEpoch': now,
            'identity': {'sourceIp': conn.source_ip, 'userAgent': conn.user_agent},
            'requestId': str(uuid.uuid4()),
            'domainName': self.domain_name,
            'connectionId': conn.connection_id,
            'apiId': self.api_id,
        }
        ctx.update(extra)
        return ctx

    async def _call(self, route_key: str, event: dict) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.invoke, route_key, event)

    async def _process_request(self, connection: Any, request: Any) -> Any:
        split = urlsplit(request.path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        qs: dict[str, str] = {}
        mqs: dict[str, list[str]] = {}
        for k, v in pairs:
            qs[k] = v
            mqs.setdefault(k, []).append(v)
        qs['__path'] = unquote(split.path) or '/'
        mqs['__path'] = [qs['__path']]
        headers: dict[str, str] = {}
        mheaders: dict[str, list[str]] = {}
        for k, v in request.headers.raw_items():
            headers[k] = v if k not in headers else headers[k] + ',' + v
            mheaders.setdefault(k, []).append(v)
        remote = connection.remote_address or ('127.0.0.1', 0)
        headers.setdefault('X-Forwarded-For', remote[0])
        headers.setdefault('X-Forwarded-Port', str(self.port))
        headers.setdefault('X-Forwarded-Proto', 'http')
        conn = Connection(connection_id=new_connection_id(), ws=connection,
                          connected_at=_now_ms(), source_ip=remote[0],
                          user_agent=headers.get('User-Agent', ''))
        connection.gateway_connection = conn
        connection.gateway_subprotocol = None
        if not self.has_route('$connect'):
            return None
        event = {
            'headers': headers,
            'multiValueHeaders': mheaders,
            'queryStringParameters': qs,
            'multiValueQueryStringParameters': mqs,
            'requestContext': self._context('$connect', 'CONNECT', conn),
            'isBase64Encoded': False,
        }
        try:
            response = await self._call('$connect', event)
        except Exception:  # noqa: BLE001 - a failing $connect Lambda refuses the socket
            log.exception('$connect handler failed')
            return connection.respond(HTTPStatus.INTERNAL_SERVER_ERROR, 'Internal server error\n')
        status = 200
        if isinstance(response, dict):
            status = int(response.get('statusCode', 200) or 200)
            proto = (response.get('headers') or {}).get('Sec-WebSocket-Protocol')
            connection.gateway_subprotocol = proto
        if status >= 300:
            body = response.get('body') if isinstance(response, dict) else None
            if isinstance(body, str) and body:
                text = body
            else:
                try:
                    text = HTTPStatus(status).phrase + '\n'
                except ValueError:
                    text = 'Refused\n'
            return connection.respond(status, text)
        return None

    def _select_subprotocol(self, connection: Any, subprotocols: Any) -> Any:
        chosen = getattr(connection, 'gateway_subprotocol', None)
        return chosen if chosen in (subprotocols or []) else None

    async def _handler(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed
        conn: Connection = ws.gateway_connection
        with self._lock:
            self.connections[conn.connection_id] = conn
        log.info('ws %s connected (%s)', conn.connection_id, ws.request.path if ws.request else '')
        close_code, close_reason = 1000, ''
        try:
            async for frame in ws:
                conn.last_active = _now_ms()
                if isinstance(frame, bytes):
                    body, b64 = base64.b64encode(frame).decode(), True
                else:
                    body, b64 = frame, False
                if not self.has_route('$default'):
                    continue
                event = {
                    'requestContext': self._context('$default', 'MESSAGE', conn,
                                                    messageId=uuid.uuid4().hex[:16] + '='),
                    'body': body,
                    'isBase64Encoded': b64,
                }
                try:
                    await self._call('$default', event)
                except Exception:  # noqa: BLE001 - API Gateway keeps the socket open
                    log.exception('$default handler failed (connection %s)', conn.connection_id)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self.connections.pop(conn.connection_id, None)
            if getattr(ws, 'close_code', None) is not None:
                close_code, close_reason = ws.close_code, ws.close_reason or ''
            log.info('ws %s disconnected (%s)', conn.connection_id, close_code)
            if self.has_route('$disconnect'):
                event = {
                    'headers': {'Host': self.domain_name, 'x-api-key': '', 'X-Forwarded-For': '',
                                'x-restapi': ''},
                    'multiValueHeaders': {'Host': [self.domain_name]},
                    'requestContext': self._context(
                        '$disconnect', 'DISCONNECT', conn,
                        disconnectStatusCode=close_code, disconnectReason=close_reason),
                    'isBase64Encoded': False,
                }
                try:
                    await self._call('$disconnect', event)
                except Exception:  # noqa: BLE001
                    log.exception('$disconnect handler failed (connection %s)', conn.connection_id)

    # ----------------------------------------------------------- management API

    def _run_on_loop(self, coro: Any, timeout: float = 10.0) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def post(self, connection_id: str, data: bytes) -> bool:
        """Send ``data`` to a socket (text frame if UTF-8, else binary). False: gone."""
        from websockets.exceptions import ConnectionClosed
        conn = self.connections.get(connection_id)
        if conn is None:
            return False
        try:
            payload: str | bytes = data.decode('utf-8')
        except UnicodeDecodeError:
            payload = data
        try:
            self._run_on_loop(conn.ws.send(payload))
        except ConnectionClosed:
            return False
        conn.last_active = _now_ms()
        return True

    def info(self, connection_id: str) -> dict | None:
        conn = self.connections.get(connection_id)
        if conn is None:
            return None
        return {'connectedAt': _iso(conn.connected_at),
                'identity': {'sourceIp': conn.source_ip, 'userAgent': conn.user_agent},
                'lastActiveAt': _iso(conn.last_active)}

    def disconnect(self, connection_id: str) -> bool:
        conn = self.connections.get(connection_id)
        if conn is None:
            return False
        self._run_on_loop(conn.ws.close(1000, 'Going away'))
        return True

    def health(self) -> dict:
        return {'alive': self.alive(), 'url': self.url, 'connections': len(self.connections)}


class ConnectionsServer:
    """``/{stage}/@connections/{id}`` (POST/GET/DELETE) and ``GET /health``."""

    def __init__(self, gateway: WebSocketGateway, *, host: str = '127.0.0.1', port: int = 8002,
                 stage: str = 'api', health: Callable[[], dict] | None = None):
        self.gateway = gateway
        self.stage = stage
        self.health = health or (lambda: {'status': 'ok', 'ws': gateway.health()})
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'
            server_version = 'LocalApiGatewayManagement/1.0'

            def log_message(self, fmt: str, *args: Any) -> None:  # quiet: debug log only
                log.debug('@connections %s', fmt % args)

            def _send(self, status: int, body: Any = None, error_type: str | None = None) -> None:
                raw = b'' if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(raw)))
                if error_type:
                    self.send_header('x-amzn-ErrorType', error_type)
                self.end_headers()
                if raw:
                    self.wfile.write(raw)

            def _read_body(self) -> bytes:
                length = int(self.headers.get('Content-Length') or 0)
                return self.rfile.read(length) if length else b''

            def _connection_id(self) -> str | None:
                parts = urlsplit(self.path).path.split('/')
                # ['', stage, '@connections', id]
                if len(parts) == 4 and parts[2] == '@connections' and parts[3]:
                    if parts[1] != outer.stage:
                        return ''
                    return unquote(parts[3])
                return None

            def _dispatch(self, method: str) -> None:
                body = self._read_body()
                if urlsplit(self.path).path == '/health' and method == 'GET':
                    report = outer.health()
                    self._send(200 if report.get('status') == 'ok' else 503, report)
                    return
                cid = self._connection_id()
                if cid is None:
                    self._send(404, {'message': 'Not Found'})
                    return
                if cid == '':
                    self._send(403, {'message': 'Forbidden'}, 'ForbiddenException')
                    return
                if method == 'POST':
                    ok = outer.gateway.post(cid, body)
                    self._send(200) if ok else self._gone()
                elif method == 'GET':
                    info = outer.gateway.info(cid)
                    self._send(200, info) if info else self._gone()
                elif method == 'DELETE':
                    ok = outer.gateway.disconnect(cid)
                    self._send(204) if ok else self._gone()
                else:
                    self._send(405, {'message': 'Method Not Allowed'})

            def _gone(self) -> None:
                self._send(410, {'message': None}, 'GoneException')

            def do_POST(self) -> None:  # noqa: N802
                self._dispatch('POST')

            def do_GET(self) -> None:  # noqa: N802
                self._dispatch('GET')

            def do_DELETE(self) -> None:  # noqa: N802
                self._dispatch('DELETE')

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.httpd = Server((host, port), Handler)
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    def start(self) -> 'ConnectionsServer':
        self._thread = threading.Thread(target=self.httpd.serve_forever, name='connections-api',
                                        kwargs={'poll_interval': 0.2}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread and self._thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()

    def alive(self) -> bool:
        return bool(self._thread and self._thread.is_alive())

    @property
    def url(self) -> str:
        return f'http://{self.host}:{self.port}/{self.stage}'

    @property
    def health_url(self) -> str:
        return f'http://{self.host}:{self.port}/health'
