"""A user can never read or act on another user's orders, balances, keys, withdrawals,
addresses, deposits or sessions: every User API route, called with a second user's
session and the first user's identifiers (and `uid` / `account_id` parameters, which
are ignored), answers nothing of the first user's and changes nothing of theirs."""
from __future__ import annotations

import json

import pytest

from chalicelib.api.user.http import PUBLIC, REGISTERED
from chalicelib.gateways import custody
from chalicelib.services import api_keys, content, deposits, sessions
from chalicelib.store import orders as order_store
from infra.local.seed import PASSWORD
from tests.functional.test_user_api_support import (  # noqa: F401  (fixtures)
    Browser, bind_ga, clock, ga_code, http, last_code, log_in, seeded,
)

# Routes that take no identifier of another user and touch only the caller's own data are
# still called below (with the victim's ids as stray parameters); PUBLIC routes hold no
# user data at all and are checked separately.


class World:
    """Alice (the victim) with one of everything; Bob (the caller) with GA bound."""

    def __init__(self, seeded, http, clock):
        self.http, self.clock = http, clock
        alice_user, bob_user = seeded["users"]
        self.alice = log_in(http, "alice@demo.local")
        self.alice_uid, self.alice_account = alice_user["uid"], alice_user["account_id"]
        self.alice_key = alice_user["api_key"]
        self.alice_key_id = next(k.key_id for k in api_keys.list_user_keys("7002", self.alice_uid))
        placed = self.alice.post("/api/order/create", {"symbol_id": "BTCUSDT", "side": "buy", "type": "limit",
                                                       "price": "100", "quantity": "0.01", "client_order_id": "alice-1"})
        assert placed.status == 200, placed
        self.alice_order = placed.json["orderId"]
        self.alice.post("/api/user/send_verify_code", {"type": "ADD_WITHDRAW_ADDRESS"})
        code, order_id = last_code("alice@demo.local", "ADD_WITHDRAW_ADDRESS")
        added = self.alice.post("/api/asset/withdrawal/address/add", {
            "token_id": "USDT", "chain_type": "ERC20", "address": "0x" + "cd" * 20, "verify_code": code,
            "order_id": order_id})
        assert added.status == 200, added
        self.alice_address = added.json["addressId"]
        self.alice.post("/api/user/send_verify_code", {"type": "WITHDRAW"})
        code, order_id = last_code("alice@demo.local", "WITHDRAW")
        withdrawn = self.alice.post("/api/asset/withdrawal/create", {
            "token_id": "USDT", "chain_type": "ERC20", "address": "0x" + "cd" * 20, "withdraw_quantity": "50",
            "client_order_id": "alice-w1", "verify_code": code, "order_id": order_id})
        assert withdrawn.status == 200, withdrawn
        self.alice_withdrawal = withdrawn.json["orderId"]
        address = self.alice.get("/api/asset/deposit/address", {"token_id": "USDT", "chain_type": "TRC20"}).json
        report = custody.simulator().deposit_report(chain="TRC20", token="USDT", address=address["address"],
                                                    amount="25", confirmations=address["requiredConfirmations"])
        self.alice_deposit = deposits.receive_callback(json.loads(report.body))["deposit_id"]
        self.alice_address_text = address["address"]
        self.alice_session = self.alice.get("/api/user/sessions").json[0]["sessionId"]
        assert self.alice.post("/api/user/favorite/create", {"symbol_id": "ETHBTC"}).status == 200
        assert self.alice.post("/api/user/set_settings", {"settings": {"theme": "dark"}}, as_json=True).status == 200
        self.bob_password = PASSWORD
        self.bob = log_in(http, "bob@demo.local")
        self.bob_secret = bind_ga(self.bob, clock)

    def secrets(self) -> list[str]:
        """Identifiers of Alice's that must never appear in an answer to Bob."""
        return [self.alice_uid, self.alice_account, self.alice_key, self.alice_order, self.alice_address,
                self.alice_withdrawal, self.alice_deposit, self.alice_session, self.alice_key_id,
                "alice@demo.local", "al***@demo.local", "0x" + "cd" * 20]

    def bob_browser(self) -> Browser:
        if self.bob.get("/api/user/get_base_info").status != 200:
            self.bob = log_in(self.http, "bob@demo.local", self.bob_password,
                              ga_code=ga_code(self.clock, self.bob_secret))
        return self.bob

    def ga(self) -> str:
        return ga_code(self.clock, self.bob_secret)


# path -> parameters (built from the world); every call also carries Alice's uid and account.
def table(w: World) -> dict[str, dict]:
    key = {"api_key": w.alice_key, "api_key_id": w.alice_key_id}
    return {
        "/api/user/send_verify_code": {"type": "WITHDRAW"},
        "/api/user/authorize_cancel": {},
        "/api/user/authorize_log": {},
        "/api/user/sessions": {},
        "/api/user/session/revoke": {"session_id": w.alice_session},
        "/api/user/session/revoke_others": {},
        "/api/user/update_pwd": {"old_password": w.bob_password, "password": "Bob-other-pass1", "ga_code": w.ga},
        "/api/user/get_base_info": {},
        "/api/user/get_settings": {},
        "/api/user/set_settings": {"settings": json.dumps({"theme": "light"})},
        "/api/user/edit_anti_phishing_code": {"anti_phishing_code": "bob-apc", "ga_code": w.ga},
        "/api/user/before_bind_ga": {},
        "/api/user/bind_ga": {"ga_code": "123456"},
        "/api/user/before_alter_ga": {},
        "/api/user/alter_ga": {"old_ga_code": "000000", "ga_code": "000000"},
        "/api/user/unbind_ga": {"ga_code": "000000", "password": "wrong-password"},
        "/api/user/bind_email": {"email": "alice@demo.local", "verify_code": "000000", "order_id": "1"},
        "/api/user/bind_mobile": {"national_code": "82", "mobile": "1012345678", "verify_code": "0", "order_id": "1"},
        "/api/user/verify_info": {},
        "/api/user/kyclevel": {},
        "/api/user/kyc/basicverify": {"country_code": "KR", "first_name": "B", "last_name": "B", "card_type": 1,
                                      "card_no": "BB123456"},
        "/api/user/verify/upload_image": {"type": "card_front"},
        "/api/user/kyc/photoverify": {"level": 2, "card_front": f"kyc/7002/{w.alice_uid}/1-card_front",
                                      "card_back": f"kyc/7002/{w.alice_uid}/1-card_back",
                                      "card_hand": f"kyc/7002/{w.alice_uid}/1-card_hand"},
        "/api/user/api_keys": {},
        "/api/user/api_key/create": {"tag": "bob", "type": 0, "ga_code": w.ga},
        "/api/user/api_key/update_ips": {**key, "ip_white_list": "9.9.9.9", "ga_code": w.ga},
        "/api/user/api_key/change_status": {**key, "status": 0, "ga_code": w.ga},
        "/api/user/api_key/delete": {**key, "ga_code": w.ga},
        "/api/user/favorite/list": {},
        "/api/user/favorite/create": {"symbol_id": "BTCUSDT"},
        "/api/user/favorite/cancel": {"symbol_id": "ETHBTC"},
        "/api/invitation/info": {},
        "/api/invitation/list": {},
        "/api/asset/get": {},
        "/api/asset/info": {},
        "/api/asset/liability_proof": {"token": "BTC"},
        "/api/user/tickets": {},
        "/api/user/oauth_apps": {},
        "/api/user/oauth_apps/revoke": {"client_id": "unknown-app"},
        "/api/user/ticket": {"action": "close", "ticket_id": "1"},
        "/api/asset/balance_flow": {"token_id": "USDT"},
        "/api/asset/deposit/address": {"token_id": "USDT", "chain_type": "TRC20"},
        "/api/asset/deposit/order_list": {},
        "/api/asset/deposit/order": {"order_id": w.alice_deposit},
        "/api/asset/withdrawal/quota_info": {"token_id": "USDT", "chain_type": "ERC20"},
        "/api/asset/withdrawal/address_list": {},
        "/api/asset/withdrawal/address/check": {"token_id": "USDT", "chain_type": "TRC20",
                                                "address": w.alice_address_text},
        "/api/asset/withdrawal/address/add": {"token_id": "USDT", "chain_type": "ERC20", "address": "0x" + "ef" * 20,
                                              "ga_code": w.ga},
        "/api/asset/withdrawal/address/delete": {"address_id": w.alice_address, "ga_code": w.ga},
        "/api/asset/withdrawal/create": {"token_id": "USDT", "chain_type": "ERC20", "address": "0x" + "ef" * 20,
                                         "withdraw_quantity": "11", "client_order_id": "alice-w1", "ga_code": w.ga},
        "/api/asset/withdrawal/order/cancel": {"order_id": w.alice_withdrawal},
        "/api/asset/withdrawal/order": {"order_id": w.alice_withdrawal},
        "/api/asset/withdrawal/order_list": {},
        "/api/order/create": {"symbol_id": "BTCUSDT", "side": "sell", "type": "limit", "price": "100",
                              "quantity": "0.01", "client_order_id": "alice-1"},
        "/api/order/cancel": {"order_id": w.alice_order, "client_order_id": "alice-1"},
        "/api/order/batch_cancel": {},
        "/api/order/get": {"order_id": w.alice_order},
        "/api/order/open_orders": {},
        "/api/order/trade_orders": {},
        "/api/order/match_info": {"order_id": w.alice_order},
        "/api/order/my_trades": {},
    }


# Rows that name one of Alice's things: Bob is told it does not exist.
NOT_FOUND = {
    "/api/user/session/revoke": 2004, "/api/user/api_key/update_ips": 2004, "/api/user/api_key/change_status": 2004,
    "/api/user/api_key/delete": 2004, "/api/asset/deposit/order": 5008, "/api/asset/withdrawal/address/delete": 2004,
    "/api/asset/withdrawal/order/cancel": 5007, "/api/asset/withdrawal/order": 5007, "/api/order/cancel": 4030,
    "/api/order/get": 4030, "/api/order/match_info": 4030, "/api/user/kyc/photoverify": 1073,
}


def test_every_route_is_covered_by_the_table(seeded, http, clock):
    covered = set(table_paths())
    for name, paths, access, _ in REGISTERED:
        if access == PUBLIC:
            continue
        assert set(paths) & covered, f"{name} ({paths}) is not in the cross-user table"


def table_paths() -> list[str]:
    class Stub:
        def __getattr__(self, name):
            return "x" if name != "ga" else (lambda: "0")
    return list(table(Stub()))


def test_a_second_users_session_never_reads_or_changes_the_first_users_data(seeded, http, clock):
    world = World(seeded, http, clock)
    leaked = []
    for path, params in table(world).items():
        resolved = {k: (v() if callable(v) else v) for k, v in params.items()}
        resolved.update(uid=world.alice_uid, user_id=world.alice_uid, account_id=world.alice_account)
        bob = world.bob_browser()
        method = "POST"
        answer = bob.request(method, path, resolved)
        assert answer.status != 500, (path, answer)
        if path in NOT_FOUND:
            assert (answer.status, answer.code) == (400, NOT_FOUND[path]), (path, answer)
        if path == "/api/user/update_pwd" and answer.status == 200:
            world.bob_password = resolved["password"]
        body = answer.raw.decode()
        leaked += [(path, secret) for secret in world.secrets() if secret and secret in body]
    assert leaked == []

    # Alice's things are all as they were
    alice = log_in(http, "alice@demo.local")
    assert [o["orderId"] for o in alice.get("/api/order/open_orders").json] == [world.alice_order]
    assert order_store.get(int(world.alice_order)).order.status.value == "NEW"
    withdrawal = alice.get("/api/asset/withdrawal/order", {"order_id": world.alice_withdrawal}).json
    assert withdrawal["state"] == "QUEUED" and withdrawal["cancelable"] is True
    keys = alice.get("/api/user/api_keys").json
    assert [(k["apiKey"], k["enabled"], k["ipWhiteList"]) for k in keys] == [(world.alice_key, True, "")]
    assert [a["addressId"] for a in alice.get("/api/asset/withdrawal/address_list").json] == [world.alice_address]
    assert world.alice.get("/api/user/get_base_info").status == 200  # Alice's first session still lives
    assert content.favorites("7002", world.alice_uid) == ["ETHBTC"]
    assert content.settings(world.alice_uid) == {"theme": "dark"}
    me = alice.get("/api/user/get_base_info").json
    assert me["antiPhishingCode"] is False and me["bindGA"] is False and me["kycLevel"] == 0
    assert alice.get("/api/user/verify_info").json["status"] == 0
    assert sessions.login_history("7002", world.alice_uid)[0]["result"] == "success"


@pytest.mark.parametrize("path", ["/s_api/basic/tokens", "/s_api/basic/symbols", "/s_api/basic/config",
                                  "/s_api/basic/banners", "/s_api/basic/announcements", "/api/quote/v1/time"])
def test_public_routes_hold_no_user_data(seeded, http, path):
    answer = Browser(http).get(path, {"uid": seeded["users"][0]["uid"]})
    assert answer.status == 200
    assert seeded["users"][0]["uid"] not in answer.raw.decode()
