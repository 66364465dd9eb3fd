"""The User API end to end over real HTTP and WebSocket against the local stack.

A new user signs up by email (the code read from the local outbox), logs in, binds GA
(codes from pyotp), logs out and in again with GA, gets a deposit address, is credited
by a signed custody callback (signed as the custody simulator does), buys from a second
user (both see the fill on their user WebSocket), withdraws with GA and sees the history.
"""
from __future__ import annotations

import asyncio
import json
import secrets
import time

import pyotp
import requests
import websockets

from chalicelib.gateways.custody import LOCAL_SECRET, Simulator

TIMEOUT = 10


class WebUser:
    """A browser-like client: a cookie jar, and the CSRF header on every POST."""

    def __init__(self, stack):
        self.stack, self.http = stack, requests.Session()

    def url(self, path: str) -> str:
        return self.stack.rest_url + path

    def get(self, path: str, params: dict | None = None) -> requests.Response:
        return self.http.get(self.url(path), params=params, timeout=TIMEOUT)

    def post(self, path: str, data: dict | None = None) -> requests.Response:
        headers = {"X-CSRF-Token": self.http.cookies.get("c_token") or ""}
        return self.http.post(self.url(path), data=data or {}, headers=headers, timeout=TIMEOUT)

    def ok(self, answer: requests.Response) -> dict:
        assert answer.status_code == 200, (answer.request.url, answer.status_code, answer.text)
        return answer.json()

    def login(self, username: str, password: str, totp: pyotp.TOTP | None = None, used: list | None = None) -> dict:
        first = self.ok(self.post("/api/user/authorize", {"username": username, "password": password}))
        if totp is None:
            return first
        assert first["need2FA"] is True and "au_token" not in self.http.cookies
        return self.ok(self.post("/api/user/authorize_advance",
                                 {"request_id": first["requestId"], "ga_code": fresh_code(totp, used)}))

    def upgrade_headers(self) -> dict:
        return {"Cookie": f"au_token={self.http.cookies.get('au_token')}", "Origin": self.stack.rest_url}


def fresh_code(totp: pyotp.TOTP, used: list) -> str:
    """A code of a 30 s step not used before (the server takes each step once; it accepts
    the step before and after the current one)."""
    while True:
        current = int(time.time()) // totp.interval
        step = max(current - 1, used[-1] + 1 if used else current)
        if step <= current + 1:
            used.append(step)
            return totp.at(step * totp.interval)
        time.sleep(max(0.05, (current + 1) * totp.interval - time.time()))


def read_code(stack, to: str, purpose: str) -> tuple[str, str]:
    notices = requests.get(f"{stack.rest_url}/dev/notices", params={"to": to}, timeout=TIMEOUT).json()
    for notice in notices:
        if notice["data"].get("purpose") == purpose:
            return notice["data"]["code"], notice["data"]["order_id"]
    raise AssertionError(f"no {purpose} code for {to}: {notices}")


async def frames_until(socket, predicate, timeout: float = 30.0) -> list[dict]:
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out; frames so far: {seen}"
        frame = json.loads(await asyncio.wait_for(socket.recv(), left))
        seen.append(frame)
        if predicate(frame):
            return seen


def test_sign_up_ga_deposit_trade_with_pushes_and_withdraw(stack):
    probe = requests.get(f"{stack.rest_url}/api/quote/v1/time", timeout=TIMEOUT)
    assert probe.status_code == 200, "app.py does not register the User API yet (docs/USER_API.md, Wiring)"
    email = f"e2e-{secrets.token_hex(4)}@example.com"
    password = "E2e-journey-pass1"
    user = WebUser(stack)

    # sign up with the code from the outbox, log out, log in with the password
    user.ok(user.post("/api/common/send_verify_code", {"type": "REGISTER", "email": email}))
    code, order_id = read_code(stack, email, "REGISTER")
    signed_up = user.ok(user.post("/api/user/email_sign_up", {"email": email, "password": password,
                                                              "verify_code": code, "order_id": order_id}))
    uid = signed_up["user"]["userId"]
    user.ok(user.post("/api/user/authorize_cancel"))
    assert user.get("/api/user/get_base_info").status_code == 401
    user.login(email, password)
    assert user.ok(user.get("/api/user/get_base_info"))["userId"] == uid

    # bind GA, then log out and in again with it
    pending = user.ok(user.post("/api/user/before_bind_ga"))
    totp, used = pyotp.TOTP(pending["secretKey"]), []
    assert pending["qrcode"].startswith("otpauth://totp/")
    user.ok(user.post("/api/user/bind_ga", {"ga_code": fresh_code(totp, used)}))
    user.ok(user.post("/api/user/authorize_cancel"))
    user.login(email, password, totp, used)
    assert user.ok(user.get("/api/user/get_base_info"))["bindGA"] is True

    # a deposit address, then custody's signed deposit callback
    address = user.ok(user.get("/api/asset/deposit/address", {"token_id": "USDT", "chain_type": "ERC20"}))
    report = Simulator(secret=LOCAL_SECRET).deposit_report(
        chain="ERC20", token="USDT", address=address["address"], amount="1000",
        confirmations=address["requiredConfirmations"])
    credited = requests.post(stack.rest_url + report.path, data=report.body, headers=report.headers, timeout=TIMEOUT)
    assert credited.status_code == 200, credited.text
    usdt = next(b for b in user.ok(user.get("/api/asset/get")) if b["tokenId"] == "USDT")
    assert usdt["free"] == "1000"

    # a second user sells, the new user buys; both see the fill on their sockets
    seller_info = stack.info["users"][1]
    seller = WebUser(stack)
    seller.login(seller_info["email"], seller_info["password"])

    async def trade_and_watch():
        socket_url = stack.ws_url.rstrip("/") + "/api/ws/user"
        async with websockets.connect(socket_url, additional_headers=user.upgrade_headers()) as buyer_socket, \
                websockets.connect(socket_url, additional_headers=seller.upgrade_headers()) as seller_socket:
            for socket in (buyer_socket, seller_socket):
                for topic in ("order", "match"):
                    await socket.send(json.dumps({"topic": topic, "event": "sub"}))
                    ack = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
                    assert (ack["code"], ack["topic"], ack["event"]) == ("200", topic, "sub"), ack
            sell = seller.ok(seller.post("/api/order/create", {
                "symbol_id": "BTCUSDT", "side": "sell", "type": "limit", "price": "20000", "quantity": "0.01"}))
            buy = user.ok(user.post("/api/order/create", {
                "symbol_id": "BTCUSDT", "side": "buy", "type": "limit", "price": "20000", "quantity": "0.01",
                "client_order_id": "e2e-buy-1"}))
            matched = lambda frame: frame.get("topic") == "match" and frame.get("data")  # noqa: E731
            buyer_frames = await frames_until(buyer_socket, matched)
            seller_frames = await frames_until(seller_socket, matched)
            return sell, buy, buyer_frames, seller_frames

    sell, buy, buyer_frames, seller_frames = asyncio.run(trade_and_watch())
    buyer_fill, seller_fill = buyer_frames[-1]["data"][0], seller_frames[-1]["data"][0]
    assert (buyer_fill["orderId"], buyer_fill["side"], buyer_fill["quantity"]) == (buy["orderId"], "BUY", "0.01")
    assert (seller_fill["orderId"], seller_fill["side"]) == (sell["orderId"], "SELL")
    assert buyer_fill["matchOrderId"] == sell["orderId"] and isinstance(buyer_frames[-1]["id"], int)
    assert [f["data"][0]["status"] for f in buyer_frames if f["topic"] == "order"][0] == "NEW"

    # withdraw with GA, then the history
    quota = user.ok(user.get("/api/asset/withdrawal/quota_info", {"token_id": "USDT", "chain_type": "ERC20"}))
    assert quota["fee"] == "1"
    request = {"token_id": "USDT", "chain_type": "ERC20", "address": "0x" + "5a" * 20, "withdraw_quantity": "100",
               "client_order_id": "e2e-w-1"}
    assert user.post("/api/asset/withdrawal/create", request).json()["code"] == 1016
    withdrawal = user.ok(user.post("/api/asset/withdrawal/create", {**request, "ga_code": fresh_code(totp, used)}))
    assert withdrawal["quantity"] == "100" and withdrawal["fee"] == "1"
    withdrawals = user.ok(user.get("/api/asset/withdrawal/order_list"))
    assert [w["orderId"] for w in withdrawals] == [withdrawal["orderId"]]
    deposit_history = user.ok(user.get("/api/asset/deposit/order_list"))
    assert [(d["quantity"], d["tokenId"]) for d in deposit_history] == [("1000", "USDT")]
    orders = user.ok(user.get("/api/order/trade_orders"))
    assert [(o["orderId"], o["status"]) for o in orders] == [(buy["orderId"], "FILLED")]
    trades = user.ok(user.get("/api/order/my_trades"))
    assert [t["orderId"] for t in trades] == [buy["orderId"]]
    balances = {b["tokenId"]: b for b in user.ok(user.get("/api/asset/get"))}
    assert balances["BTC"]["free"] == "0.00998"  # 0.01 less the 0.2 % taker fee
    assert balances["USDT"]["locked"] == "101"
    history = user.ok(user.get("/api/user/authorize_log"))
    assert history[0]["result"] == "success"
