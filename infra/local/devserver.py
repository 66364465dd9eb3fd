"""The local dev server: one process that stands in for API Gateway, Lambda and the
SQS event source mappings, around the project's own Chalice app.

* REST: Chalice's own local server (``chalice.local``), without the reloader.
* WebSocket: ``infra.local.gateway`` turns sockets into ``$connect`` / ``$default`` /
  ``$disconnect`` events for the handlers declared with ``@app.on_ws_*``.
* ``@connections``: ``POST|GET|DELETE /{stage}/@connections/{id}`` plus ``GET /health``;
  ``app.websocket_api.session`` is pointed here (``LOCAL_WS_ENDPOINT``).
* SQS: one poller thread per ``@app.on_sqs_message`` event source (found in
  ``app.event_sources``), feeding Lambda-shaped FIFO records to the handler.

The app is loaded the way ``chalice local`` loads it: ``CLIFactory(project_dir)
.create_config_obj(chalice_stage_name=stage)`` so ``.chalice/config.json`` stays the
source of the stage's environment variables, which are exported into ``os.environ``
before ``app.py`` is imported (plus the local endpoints: ``AWS_ENDPOINT_URL`` et al.,
``LOCAL_WS_ENDPOINT``, ``WS_API_ID``, ``WS_STAGE``).

Run it alone against a running moto server (``infra.local.run`` does everything)::

    python -m infra.local.devserver --moto-endpoint http://127.0.0.1:5000
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Any

from infra.local.gateway import ConnectionsServer, WebSocketGateway
from infra.local.sqs_poller import SqsPoller

log = logging.getLogger('infra.local.devserver')

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DEFAULT_PORTS = {'MOTO_PORT': 5000, 'REST_PORT': 8000, 'WS_PORT': 8001, 'CONNECTIONS_PORT': 8002}


def quiet_loggers() -> None:
    """The app logs at INFO (like `chalice local`); the AWS SDK and sockets only warn."""
    for name in ('botocore', 'boto3', 'urllib3', 'websockets', 's3transfer'):
        logging.getLogger(name).setLevel(logging.WARNING)


def port_from_env(name: str, env: Any = None) -> int:
    env = os.environ if env is None else env
    return int(env.get(name) or DEFAULT_PORTS[name])


class DevServer:
    def __init__(self, project_dir: str | None = ROOT, *, app: Any = None, config: Any = None,
                 stage: str = 'local', host: str = '127.0.0.1', rest_port: int = 8000,
                 ws_port: int = 8001, connections_port: int = 8002,
                 moto_endpoint: str | None = None, region: str = 'us-east-1',
                 ws_api_id: str = 'local', rest: bool = True, pollers: bool = True,
                 sqs_one_per_group: bool = True, sqs_wait_seconds: int = 1,
                 sqs_retry_visibility_timeout: int | None = None,
                 schedules: bool = False, schedule_interval: float | None = None):
        self.project_dir = project_dir
        self.app = app
        self.config = config
        self.stage = stage
        self.host = host
        self.rest_port = rest_port
        self.region = region
        self.moto_endpoint = moto_endpoint
        self.ws_api_id = ws_api_id
        self.enable_rest = rest
        self.enable_pollers = pollers
        self.sqs_one_per_group = sqs_one_per_group
        self.sqs_wait_seconds = sqs_wait_seconds
        self.sqs_retry_visibility_timeout = sqs_retry_visibility_timeout
        self.enable_schedules = schedules
        self.schedule_interval = schedule_interval
        self.api_stage = 'api'
        self.gateway = WebSocketGateway(self._invoke_ws, host=host, port=ws_port,
                                        stage=self.api_stage, api_id=ws_api_id,
                                        has_route=self._has_ws_route)
        self._ws_port_requested = ws_port
        self._connections_port_requested = connections_port
        self.connections: ConnectionsServer | None = None
        self.rest_server: Any = None
        self._rest_thread: threading.Thread | None = None
        self.pollers: list[SqsPoller] = []
        self.schedules: list[Any] = []
        self._loaded = False
        self._started = False
        self._factory: Any = None
        self._env: dict[str, str] = {}

    # ------------------------------------------------------------------ loading

    def _bind_connections(self) -> None:
        if self.connections is None:
            self.connections = ConnectionsServer(self.gateway, host=self.host,
                                                 port=self._connections_port_requested,
                                                 stage=self.api_stage, health=self.health)

    def local_env(self) -> dict[str, str]:
        """The variables the dev server forces on top of the stage's config."""
        self._bind_connections()
        assert self.connections is not None
        env = {'LOCAL_WS_ENDPOINT': self.connections.url, 'WS_API_ID': self.ws_api_id,
               'WS_STAGE': self.api_stage, 'AWS_DEFAULT_REGION': self.region,
               'AWS_REGION': self.region}
        if self.moto_endpoint:
            env.update({'AWS_ENDPOINT_URL': self.moto_endpoint, 'AWS_ACCESS_KEY_ID': 'testing',
                        'AWS_SECRET_ACCESS_KEY': 'testing'})
        return env

    def export_env(self) -> dict[str, str]:
        """Read the stage config and export its environment (without importing the app)."""
        self._bind_connections()
        if self.app is None and self._factory is None:
            from chalice.cli.factory import CLIFactory
            self._factory = CLIFactory(self.project_dir)
            config = self._factory.create_config_obj(chalice_stage_name=self.stage)
            self.api_stage = config.api_gateway_stage or 'api'
            self.gateway.stage = self.api_stage
            assert self.connections is not None
            self.connections.stage = self.api_stage
            env = {k: str(v) for k, v in config.environment_variables.items()}
            env.update(self.local_env())
            os.environ.update(env)
            self.config = config
            self._env = env
        elif self.app is not None:
            self._env = self.local_env()
            os.environ.update(self._env)
        return dict(self._env)

    def load(self) -> Any:
        """Export the stage's environment and import the app (once)."""
        if self._loaded:
            return self.app
        self.export_env()
        if self.app is None:
            assert self._factory is not None
            if self.project_dir not in sys.path:
                sys.path.insert(0, self.project_dir)
            app = self._factory.load_chalice_app(self._env)
            self.config._chalice_app = app   # config.chalice_app must not re-import / re-export
            self.app = app
        else:
            from chalice.config import Config
            if self.config is None:
                self.config = Config.create(chalice_app=self.app, chalice_stage=self.stage,
                                            api_gateway_stage=self.api_stage, lambda_timeout=60)
        from infra.local.ws_session import LocalWebsocketSession
        assert self.connections is not None
        self.app.websocket_api.session = LocalWebsocketSession(self.connections.url,
                                                               region_name=self.region)
        self._loaded = True
        return self.app

    # --------------------------------------------------------------- invocation

    def lambda_context(self, function_name: str) -> Any:
        from chalice.local import LambdaContext
        timeout, memory = 60, 128
        try:
            scoped = self.config.scope(self.stage, function_name)
            timeout = scoped.lambda_timeout or timeout
            memory = scoped.lambda_memory_size or memory
        except Exception:  # noqa: BLE001 - an app given without project config
            pass
        return LambdaContext(function_name=function_name, memory_size=memory,
                             max_runtime_ms=int(timeout) * 1000)

    def _has_ws_route(self, route_key: str) -> bool:
        return self.app is not None and route_key in self.app.websocket_handlers

    def _invoke_ws(self, route_key: str, event: dict) -> Any:
        cfg = self.app.websocket_handlers.get(route_key)
        if cfg is None:
            return {'statusCode': 200}
        handler = self.app.handler_map[cfg.name]
        return handler(event, self.lambda_context(cfg.name))

    def sqs_sources(self) -> list[Any]:
        from chalice.app import SQSEventConfig
        return [es for es in self.app.event_sources if isinstance(es, SQSEventConfig)]

    def _make_poller(self, es: Any) -> SqsPoller:
        import boto3
        queue = es.queue or es.queue_arn.rsplit(':', 1)[-1]
        handler = self.app.handler_map[es.name]
        region = self.region
        return SqsPoller(
            name=es.name, queue_name=queue, handler=handler, batch_size=es.batch_size,
            client_factory=lambda: boto3.session.Session().client('sqs', region_name=region),
            region=region, one_per_group=self.sqs_one_per_group,
            wait_seconds=self.sqs_wait_seconds,
            retry_visibility_timeout=self.sqs_retry_visibility_timeout,
            context_factory=lambda: self.lambda_context(es.name))

    def _start_schedules(self) -> None:
        from chalice.app import ScheduledEventConfig

        from infra.local.scheduler import ScheduleRunner
        for es in self.app.event_sources:
            if not isinstance(es, ScheduledEventConfig):
                continue
            runner = ScheduleRunner(
                name=es.name, expression=es.schedule_expression,
                handler=self.app.handler_map[es.name], region=self.region,
                context_factory=lambda name=es.name: self.lambda_context(name),
                interval_override=self.schedule_interval)
            if runner.runnable:
                runner.start()
            else:
                log.warning('schedule %s (%s) is not run locally: only rate() is supported',
                            es.name, runner.expression)
            self.schedules.append(runner)

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> 'DevServer':
        self.load()
        assert self.connections is not None
        self.connections.start()
        if self.enable_rest:
            from chalice.deploy.validate import validate_routes
            from chalice.local import create_local_server
            validate_routes(self.app.routes)
            self.rest_server = create_local_server(self.app, self.config, self.host, self.rest_port)
            self.rest_port = self.rest_server.server.server_address[1]
            self._rest_thread = threading.Thread(target=self.rest_server.server.serve_forever,
                                                 kwargs={'poll_interval': 0.2},
                                                 name='rest', daemon=True)
            self._rest_thread.start()
        self.gateway.start()
        if self.enable_pollers:
            for es in self.sqs_sources():
                poller = self._make_poller(es)
                poller.start()
                self.pollers.append(poller)
            for poller in self.pollers:
                poller.ready.wait(poller.queue_wait_timeout + 5)
        if self.enable_schedules:
            self._start_schedules()
        self._started = True
        return self

    def stop(self) -> None:
        for p in self.pollers:
            p.stop()
        for r in self.schedules:
            r.stop()
        self.gateway.stop()
        if self.rest_server is not None:
            if self._rest_thread and self._rest_thread.is_alive():
                self.rest_server.server.shutdown()
            self.rest_server.server.server_close()
        if self.connections is not None:
            self.connections.stop()
        for p in self.pollers:
            p.join(self.sqs_wait_seconds + 5)
        for r in self.schedules:
            if r.is_alive():
                r.join(5)
        self._started = False

    def __enter__(self) -> 'DevServer':
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ reports

    @property
    def rest_url(self) -> str:
        return f'http://{self.host}:{self.rest_port}'

    @property
    def ws_url(self) -> str:
        return self.gateway.url

    @property
    def connections_url(self) -> str:
        self._bind_connections()
        assert self.connections is not None
        return self.connections.url

    @property
    def health_url(self) -> str:
        self._bind_connections()
        assert self.connections is not None
        return self.connections.health_url

    def health(self) -> dict:
        ok = True
        rest_alive = bool(self._rest_thread and self._rest_thread.is_alive())
        report: dict[str, Any] = {
            'rest': {'alive': rest_alive, 'url': self.rest_url, 'enabled': self.enable_rest},
            'ws_gateway': self.gateway.health(),
            'connections': {'alive': bool(self.connections and self.connections.alive()),
                            'url': self.connections.url if self.connections else None},
            'pollers': {},
            'schedules': {r.handler_name: r.health() for r in self.schedules},
        }
        if self.enable_rest and not rest_alive:
            ok = False
        if not report['ws_gateway']['alive'] or not report['connections']['alive']:
            ok = False
        stale_after = self.sqs_wait_seconds + 10
        for p in self.pollers:
            h = p.health()
            h['fresh'] = h['last_poll'] is not None and time.time() - h['last_poll'] < stale_after
            report['pollers'][p.handler_name] = h
            ok = ok and h['alive'] and h['fresh']
        report['status'] = 'ok' if ok else 'degraded'
        return report


def main(argv: list[str] | None = None) -> int:
    import argparse
    import signal
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--project-dir', default=ROOT)
    ap.add_argument('--stage', default='local')
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--moto-endpoint',
                    default=f'http://127.0.0.1:{port_from_env("MOTO_PORT")}')
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    quiet_loggers()
    server = DevServer(args.project_dir, stage=args.stage, host=args.host,
                       rest_port=port_from_env('REST_PORT'), ws_port=port_from_env('WS_PORT'),
                       connections_port=port_from_env('CONNECTIONS_PORT'),
                       moto_endpoint=args.moto_endpoint,
                       sqs_retry_visibility_timeout=_retry_from_env(),
                       **schedule_options_from_env())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    print(f'REST {server.rest_url}  WS {server.ws_url}  @connections {server.connections_url}  '
          f'health {server.health_url}', flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def schedule_options_from_env() -> dict:
    """LOCAL_SCHEDULES=1 runs @app.schedule handlers; LOCAL_SCHEDULE_INTERVAL=s overrides
    every rate (both opt-in: production-like background work off by default)."""
    interval = os.environ.get('LOCAL_SCHEDULE_INTERVAL')
    return {'schedules': os.environ.get('LOCAL_SCHEDULES') == '1',
            'schedule_interval': float(interval) if interval else None}


def _retry_from_env() -> int | None:
    value = os.environ.get('LOCAL_SQS_RETRY_SECONDS')
    return int(value) if value else None


if __name__ == '__main__':
    raise SystemExit(main())
