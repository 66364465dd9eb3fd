"""Fixtures for the infra tests (resource template, moto patch, local stack parts)."""
from __future__ import annotations

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import infra.local.moto_patch  # noqa: E402,F401  (patched moto for every test here)


@pytest.fixture
def aws_env():
    """Fake credentials and region, no endpoint override leaking in; and the whole
    environment restored afterwards (an in-process DevServer exports variables such as
    LOCAL_WS_ENDPOINT that must not reach later tests)."""
    saved = dict(os.environ)
    os.environ.update({'AWS_ACCESS_KEY_ID': 'testing', 'AWS_SECRET_ACCESS_KEY': 'testing',
                       'AWS_SECURITY_TOKEN': 'testing', 'AWS_SESSION_TOKEN': 'testing',
                       'AWS_DEFAULT_REGION': 'us-east-1', 'AWS_REGION': 'us-east-1'})
    for name in [n for n in os.environ if n.startswith('AWS_ENDPOINT_URL')] + ['AWS_PROFILE']:
        os.environ.pop(name, None)
    try:
        yield os.environ
    finally:
        os.environ.clear()
        os.environ.update(saved)
