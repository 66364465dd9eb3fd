"""Shared fixtures and helpers of the User API functional tests (this module has no tests).

`app` is the project's Chalice app with the User API blueprint registered (until app.py
registers it itself). `Browser` keeps cookies like a browser does and sends the CSRF
token the way the web client does (the `X-CSRF-Token` header, from the `c_token` cookie).
`clock` drives TOTP, the login guard and the code-sending throttle, so GA codes are fresh and throttle delays pass
without sleeping.
"""
from __future__ import annotations

import json
import time
from decimal import Decimal as D
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from chalicelib.auth import totp
from chalicelib.gateways import custody, kms, notifier
from chalicelib.services import catalog, ledger, login_guard, matching, verification
from infra.local.seed import PASSWORD, seed_demo

HOST = "localhost"
ORG = "7002"


def user_app():
    from app import app
    from chalicelib.api.user import user_api

    if "/api/user/authorize" not in app.routes:
        app.register_blueprint(user_api)
    return app


@pytest.fixture
def seeded():
    kms.forget_cached()
    catalog.invalidate()
    matching.drop_cache()
    notifier.use(None)
    custody.use(None)
    info = seed_demo()
    catalog.invalidate()
    yield info
    notifier.use(None)
    custody.use(None)


@pytest.fixture
def http():
    with Client(user_app(), stage_name="test") as client:
        yield client.http


class Clock:
    """Wall time for TOTP and the login guard, moved by hand."""

    def __init__(self):
        self.now = time.time()

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def ms(self) -> int:
        return int(self.now * 1000)


@pytest.fixture
def clock(monkeypatch):
    moment = Clock()
    monkeypatch.setattr(totp, "now", lambda: moment.now)
    monkeypatch.setattr(login_guard, "now_ms", moment.ms)
    monkeypatch.setattr(verification, "now", lambda: moment.now)
    return moment


class Answer:
    def __init__(self, response):
        self.status = response.status_code
        self.headers = response.headers
        self.raw = response.body
        try:
            self.json = json.loads(response.body or b"null")
        except ValueError:
            self.json = None

    @property
    def code(self):
        return self.json.get("code") if isinstance(self.json, dict) else None

    def __repr__(self):
        return f"<{self.status} {self.json}>"


class Browser:
    """Cookies in, cookies out; the CSRF header on every POST unless told otherwise."""

    def __init__(self, http, host: str = HOST):
        self.http, self.host = http, host
        self.cookies: dict[str, str] = {}

    @property
    def csrf(self):
        return self.cookies.get("c_token")

    def _remember(self, headers) -> None:
        values = headers.get("Set-Cookie") or headers.get("set-cookie") or []
        for value in values if isinstance(values, list) else [values]:
            jar = SimpleCookie()
            jar.load(value)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def request(self, method: str, path: str, params: dict | None = None, *, csrf: bool = True,
                as_json: bool = False, headers: dict | None = None) -> Answer:
        sent = {"Host": self.host, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if csrf and method == "POST" and self.csrf:
            sent["X-CSRF-Token"] = self.csrf
        params = {k: v for k, v in (params or {}).items() if v is not None}
        if method == "GET":
            query = f"?{urlencode(params)}" if params else ""
            response = self.http.request("GET", path + query, headers=sent, body=b"")
        elif as_json:
            response = self.http.post(path, headers={**sent, "Content-Type": "application/json"},
                                      body=json.dumps(params))
        else:
            response = self.http.post(path, headers={**sent, "Content-Type": "application/x-www-form-urlencoded"},
                                      body=urlencode(params))
        answer = Answer(response)
        self._remember(response.headers)
        return answer

    def get(self, path, params=None, **kw) -> Answer:
        return self.request("GET", path, params, **kw)

    def post(self, path, params=None, **kw) -> Answer:
        return self.request("POST", path, params, **kw)


def outbox(to: str, org_id: str = ORG) -> list[dict]:
    return notifier.read_outbox(org_id, to)


def last_code(to: str, purpose: str | None = None, org_id: str = ORG) -> tuple[str, str]:
    """(code, order_id) of the newest code sent to `to` (of `purpose`)."""
    for notice in outbox(to, org_id):
        if "code" in notice["data"] and (purpose is None or notice["data"]["purpose"] == purpose):
            return notice["data"]["code"], notice["data"]["order_id"]
    raise AssertionError(f"no code sent to {to}: {outbox(to, org_id)}")


def sign_up(http, email: str, password: str = "Sign-up-pass-1", **extra) -> Browser:
    browser = Browser(http)
    sent = browser.post("/api/common/send_verify_code", {"type": "REGISTER", "email": email})
    assert sent.status == 200, sent
    code, order_id = last_code(email, "REGISTER")
    assert order_id == sent.json["orderId"]
    answer = browser.post("/api/user/email_sign_up", {"email": email, "password": password, "verify_code": code,
                                                      "order_id": order_id, **extra})
    assert answer.status == 200, answer
    return browser


def log_in(http, login: str, password: str = PASSWORD, **extra) -> Browser:
    browser = Browser(http)
    answer = browser.post("/api/user/authorize", {"username": login, "password": password, **extra})
    assert answer.status == 200 and "au_token" in browser.cookies, answer
    return browser


def ga_code(clock: Clock, secret: str) -> str:
    """A fresh code: the clock moves to the next 30 s step first (a step works once)."""
    clock.advance(totp.INTERVAL)
    return totp.code_at(secret, clock.now)


def bind_ga(browser: Browser, clock: Clock) -> str:
    pending = browser.post("/api/user/before_bind_ga")
    assert pending.status == 200, pending
    secret = pending.json["secretKey"]
    bound = browser.post("/api/user/bind_ga", {"ga_code": ga_code(clock, secret)})
    assert bound.status == 200, bound
    return secret


def balances(account_id: str) -> dict[str, tuple[D, D]]:
    return {b.token: (b.available, b.locked) for b in ledger.balances(account_id)}
