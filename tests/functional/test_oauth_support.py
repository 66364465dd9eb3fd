"""Shared fixtures and helpers of the OAuth functional tests (this module has no tests).

`oauth` seeds the demo exchange, both demo orgs, the demo users and the demo OAuth apps
(`infra.local.seed_oauth`). `Consent` drives the consent page's JSON calls the way its
script does; `clock` moves the OAuth services' clock (codes and tokens expire by it,
and the per-token rate window is counted on it).
"""
from __future__ import annotations

import base64
import json
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pytest
from boto3.dynamodb.conditions import Attr
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from chalice.test import Client

from chalicelib.domain import oauth as rules
from chalicelib.gateways import custody, kms, notifier
from chalicelib.services import catalog, matching, oauth_tokens, users
from infra.local import seed as demo
from infra.local.seed_oauth import seed as seed_oauth

HOST = "localhost"          # the demo org (7002)
OTHER_HOST = "second.local"  # the second demo org (7003)
PREFIX = "/api/v2/oauth2"
ALL_SCOPES = " ".join(rules.SCOPE_ORDER)


@pytest.fixture
def oauth():
    kms.forget_cached()
    catalog.invalidate()
    matching.drop_cache()
    notifier.use(None)
    custody.use(None)
    demo.seed_exchange()
    for org in demo.ORGS:
        demo.seed_org(org)
    catalog.invalidate()
    org_id = demo.ORGS[0]["org_id"]
    people = []
    for email in demo.DEMO_USERS:
        user = users.register_user(org_id, email=email, password=demo.PASSWORD, operation_id=f"seed-user-{email}")
        demo.fund(org_id, user.main_account_id, demo.USER_FUNDS, f"seed-deposit-{email}")
        people.append({"uid": user.uid, "email": email, "account_id": user.main_account_id})
    yield {"users": people, "apps": seed_oauth(org_id), "org_id": org_id}
    notifier.use(None)
    custody.use(None)


@pytest.fixture
def http():
    from app import app

    with Client(app, stage_name="test") as client:
        yield client.http


class Clock:
    def __init__(self):
        self.now_ms = int(time.time() * 1000)

    def advance(self, seconds: float) -> None:
        self.now_ms += int(seconds * 1000)

    def __call__(self) -> int:
        return self.now_ms


@pytest.fixture
def clock(monkeypatch):
    moment = Clock()
    monkeypatch.setattr(oauth_tokens, "now_ms", moment)
    return moment


class Answer:
    def __init__(self, response):
        self.status = response.status_code
        self.headers = {k.lower(): v for k, v in response.headers.items()}
        self.raw = response.body
        try:
            self.json = json.loads(response.body or b"null")
        except ValueError:
            self.json = None

    @property
    def code(self):
        return self.json.get("code") if isinstance(self.json, dict) else None

    @property
    def error(self):
        return self.json.get("error") if isinstance(self.json, dict) else None

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def __repr__(self):
        return f"<{self.status} {self.json if self.json is not None else self.raw[:200]}>"


def items(prefix: str) -> list[dict]:
    """Every stored item whose key starts with `prefix` (to show what a request left behind)."""
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("broker-main")
    found, start = [], None
    while True:
        page = table.scan(FilterExpression=Attr("pk").begins_with(prefix), **({"ExclusiveStartKey": start} if start else {}))
        found += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return found


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, create_s256_code_challenge(verifier)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


class Api:
    """The OAuth family over chalice.test.Client, on one host."""

    def __init__(self, http, host: str = HOST):
        self.http, self.host = http, host

    def get(self, path: str, params: dict | None = None, headers: dict | None = None) -> Answer:
        query = f"?{urlencode(params)}" if params else ""
        return Answer(self.http.request("GET", path + query, headers={"Host": self.host, **(headers or {})},
                                        body=b""))

    def post(self, path: str, params: dict | None = None, headers: dict | None = None, *, as_json: bool = False,
             query: dict | None = None) -> Answer:
        sent = {"Host": self.host, **(headers or {})}
        params = {k: v for k, v in (params or {}).items() if v is not None}
        if as_json:
            sent["Content-Type"], body = "application/json", json.dumps(params)
        else:
            sent["Content-Type"], body = "application/x-www-form-urlencoded", urlencode(params)
        path = path + (f"?{urlencode(query)}" if query else "")
        return Answer(self.http.post(path, headers=sent, body=body))

    # --- the token endpoint as a client calls it ---------------------------------------------------
    def token(self, app: dict, params: dict, *, basic: bool = True) -> Answer:
        headers = {}
        params = dict(params)
        if app.get("client_secret") and basic:
            raw = f"{app['client_id']}:{app['client_secret']}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        elif app.get("client_secret"):
            params.update(client_id=app["client_id"], client_secret=app["client_secret"])
        else:
            params["client_id"] = app["client_id"]
        return self.post(f"{PREFIX}/token", params, headers)

    def call(self, access_token: str, path: str, params: dict | None = None, *, method: str = "GET") -> Answer:
        auth = {"Authorization": f"Bearer {access_token}"}
        if method == "GET":
            return self.get(f"{PREFIX}/{path}", params, auth)
        return self.post(f"{PREFIX}/{path}", params, auth)


class Consent:
    """What the consent page's script does for one authorization request."""

    def __init__(self, api: Api, app: dict, *, scope: str = ALL_SCOPES, redirect_uri: str | None = None,
                 state: str | None = "state-1", challenge: str | None = None, method: str | None = "S256",
                 extra: dict | None = None):
        self.api, self.app = api, app
        self.params = {"response_type": "code", "client_id": app["client_id"],
                       "redirect_uri": redirect_uri or app["redirect_uris"][0], "scope": scope, "state": state,
                       "code_challenge": challenge, "code_challenge_method": method if challenge else None,
                       **(extra or {})}
        self.params = {k: v for k, v in self.params.items() if v is not None}

    def open(self) -> Answer:
        return self.api.get(f"{PREFIX}/authorize", self.params, {"Accept": "text/html"})

    def login(self, email: str, password: str = demo.PASSWORD, **extra) -> Answer:
        return self.api.post(f"{PREFIX}/page/login", {"client_id": self.app["client_id"], "login": email,
                                                      "password": password, **extra}, as_json=True)

    def decide(self, consent_token: str, decision: str = "approve", granted_scope: str | None = None) -> Answer:
        return self.api.post(f"{PREFIX}/authorize", {**self.params, "decision": decision,
                                                     "granted_scope": granted_scope},
                             {"Accept": "application/json", "X-OAuth-Consent": consent_token})

    def code(self, email: str, *, granted_scope: str | None = None) -> str:
        """Logs in, approves, and returns the code the client receives (checking `state`)."""
        page = self.open()
        assert page.status == 200 and page.headers["content-type"].startswith("text/html"), page
        logged_in = self.login(email)
        assert logged_in.status == 200 and logged_in.json.get("consent_token"), logged_in
        decided = self.decide(logged_in.json["consent_token"], granted_scope=granted_scope)
        assert decided.status == 200, decided
        received = query_of(decided.json["redirect_uri"])
        assert decided.json["redirect_uri"].startswith(self.params["redirect_uri"] + "?")
        assert received.get("state") == self.params.get("state")
        return received["code"]


def grant(api: Api, app: dict, email: str, *, scope: str = ALL_SCOPES, granted_scope: str | None = None) -> dict:
    """The whole code flow with PKCE: the token response."""
    verifier, challenge = pkce()
    consent = Consent(api, app, scope=scope, challenge=challenge)
    code = consent.code(email, granted_scope=granted_scope)
    answer = api.token(app, {"grant_type": "authorization_code", "code": code,
                             "redirect_uri": consent.params["redirect_uri"], "code_verifier": verifier})
    assert answer.status == 200, answer
    return answer.json
