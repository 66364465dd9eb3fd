"""The OAuth 2.0 code flow with PKCE against the local stack, driven by a stock client
library (authlib's `OAuth2Session` over requests) and Debian's headless Chromium for the
consent page (driven by playwright-core, as the approval-page test does): log in on the
page, see the app and its scopes, allow; the client exchanges the code, calls one
endpoint of every scope, refreshes (rotation), and calls again. Once with the demo
public app (PKCE required, no secret) and once with the confidential app (HTTP Basic
client authentication plus PKCE).

The client's redirect URI is a loopback address that nothing listens on: Chromium's
request to it is answered inside the browser (`page.route`), which is how the test reads
the code and state the browser was sent back with.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from tests.e2e.klip.support import HERE as NODE_DIR, ROOT, node_modules

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PREFIX = "/api/v2/oauth2"
PACE = 0.55  # two requests per second per token: stay under it

CONSENT_SCRIPT = r"""
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const config = JSON.parse(process.argv[1]);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'oauth-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: config.chromium, headless: true, args: FLAGS });
  const out = [];
  try {
    for (const flow of config.flows) {
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      let landed = null;
      await page.route(flow.redirect_uri + '**', (route) => {
        landed = route.request().url();
        return route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the app' });
      });
      const response = await page.goto(flow.authorization_url);
      assert.equal(response.status(), 200);
      assert.match(response.headers()['content-type'], /^text\/html/);
      await page.locator('#login-form').waitFor({ state: 'visible', timeout: 15000 });
      const appName = await page.locator('#app-name').textContent();
      const scopes = await page.locator('#scopes input[type=checkbox]').evaluateAll(
        (boxes) => boxes.map((b) => b.value));
      await page.fill('#login', config.user.email);
      await page.fill('#password', config.user.password);
      await page.click('#login-button');
      await page.locator('#decision').waitFor({ state: 'visible', timeout: 15000 });
      const account = await page.locator('#account').textContent();
      if (config.screenshot_dir) {
        await page.screenshot({ path: path.join(config.screenshot_dir, flow.name + '.png'), fullPage: true });
      }
      await page.click('#approve-button');
      await page.waitForURL(flow.redirect_uri + '**', { timeout: 15000 });
      assert.deepEqual(errors, []);
      out.push({ name: flow.name, app_name: appName, scopes, account, callback: landed || page.url() });
      await page.close();
    }
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out));
})().catch((error) => { console.error(error && error.stack || error); process.exit(1); });
"""

CALLS = [  # one call of every scope
    ("userInfo", "GET", "user/getInfo", {}),
    ("accountInfo", "GET", "account/getAsset", {"tokenId": "USDT"}),
    ("accountDetail", "GET", "account/getBalanceFlow", {"limit": "3"}),
    ("tradeInfo", "GET", "trade/spot/getOpenOrderList", {"symbol": "BTCUSDT"}),
    ("trade", "POST", "trade/spot/placeOrder", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                "price": "1000", "quantity": "0.001", "timeInForce": "GTC"}),
]


def oauth_info(stack) -> dict:
    """The demo OAuth apps: from stack.json when seed_demo wires seed_oauth in, else seeded
    now through infra.local.seed_oauth against the stack's moto endpoint."""
    if "oauth" in stack.info:
        return stack.info["oauth"]
    if not hasattr(stack, "_oauth"):
        env = {**os.environ, "AWS_ENDPOINT_URL": stack.aws_endpoint, "AWS_ACCESS_KEY_ID": "testing",
               "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": stack.info.get("region", "us-east-1"),
               "STAGE": stack.info.get("stage", "local"), "PYTHONPATH": ROOT}
        done = subprocess.run([sys.executable, "-m", "infra.local.seed_oauth"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        stack._oauth = json.loads(done.stdout)
    return stack._oauth


def consent_in_chromium(flows: list[dict], user: dict, screenshot_dir: str) -> list[dict]:
    if not os.path.exists(CHROMIUM) and shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is required: apt-get install -y chromium")
    node_modules()
    config = {"flows": flows, "user": user, "chromium": CHROMIUM, "screenshot_dir": screenshot_dir}
    done = subprocess.run(["node", "-e", CONSENT_SCRIPT, json.dumps(config)], cwd=NODE_DIR, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"consent page script failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def call_every_scope(client: OAuth2Session, base: str, label: str) -> dict:
    answers = {}
    for scope, method, path, params in CALLS:
        time.sleep(PACE)
        if method == "GET":
            answer = client.get(f"{base}{PREFIX}/{path}", params=params, timeout=30)
        else:
            answer = client.post(f"{base}{PREFIX}/{path}", data={**params, "clientOrderId": f"{label}-{scope}"},
                                 timeout=30)
        assert answer.status_code == 200, (path, answer.status_code, answer.text)
        answers[scope] = answer.json()
    return answers


def test_a_stock_client_completes_the_code_flow_with_pkce_and_consent_in_chromium(stack, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the local stack is plain http on loopback
    info = oauth_info(stack)
    user = next(u for u in stack.info["users"] if u["email"] == "alice@demo.local")
    base = stack.rest_url
    scope = "userInfo accountInfo accountDetail tradeInfo trade"
    clients, flows = {}, []
    for name in ("public", "confidential"):
        app = info[name]
        client = OAuth2Session(app["client_id"], app.get("client_secret"), scope=scope,
                               redirect_uri=app["redirect_uris"][0], code_challenge_method="S256",
                               token_endpoint_auth_method="none" if name == "public" else "client_secret_basic")
        verifier = secrets.token_urlsafe(48)
        url, state = client.create_authorization_url(f"{base}{PREFIX}/authorize", code_verifier=verifier)
        clients[name] = (client, verifier, state, app)
        flows.append({"name": name, "authorization_url": url, "redirect_uri": app["redirect_uris"][0]})

    seen = consent_in_chromium(flows, {"email": user["email"], "password": user["password"]}, str(tmp_path))

    for outcome in seen:
        client, verifier, state, app = clients[outcome["name"]]
        assert outcome["app_name"] == app["name"] and outcome["account"] == user["email"]
        assert outcome["scopes"] == scope.split()
        assert f"state={state}" in outcome["callback"]
        token = client.fetch_token(f"{base}{PREFIX}/token", authorization_response=outcome["callback"],
                                   code_verifier=verifier)
        assert token["token_type"] == "Bearer" and token["scope"] == scope and token["refresh_token"]

        first = call_every_scope(client, base, f"{outcome['name']}-1")
        assert first["userInfo"]["userId"] == user["uid"]
        assert first["accountInfo"][0]["tokenId"] == "USDT"
        assert first["trade"]["status"] == "NEW"

        old_refresh = token["refresh_token"]
        time.sleep(PACE)
        renewed = client.refresh_token(f"{base}{PREFIX}/token")
        assert renewed["access_token"] != token["access_token"] and renewed["refresh_token"] != old_refresh

        again = call_every_scope(client, base, f"{outcome['name']}-2")
        assert again["userInfo"]["userId"] == user["uid"]
        open_ids = {o["clientOrderId"] for o in again["tradeInfo"]}
        assert f"{outcome['name']}-1-trade" in open_ids

        replay = requests.post(f"{base}{PREFIX}/token", timeout=30, auth=(app["client_id"], app["client_secret"])
                               if app.get("client_secret") else None,
                               data={"grant_type": "refresh_token", "refresh_token": old_refresh,
                                     **({} if app.get("client_secret") else {"client_id": app["client_id"]})})
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        time.sleep(PACE)
        assert client.get(f"{base}{PREFIX}/user/getInfo", timeout=30).status_code == 401  # the family is revoked

    assert {p.name for p in tmp_path.iterdir()} >= {"public.png", "confidential.png"}
