"""Resource calls: one scope per group of calls, the user taken from the token only,
tenancy by host, two requests per second per token, and every way a token dies."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from chalicelib.domain import oauth as rules
from chalicelib.services import ledger, oauth_clients, users
from chalicelib.store import orders as order_store
from tests.functional.test_oauth_support import (  # noqa: F401  (fixtures)
    OTHER_HOST, PREFIX, Api, clock, grant, http, items, oauth,
)

READS = {  # one call of every read, by scope
    rules.USER_INFO: [("user/getInfo", {})],
    rules.ACCOUNT_INFO: [("account/getInfo", {}), ("account/getAsset", {"tokenId": "usdt"}),
                         ("account/getDepositAddress", {"tokenId": "USDT", "chainType": "ERC20"})],
    rules.ACCOUNT_DETAIL: [("account/getBalanceFlow", {"limit": "5"}), ("account/getDepositHistory", {}),
                           ("account/getWithdrawHistory", {})],
    rules.TRADE_INFO: [("trade/spot/getOpenOrderList", {}), ("trade/spot/getHistoryOrderList", {}),
                       ("trade/spot/getTradeDetailList", {"symbol": "BTCUSDT"})],
}
ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "20000", "quantity": "0.01",
         "timeInForce": "GTC", "clientOrderId": "app-order-1"}


class Paced:
    """Calls with one token, moving the clock a second after every two (the token's limit)."""

    def __init__(self, api: Api, token: str, clock):
        self.api, self.token, self.clock, self.count = api, token, clock, 0

    def __call__(self, path: str, params: dict | None = None, method: str = "GET"):
        if self.count and self.count % 2 == 0:
            self.clock.advance(1)
        self.count += 1
        return self.api.call(self.token, path, params, method=method)


def test_every_scope_opens_its_own_calls_and_no_other(oauth, http, clock):
    api, app = Api(http), oauth["apps"]["confidential"]
    for granted in READS:
        token = grant(api, app, "alice@demo.local", scope=granted)["access_token"]
        call = Paced(api, token, clock)
        for scope, calls in READS.items():
            for path, params in calls:
                answer = call(path, params)
                if scope == granted:
                    assert answer.status == 200, (path, answer)
                else:
                    assert answer.status == 403 and answer.code == 1211, (path, answer)
                    assert f'scope="{scope}"' in answer.headers["www-authenticate"]
        refused = call("trade/spot/placeOrder", ORDER, method="POST")
        assert refused.status == 403 and set(refused.json) == {"code", "msg"}
    assert order_store.open_of_account(oauth["users"][0]["account_id"]) == []


def test_reads_answer_the_token_users_own_data(oauth, http, clock):
    api, app = Api(http), oauth["apps"]["confidential"]
    alice = oauth["users"][0]
    call = Paced(api, grant(api, app, alice["email"], scope=" ".join(READS))["access_token"], clock)
    me = call("user/getInfo")
    assert me.json["userId"] == alice["uid"] and me.json["email"] == alice["email"] and me.json["openId"]
    [usdt] = call("account/getAsset", {"tokenId": "USDT"}).json
    assert (usdt["tokenId"], usdt["total"], usdt["free"]) == ("USDT", "1000000", "1000000")
    address = call("account/getDepositAddress", {"tokenId": "USDT", "chainType": "ERC20"}).json
    assert address["tokenId"] == "USDT" and address["address"].startswith("0x")
    flows = call("account/getBalanceFlow", {"tokenId": "BTC"}).json
    assert [(f["tokenId"], f["change"]) for f in flows] == [("BTC", "10")]
    unknown = call("account/getAsset", {"tokenId": "NOPE"})
    assert unknown.status == 400


def test_an_order_is_placed_read_and_canceled_through_the_trade_scope(oauth, http, clock):
    api, app = Api(http), oauth["apps"]["public"]
    bob = oauth["users"][1]
    call = Paced(api, grant(api, app, bob["email"], scope="trade tradeInfo")["access_token"], clock)
    placed = call("trade/spot/placeOrder", ORDER, method="POST")
    assert placed.status == 200 and placed.json["status"] == "NEW", placed
    again = call("trade/spot/placeOrder", ORDER, method="POST")
    assert again.json["orderId"] == placed.json["orderId"], "a retry answers the first order"
    assert ledger.balance(bob["account_id"], "USDT").locked == D("200")
    listed = call("trade/spot/getOpenOrderList")
    assert [o["orderId"] for o in listed.json] == [placed.json["orderId"]]
    canceled = call("trade/spot/cancelOrder", {"clientOrderId": "app-order-1"}, method="POST")
    assert canceled.status == 200 and canceled.json["status"] == "CANCELED", canceled
    assert ledger.balance(bob["account_id"], "USDT").locked == 0
    as_get = call("trade/spot/placeOrder", ORDER)
    assert as_get.status == 405 and set(as_get.json) == {"code", "msg"}
    missing = call("trade/spot/cancelOrder", {}, method="POST")
    assert missing.status == 400 and missing.code == 2002 and "orderId" in missing.json["msg"]


def test_the_user_comes_from_the_token_never_from_a_parameter(oauth, http, clock):
    api, app = Api(http), oauth["apps"]["confidential"]
    alice, bob = oauth["users"]
    call = Paced(api, grant(api, app, alice["email"], scope="userInfo accountInfo")["access_token"], clock)
    for name in ("userId", "uid", "accountId"):
        answer = call("account/getAsset", {name: bob["uid"]})
        assert answer.status == 400 and answer.code == 2001 and name in answer.json["msg"]
    wrong_open_id = call("user/getInfo", {"open_id": "0" * 32})
    assert wrong_open_id.status == 400
    clock.advance(1)
    seed_style = api.get(f"{PREFIX}/user/getInfo", {"access_token": call.token, "client_id": app["client_id"]})
    assert seed_style.status == 200 and seed_style.json["userId"] == alice["uid"]
    clock.advance(1)
    twice = api.get(f"{PREFIX}/user/getInfo", {"access_token": call.token},
                    {"Authorization": f"Bearer {call.token}"})
    assert twice.status == 400


def test_a_token_of_org_a_is_refused_on_org_bs_host_and_leaves_nothing(oauth, http):
    api, app = Api(http), oauth["apps"]["confidential"]
    token = grant(api, app, "alice@demo.local", scope="userInfo")["access_token"]
    elsewhere = Api(http, OTHER_HOST).call(token, "user/getInfo")
    assert elsewhere.status == 401 and elsewhere.code == 1210 and set(elsewhere.json) == {"code", "msg"}
    assert items("OAUTHRATE#") == []
    assert api.call(token, "user/getInfo").status == 200


def test_a_third_request_within_one_second_is_refused_with_retry_after_and_does_nothing(oauth, http, clock):
    api, app = Api(http), oauth["apps"]["confidential"]
    alice = oauth["users"][0]
    token = grant(api, app, alice["email"], scope="userInfo trade")["access_token"]
    assert api.call(token, "user/getInfo").status == 200
    clock.advance(0.5)
    assert api.call(token, "user/getInfo").status == 200
    clock.advance(0.4)
    third = api.call(token, "trade/spot/placeOrder", ORDER, method="POST")
    assert third.status == 429 and third.code == 1020 and third.headers["retry-after"] == "1", third
    assert order_store.open_of_account(alice["account_id"]) == []
    clock.advance(0.1)  # one second after the first request: it has left the window
    assert api.call(token, "trade/spot/placeOrder", ORDER, method="POST").status == 200
    assert api.call(token, "user/getInfo").status == 429


def test_each_token_has_its_own_limit(oauth, http, clock):
    api, app = Api(http), oauth["apps"]["confidential"]
    first = grant(api, app, "alice@demo.local", scope="userInfo")["access_token"]
    second = grant(api, app, "alice@demo.local", scope="userInfo")["access_token"]
    assert [api.call(first, "user/getInfo").status for _ in range(3)] == [200, 200, 429]
    assert api.call(second, "user/getInfo").status == 200


def _revoke_in_user_api(oauth, app):
    from chalicelib.services import oauth_tokens
    oauth_tokens.revoke_app(oauth["org_id"], oauth["users"][0]["uid"], app["client_id"])


def _change_password(oauth, app):
    users.set_password(oauth["org_id"], oauth["users"][0]["uid"], "Changed-pass-2")


def _freeze(oauth, app):
    users.set_frozen(oauth["org_id"], oauth["users"][0]["uid"], login=True)


def _disable_app(oauth, app):
    oauth_clients.disable_app(oauth["org_id"], app["client_id"])


def _thaw(oauth, app):
    users.set_frozen(oauth["org_id"], oauth["users"][0]["uid"], login=False)


def _enable_app(oauth, app):
    oauth_clients.enable_app(oauth["org_id"], app["client_id"])


@pytest.mark.parametrize("end, undo", [(_revoke_in_user_api, None), (_change_password, None), (_freeze, _thaw),
                                       (_disable_app, _enable_app)],
                         ids=["user revokes", "password change", "user freeze", "app disable"])
def test_tokens_die_for_good_when(end, undo, oauth, http, clock):
    api, app = Api(http), oauth["apps"]["confidential"]
    tokens = grant(api, app, "alice@demo.local", scope="userInfo")
    assert api.call(tokens["access_token"], "user/getInfo").status == 200
    clock.advance(1)
    end(oauth, app)
    dead = api.call(tokens["access_token"], "user/getInfo")
    assert dead.status == 401 and dead.code == 1210, dead
    if undo:
        undo(oauth, app)
    assert api.call(tokens["access_token"], "user/getInfo").status == 401
    refreshed = api.token(app, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.error in ("invalid_grant", "invalid_client"), refreshed


def test_unknown_calls_answer_json_404(oauth, http):
    answer = Api(http).get(f"{PREFIX}/user/getEverything")
    assert answer.status == 404 and set(answer.json) == {"code", "msg"}
    deeper = Api(http).get(f"{PREFIX}/trade/spot/withdrawAll")
    assert deeper.status == 404 and deeper.json["code"] == 2005


def test_revoking_a_user_ends_their_grants_to_every_app(oauth, http):
    from chalicelib.services import oauth_tokens
    api = Api(http)
    first = grant(api, oauth["apps"]["confidential"], "alice@demo.local", scope="userInfo")
    second = grant(api, oauth["apps"]["public"], "alice@demo.local", scope="userInfo")
    bobs = grant(api, oauth["apps"]["public"], "bob@demo.local", scope="userInfo")
    assert oauth_tokens.revoke_user(oauth["org_id"], oauth["users"][0]["uid"]) == 2
    assert [api.call(t["access_token"], "user/getInfo").status for t in (first, second, bobs)] == [401, 401, 200]
