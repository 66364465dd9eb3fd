"""A handle on the whole local stack for end-to-end tests.

``LocalStack`` runs ``python -m infra.local.run`` (patched moto server + dev server) in
a child process group on free ports with its own state directory, waits until it is
up, and stops it (and only it) again::

    @pytest.fixture(scope='session')
    def stack():
        with LocalStack() as s:          # seeds demo data via infra.local.seed
            yield s

    def test_x(stack):
        requests.get(stack.rest_url + '/...')
        stack.info['<whatever seed_demo returned>']
        stack.client('dynamodb').scan(TableName='broker-main')

Everything runs in the child, so the test process's environment and ``mock_aws``
stay untouched.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

from infra.local.devserver import ROOT
from infra.local.util import free_port

PORT_VARS = ('MOTO_PORT', 'REST_PORT', 'WS_PORT', 'CONNECTIONS_PORT')


class LocalStack:
    def __init__(self, project_dir: str = ROOT, *, ports: dict[str, int] | None = None,
                 seed: bool | str = True, stage: str = 'local', state_dir: str | None = None,
                 env: dict[str, str] | None = None, startup_timeout: float = 90.0):
        """ports: {'MOTO_PORT': ..., 'REST_PORT': ..., 'WS_PORT': ..., 'CONNECTIONS_PORT': ...};
        missing ones are free ports. seed: True (infra.local.seed:seed_demo), False, or a
        'module:function' to call instead. env: extra environment for the stack process."""
        self.project_dir = os.path.abspath(project_dir)
        self.ports = dict(ports or {})
        self.seed = seed
        self.stage = stage
        self._own_state_dir = state_dir is None
        self.state_dir = state_dir
        self.env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.info: dict[str, Any] = {}

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> 'LocalStack':
        for name in PORT_VARS:
            self.ports.setdefault(name, free_port())
        if self.state_dir is None:
            self.state_dir = tempfile.mkdtemp(prefix='broker-stack-')
        os.makedirs(self.state_dir, exist_ok=True)
        stack_file = os.path.join(self.state_dir, 'stack.json')
        if os.path.exists(stack_file):
            os.remove(stack_file)
        env = {k: v for k, v in os.environ.items() if not k.startswith('AWS_ENDPOINT_URL')}
        env.update({k: str(v) for k, v in self.ports.items()})
        env.update({'PYTHONUNBUFFERED': '1',
                    'PYTHONPATH': os.pathsep.join([ROOT] + [p for p in env.get('PYTHONPATH', '')
                                                            .split(os.pathsep) if p])})
        env.update(self.env)
        cmd = [sys.executable, '-m', 'infra.local.run', '--project-dir', self.project_dir,
               '--stage', self.stage, '--state-dir', self.state_dir]
        if self.seed is False:
            cmd.append('--no-seed')
        elif isinstance(self.seed, str):
            cmd += ['--seed', self.seed]
        with open(self.log_path, 'ab') as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        while not os.path.exists(stack_file):
            if self.proc.poll() is not None:
                raise RuntimeError(f'local stack exited with {self.proc.returncode}:\n'
                                   + self.log_tail())
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError('local stack did not start in time:\n' + self.log_tail())
            time.sleep(0.05)
        with open(stack_file, encoding='utf-8') as f:
            self.info = json.load(f)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    pass
            try:   # the group we created (the runner; its moto child follows its parent)
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if proc.poll() is None:
                proc.wait(5)
        if self._own_state_dir and self.state_dir and os.path.isdir(self.state_dir) \
                and os.environ.get('KEEP_STACK_LOGS') != '1':
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> 'LocalStack':
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ access

    @property
    def log_path(self) -> str:
        assert self.state_dir
        return os.path.join(self.state_dir, 'run.log')

    def log_tail(self, n: int = 60) -> str:
        try:
            with open(self.log_path, encoding='utf-8', errors='replace') as f:
                return ''.join(f.readlines()[-n:])
        except OSError:
            return ''

    @property
    def rest_url(self) -> str:
        return self.info['rest_url']

    @property
    def ws_url(self) -> str:
        return self.info['ws_url']

    @property
    def connections_url(self) -> str:
        return self.info['connections_url']

    @property
    def aws_endpoint(self) -> str:
        return self.info['aws_endpoint']

    @property
    def health_url(self) -> str:
        return self.info['health_url']

    def health(self) -> dict:
        import requests
        return requests.get(self.health_url, timeout=5).json()

    def client(self, service: str) -> Any:
        """A boto3 client for the stack's moto server."""
        import boto3
        return boto3.session.Session().client(
            service, endpoint_url=self.aws_endpoint, region_name=self.info.get('region', 'us-east-1'),
            aws_access_key_id='testing', aws_secret_access_key='testing')
