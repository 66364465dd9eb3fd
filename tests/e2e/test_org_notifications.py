"""Org notifications end to end: the local stack's WebSocket gateway and REST server, a
real `websockets` client, and a client that disconnects and reconnects with its last id.

The stack runs with its own seed (`seed_stack`: the demo data plus an asset org key bound
to the loopback addresses).
"""
from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlencode

import pytest
import requests
import websockets

from infra.local.devserver import ROOT
from infra.local.stack import LocalStack

def seed_stack() -> dict:
    """Runs inside the stack: the demo seed plus an asset org key for loopback callers."""
    from chalicelib.services import api_keys
    from infra.local.seed import seed_demo

    info = seed_demo()
    view, secret = api_keys.create_org_key("7002", level="asset", ip_whitelist=["127.0.0.1", "::1"],
                                           label="e2e", operation_id="e2e-org-asset")
    if secret is None:  # a rerun of the seed in the same moto: the key exists, its secret is gone
        raise RuntimeError("seed_stack must run on a fresh stack")
    info["org_asset"] = {"api_key": view.api_key, "api_secret": secret}
    return info


@pytest.fixture(scope="module")
def org_stack():
    with LocalStack(ROOT, seed="tests.e2e.test_org_notifications:seed_stack") as running:
        yield running


def _sign(secret: str, params: dict) -> dict:
    from chalicelib.auth import org_signature

    values = {k: str(v) for k, v in params.items()}
    values.setdefault("timestamp", str(int(time.time() * 1000)))
    values["signature"] = org_signature.sign(secret, values)
    return values


class Org:
    def __init__(self, stack):
        self.stack = stack
        self.key = stack.info["org_asset"]["api_key"]
        self.secret = stack.info["org_asset"]["api_secret"]

    def call(self, path: str, **params) -> dict:
        answer = requests.post(f"{self.stack.rest_url}/api/v2/org{path}", data=_sign(self.secret, params),
                               headers={"X-ACCESS-KEY": self.key}, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def socket_url(self, **extra) -> str:
        return f"{self.stack.ws_url}?{urlencode(_sign(self.secret, {'channel': 'org', 'key': self.key, **extra}))}"


async def _collect(socket, until_op: str, timeout: float = 20) -> list[dict]:
    frames = []
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), timeout))
        frames.append(frame)
        if frame.get("op") == until_op:
            return frames


async def _events(socket, count: int, timeout: float = 20) -> list[dict]:
    frames = []
    while len(frames) < count:
        frame = json.loads(await asyncio.wait_for(socket.recv(), timeout))
        if "event_id" in frame:
            frames.append(frame)
    return frames


def test_a_reconnecting_client_receives_every_missed_notification_once_in_order(org_stack):
    org = Org(org_stack)

    async def scenario():
        async with websockets.connect(org.socket_url()) as socket:
            await socket.send(json.dumps({"op": "subscribe"}))
            ack = await _collect(socket, "subscribed")
            start = ack[-1]["last_id"]
            user = org.call("/user/registerUser", email="e2e-live@7002.test", client_order_id="e2e-1")
            live = await _events(socket, 1)
        assert live[0]["event_type"] == "org.userRegister" and live[0]["event"]["uid"] == user["uid"]
        last_seen = live[-1]["event_id"]

        # while the client is away
        org.call("/user/registerUser", email="e2e-away@7002.test", client_order_id="e2e-2")
        org.call("/finance/airdrop", uid=user["uid"], token_id="USDT", amount="3", client_order_id="e2e-3")
        replay = requests.post(f"{org_stack.rest_url}/api/v2/org/notification/list",
                               data=_sign(org.secret, {"from_id": last_seen}),
                               headers={"X-ACCESS-KEY": org.key}, timeout=30).json()
        missed = [e["event_id"] for e in replay["events"]]

        async with websockets.connect(org.socket_url(from_id=last_seen)) as socket:
            await socket.send(json.dumps({"op": "subscribe"}))
            caught_up = await _collect(socket, "subscribed")
            org.call("/user/registerUser", email="e2e-back@7002.test", client_order_id="e2e-4")
            after = await _events(socket, 1)
        return start, last_seen, missed, caught_up, after

    start, last_seen, missed, caught_up, after = asyncio.run(scenario())
    assert last_seen > start
    received = [f["event_id"] for f in caught_up if "event_id" in f]
    assert received == missed == list(range(last_seen + 1, last_seen + 1 + len(missed)))
    kinds = {f["event_type"] for f in caught_up if "event_id" in f}
    assert {"org.userRegister", "org.airdrop", "org.userReceiveAirdrop", "org.userBalanceChanged"} <= kinds
    assert caught_up[-1]["op"] == "subscribed" and caught_up[-1]["last_id"] == missed[-1]
    assert after[0]["event_id"] == missed[-1] + 1 and after[0]["event_type"] == "org.userRegister"


def test_a_socket_with_a_bad_signature_is_refused(org_stack):
    org = Org(org_stack)
    url = org.socket_url().replace("signature=", "signature=0")

    async def scenario():
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with websockets.connect(url):
                pass
        return refused.value.response.status_code

    assert asyncio.run(scenario()) == 401
