"""Run the whole local stack: ``python -m infra.local.run`` (``make run``).

1. starts the patched moto server as a child process (fresh state every run);
2. reads the ``local`` stage of ``.chalice/config.json`` and exports its variables;
3. creates every resource of ``infra/resources.yaml`` in moto (``infra.provision``);
4. imports ``app.py`` and calls ``infra.local.seed.seed_demo()`` (demo data; returns the
   demo credentials);
5. serves REST, the WebSocket gateway, ``@connections`` + ``/health`` and the SQS
   pollers from this process (``infra.local.devserver``);
6. prints every URL and the credentials and writes them to ``.local/stack.json``
   (``rest_url``, ``ws_url``, ``connections_url``, ``aws_endpoint``, ``health_url``,
   plus what ``seed_demo`` returned).

Ctrl-C or SIGTERM stops everything (the moto child too) and removes stack.json.
Ports: MOTO_PORT, REST_PORT, WS_PORT, CONNECTIONS_PORT (defaults 5000/8000/8001/8002).
``LOCAL_SQS_RETRY_SECONDS=N`` makes a failed SQS message come back after N seconds
instead of the queue's visibility timeout (360 s). ``LOCAL_SCHEDULES=1`` also runs the
``@app.schedule`` handlers at their rate (``LOCAL_SCHEDULE_INTERVAL=s`` to speed them up).
Logs: this process to stdout, the moto server to ``.local/moto.log``.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from infra.local.devserver import (
    ROOT,
    DevServer,
    port_from_env,
    quiet_loggers,
    schedule_options_from_env,
)
from infra.local.util import port_is_free, wait_for_port

PORT_VARS = ('MOTO_PORT', 'REST_PORT', 'WS_PORT', 'CONNECTIONS_PORT')
BASE_KEYS = ('rest_url', 'ws_url', 'connections_url', 'aws_endpoint', 'health_url')


class _Stop(Exception):
    pass


def start_moto(host: str, port: int, log_path: str, env: dict | None = None) -> subprocess.Popen:
    log = open(log_path, 'ab')  # noqa: SIM115 - handed to the child
    try:
        proc = subprocess.Popen(
            [sys.executable, '-m', 'infra.local.moto_server', '--host', host, '--port', str(port),
             '--parent-pid', str(os.getpid())],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {}), 'PYTHONPATH': _pythonpath()},
            # Its own session: a terminal's Ctrl-C reaches only us, so the pollers stop
            # before moto does; --parent-pid ends it if we die without cleaning up.
            start_new_session=True)
    finally:
        log.close()
    return proc


def stop_process(proc: subprocess.Popen | None, timeout: float = 5.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


def _pythonpath() -> str:
    parts = [ROOT] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
    return os.pathsep.join(dict.fromkeys(parts))


def _write_json_atomic(path: str, data: dict) -> None:
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=2, default=str)
        f.write('\n')
    os.replace(tmp, path)


def _call_seed(spec: str) -> dict:
    module_name, _, func_name = spec.partition(':')
    module = importlib.import_module(module_name)
    result = getattr(module, func_name or 'seed_demo')()
    return dict(result or {})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description='Run the local stack (moto + dev server).')
    ap.add_argument('--project-dir', default=ROOT, help='Chalice project (app.py, .chalice/)')
    ap.add_argument('--stage', default='local')
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--state-dir', default=None, help='where stack.json and moto.log go '
                                                      '(default: <project>/.local)')
    ap.add_argument('--seed', default='infra.local.seed:seed_demo',
                    help='module:function that seeds demo data and returns credentials')
    ap.add_argument('--no-seed', action='store_true')
    args = ap.parse_args(argv)

    project_dir = os.path.abspath(args.project_dir)
    state_dir = os.path.abspath(args.state_dir or os.path.join(project_dir, '.local'))
    os.makedirs(state_dir, exist_ok=True)
    stack_file = os.path.join(state_dir, 'stack.json')
    if os.path.exists(stack_file):
        os.remove(stack_file)
    host = args.host
    moto_port = port_from_env('MOTO_PORT')
    region = os.environ.get('AWS_DEFAULT_REGION') or 'us-east-1'
    endpoint = f'http://{host}:{moto_port}'

    import logging
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format='%(message)s')
    quiet_loggers()

    stop = threading.Event()
    started = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()
        if not started.is_set():
            raise _Stop(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    busy = [f'{name}={port_from_env(name)}' for name in PORT_VARS
            if not port_is_free(port_from_env(name), host)]
    if busy:
        print(f'port(s) in use: {", ".join(busy)} (another local stack?); '
              f'set those variables to free ports', file=sys.stderr)
        return 2

    moto: subprocess.Popen | None = None
    server: DevServer | None = None
    code = 0
    t0 = time.monotonic()
    try:
        moto = start_moto(host, moto_port, os.path.join(state_dir, 'moto.log'),
                          env={'MOTO_PORT': str(moto_port)})
        wait_for_port(moto_port, host, timeout=30, alive=lambda: moto.poll() is None)

        os.environ.update({'AWS_ENDPOINT_URL': endpoint, 'AWS_DEFAULT_REGION': region,
                           'AWS_REGION': region, 'AWS_ACCESS_KEY_ID': 'testing',
                           'AWS_SECRET_ACCESS_KEY': 'testing'})
        os.environ.pop('AWS_PROFILE', None)
        retry = os.environ.get('LOCAL_SQS_RETRY_SECONDS')
        server = DevServer(project_dir, stage=args.stage, host=host,
                           rest_port=port_from_env('REST_PORT'), ws_port=port_from_env('WS_PORT'),
                           connections_port=port_from_env('CONNECTIONS_PORT'),
                           moto_endpoint=endpoint, region=region,
                           sqs_retry_visibility_timeout=int(retry) if retry else None,
                           **schedule_options_from_env())
        env = server.export_env()

        import boto3

        from infra.provision import provision
        provision(boto3.session.Session(region_name=region),
                  bucket_name=env.get('UPLOADS_BUCKET') or None)

        server.load()
        credentials: dict = {}
        if not args.no_seed:
            if project_dir not in sys.path:
                sys.path.insert(0, project_dir)
            credentials = _call_seed(args.seed)

        server.start()
        started.set()
        stack = {**credentials,
                 'rest_url': server.rest_url, 'ws_url': server.ws_url,
                 'connections_url': server.connections_url, 'aws_endpoint': endpoint,
                 'health_url': server.health_url, 'region': region, 'stage': args.stage,
                 'pid': os.getpid(), 'moto_pid': moto.pid}
        _write_json_atomic(stack_file, stack)

        print('\nLocal stack is up (%.1fs):' % (time.monotonic() - t0))
        for key in BASE_KEYS:
            print(f'  {key:16} {stack[key]}')
        if server.pollers:
            print('  SQS pollers      ' + ', '.join(f'{p.handler_name} <- {p.queue_name}'
                                                   for p in server.pollers))
        if server.schedules:
            print('  schedules        ' + ', '.join(
                f'{r.handler_name} {r.expression}' + ('' if r.runnable else ' (not run)')
                for r in server.schedules))
        else:
            print('  schedules        off (LOCAL_SCHEDULES=1 runs @app.schedule handlers)')
        if credentials:
            print('Demo credentials:')
            print(json.dumps(credentials, indent=2, default=str))
        print(f'State: {stack_file}   moto log: {os.path.join(state_dir, "moto.log")}')
        print('Ctrl-C to stop.', flush=True)

        while not stop.wait(0.5):
            if moto.poll() is not None:
                print(f'moto server exited with {moto.returncode}; stopping', flush=True)
                code = 1
                break
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        started.set()   # from here on signals only set the flag
        if server is not None:
            server.stop()
        stop_process(moto)
        if os.path.exists(stack_file):
            os.remove(stack_file)
        print('Local stack stopped.', flush=True)
    return code


if __name__ == '__main__':
    sys.exit(main())
