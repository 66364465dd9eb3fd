"""Shared fixtures of the Klip functional tests: an app with only the Klip families, the
demo data (seed_demo + seed_klip), and small HTTP helpers over chalice's test client."""
from __future__ import annotations

import json

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.gateways import kms
from chalicelib.services import catalog, partners
from infra.local.seed import seed_demo
from infra.local.seed_klip import seed_klip

HOST = {"Host": "localhost"}
JSON = {"Content-Type": "application/json", **HOST}


def klip_app() -> Chalice:
    """The real app: a blueprint follows the last app it was registered on, so tests must
    not register the app's blueprints on a second one."""
    from app import app

    return app


@pytest.fixture
def klip_seeded():
    kms.forget_cached()
    catalog.invalidate()
    partners.forget_cached_secret()
    info = seed_demo()
    info["klip"] = seed_klip(info["org"]["org_id"])
    catalog.invalidate()
    return info


@pytest.fixture
def http():
    with Client(klip_app(), stage_name="test") as client:
        yield client.http


def body(response) -> dict:
    return json.loads(response.body)


def post(http, path: str, payload, headers: dict | None = None):
    return http.post(path, body=json.dumps(payload), headers={**JSON, **(headers or {})})


def put(http, path: str, payload, headers: dict | None = None):
    return http.put(path, body=json.dumps(payload), headers={**JSON, **(headers or {})})


def get(http, path: str, headers: dict | None = None):
    return http.get(path, headers={**HOST, **(headers or {})})
