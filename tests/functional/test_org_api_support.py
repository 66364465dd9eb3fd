"""Shared fixtures and helpers of the Org API functional tests (this module has no tests).

`org_app()` is the project's Chalice app with the Org API blueprint registered (until
app.py registers it itself). Two orgs of one exchange come from the demo seed: 7002
(domain `localhost`) and 7003 (`second.local`); each gets an asset key bound to the test
client's address and a read key. `OrgClient` signs requests as docs/ORG_API.md says.
"""
from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal as D
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from chalicelib.auth import org_signature
from chalicelib.domain import ledger as money
from chalicelib.gateways import custody, kms
from chalicelib.services import api_keys, catalog, ledger, matching, users
from infra.local.seed import seed_demo, fund
from tests.functional.test_openapi_support import drain_matcher  # noqa: F401  (re-exported)

FORM = "application/x-www-form-urlencoded"
DOMAINS = {"7002": "localhost", "7003": "second.local"}
PREFIX = "/api/v2/org"


def org_app():
    from app import app

    if "multipart/form-data" not in app.api.binary_types:
        app.api.binary_types.append("multipart/form-data")
    return app


@pytest.fixture
def http():
    with Client(org_app(), stage_name="test") as client:
        yield client.http


@pytest.fixture
def seeded():
    kms.forget_cached()
    catalog.invalidate()
    matching.drop_cache()
    custody.reset()
    info = seed_demo()
    catalog.invalidate()
    yield info
    custody.reset()


def body(response):
    return json.loads(response.body)


class OrgClient:
    """Signs Org API calls with one key, sent to one org's domain."""

    def __init__(self, http, org_id: str, api_key: str, secret: str, host: str | None = None):
        self.http, self.org_id, self.api_key, self.secret = http, org_id, api_key, secret
        self.host = host or DOMAINS[org_id]

    def signed(self, params: dict, *, timestamp: int | None = None, files: dict | None = None) -> dict:
        values = {k: str(v) for k, v in params.items() if v is not None}
        values.setdefault("timestamp", str(int(time.time() * 1000) if timestamp is None else timestamp))
        signing = {**values, **{name: hashlib.sha256(data).hexdigest() for name, (_, data) in (files or {}).items()}}
        values["signature"] = org_signature.sign(self.secret, signing)
        return values

    def call(self, path: str, params: dict | None = None, *, method: str = "POST", timestamp: int | None = None,
             headers: dict | None = None, signature: str | None = None, host: str | None = None):
        values = self.signed(params or {}, timestamp=timestamp)
        if signature is not None:
            values["signature"] = signature
        sent = {"Host": host or self.host, "X-ACCESS-KEY": self.api_key, **(headers or {})}
        url = path if path.startswith("/") and path.startswith(PREFIX) else f"{PREFIX}{path}"
        if method == "GET":
            return self.http.get(f"{url}?{urlencode(values)}", headers=sent)
        return self.http.post(url, headers={**sent, "Content-Type": FORM}, body=urlencode(values))

    def get(self, path, params=None, **kw):
        return self.call(path, params, method="GET", **kw)

    def post(self, path, params=None, **kw):
        return self.call(path, params, method="POST", **kw)

    def upload(self, path: str, params: dict, filename: str, data: bytes, *, sign_data: bytes | None = None):
        values = self.signed(params, files={"file": (filename, data if sign_data is None else sign_data)})
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in values.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                     f'Content-Type: application/octet-stream\r\n\r\n'.encode() + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.http.post(f"{PREFIX}{path}", body=b"".join(parts), headers={
            "Host": self.host, "X-ACCESS-KEY": self.api_key,
            "Content-Type": f"multipart/form-data; boundary={boundary}"})

    def ok(self, path, params=None, **kw):
        response = self.call(path, params, **kw)
        assert response.status_code == 200, (path, response.status_code, response.body)
        return body(response)


@dataclass
class Org:
    org_id: str
    asset: OrgClient
    read: OrgClient


def org_clients(http, org_id: str, *, ip_whitelist=("127.0.0.1",)) -> Org:
    asset, asset_secret = api_keys.create_org_key(org_id, level="asset", ip_whitelist=list(ip_whitelist),
                                                  operation_id=f"test-asset-{org_id}")
    read, read_secret = api_keys.create_org_key(org_id, level="read", operation_id=f"test-read-{org_id}")
    return Org(org_id, OrgClient(http, org_id, asset.api_key, asset_secret),
               OrgClient(http, org_id, read.api_key, read_secret))


@pytest.fixture
def org_a(seeded, http) -> Org:
    return org_clients(http, "7002")


@pytest.fixture
def org_b(seeded, http) -> Org:
    return org_clients(http, "7003")


def new_user(org: Org, name: str, *, funds: dict | None = None, **extra) -> dict:
    answer = org.asset.ok("/user/registerUser", {"email": f"{name}@{org.org_id}.test", "password": "Secret-pass-1",
                                                 "client_order_id": f"reg-{name}", **extra})
    if funds:
        fund(org.org_id, answer["main_account_id"], {k: D(v) for k, v in funds.items()}, f"fund-{name}")
    return answer


def fund_operating(org_id: str, amounts: dict) -> None:
    fund(org_id, money.operating_account(org_id), {k: D(v) for k, v in amounts.items()}, f"fund-op-{org_id}")


def balance(uid: str, org_id: str, token: str):
    user = users.get_user(org_id, uid)
    b = ledger.balance(user.main_account_id, token)
    return b.available, b.locked, b.position


def assert_conserved():
    report = ledger.reconcile()
    assert report.ok, report
