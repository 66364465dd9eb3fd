"""Shared fixtures and helpers of the OpenAPI functional tests (this module has no tests).

`app` is the project's Chalice app with the OpenAPI blueprint registered (until app.py
registers it itself). `bhex` signs requests the way the bhex SDK does (timestamp last,
POST params in a form body) or the way ccxt does (timestamp first).
"""
from __future__ import annotations

import json
import time
from decimal import Decimal as D
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from chalicelib import settings
from chalicelib.auth.bhex_signature import sign
from chalicelib.gateways import aws, kms
from chalicelib.services import api_keys, catalog, ledger, matching
from chalicelib.store import orders as order_store
from chalicelib.workers import matcher
from infra.local.seed import seed_demo

HOST = {"Host": "localhost"}
FORM = "application/x-www-form-urlencoded"


def openapi_app():
    from app import app
    from chalicelib.api.openapi import openapi_blueprint

    if "/openapi/v1/ping" not in app.routes:
        app.register_blueprint(openapi_blueprint)
    return app


@pytest.fixture
def seeded():
    kms.forget_cached()
    catalog.invalidate()
    matching.drop_cache()
    info = seed_demo()
    catalog.invalidate()
    return info


@pytest.fixture
def http():
    with Client(openapi_app(), stage_name="test") as client:
        yield client.http


class Bhex:
    """A signing client over chalice's test client."""

    def __init__(self, http, api_key: str, secret: str, style: str = "sdk", headers: dict | None = None):
        self.http, self.api_key, self.secret, self.style = http, api_key, secret, style
        self.headers = {**HOST, **(headers or {})}

    def signed_params(self, params: dict, timestamp: int | None = None) -> list[tuple[str, str]]:
        stamp = ("timestamp", str(int(time.time() * 1000) if timestamp is None else timestamp))
        pairs = [(k, "" if v is None else str(v)) for k, v in params.items()]
        pairs = [stamp] + pairs if self.style == "ccxt" else pairs + [stamp]
        return pairs + [("signature", sign(self.secret, urlencode(pairs)))]

    def request(self, method: str, path: str, params: dict | None = None, *, timestamp: int | None = None,
                signature: str | None = None, api_key: str | None = None):
        pairs = self.signed_params(params or {}, timestamp)
        if signature is not None:
            pairs = [(k, signature if k == "signature" else v) for k, v in pairs]
        headers = {**self.headers, "X-BH-APIKEY": self.api_key if api_key is None else api_key}
        if method == "POST":
            return self.http.post(path, headers={**headers, "Content-Type": FORM}, body=urlencode(pairs))
        return self.http.request(method, f"{path}?{urlencode(pairs)}", headers=headers, body=b"")

    def get(self, path, params=None, **kw):
        return self.request("GET", path, params, **kw)

    def post(self, path, params=None, **kw):
        return self.request("POST", path, params, **kw)

    def delete(self, path, params=None, **kw):
        return self.request("DELETE", path, params, **kw)

    def put(self, path, params=None, **kw):
        return self.request("PUT", path, params, **kw)


def user_client(http, user: dict, style: str = "sdk") -> Bhex:
    return Bhex(http, user["api_key"], user["api_secret"], style)


def new_key(seeded, user_index: int, http, *, key_type=api_keys.USER_TRADE, ip_whitelist=(), op="k") -> Bhex:
    user = seeded["users"][user_index]
    view, secret = api_keys.create_user_key(seeded["org"]["org_id"], user["uid"], key_type=key_type,
                                            ip_whitelist=list(ip_whitelist), operation_id=f"{op}-{user_index}")
    return Bhex(http, view.api_key, secret)


def body(response) -> object:
    return json.loads(response.body)


def drain_matcher(max_rounds: int = 20) -> int:
    """Feeds the matching queue to the matcher worker as Lambda's FIFO event source would."""
    sqs = aws.client("sqs")
    url = aws.queue_url(settings.matching_queue())
    handled = 0
    for _ in range(max_rounds):
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                                       WaitTimeSeconds=0).get("Messages", [])
        if not received:
            break
        records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                    "attributes": m.get("Attributes", {}), "eventSource": "aws:sqs"} for m in received]
        failures = {f["itemIdentifier"] for f in matcher.handle_batch({"Records": records})["batchItemFailures"]}
        assert not failures, failures
        for message in received:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        handled += len(received)
    return handled


def balances(account_id: str) -> dict[str, tuple[D, D]]:
    return {b.token: (b.available, b.locked) for b in ledger.balances(account_id)}


def open_order_ids(account_id: str) -> list[int]:
    return [s.order.order_id for s in order_store.open_of_account(account_id)]


def all_order_ids(account_id: str) -> list[int]:
    return [s.order.order_id for s in order_store.of_account(account_id)]
