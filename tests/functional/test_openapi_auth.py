"""Signed requests: every refusal has BHEX's exact code and changes nothing."""
from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from chalicelib.auth import rate_limits
from chalicelib.auth.bhex_signature import sign
from chalicelib.services import api_keys, users
from tests.functional.test_openapi_support import (  # noqa: F401  (fixtures)
    FORM, HOST, Bhex, all_order_ids, balances, body, http, new_key, seeded, user_client,
)

ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "30000",
         "timeInForce": "GTC"}


@pytest.fixture
def alice(seeded, http):
    return user_client(http, seeded["users"][0])


@pytest.fixture
def alice_account(seeded):
    return seeded["users"][0]["account_id"]


def refused(response, status, code):
    assert (response.status_code, body(response)["code"]) == (status, code), response.body
    assert response.headers["error_code"] == str(code)
    assert response.headers["Content-Type"].startswith("application/json")


def assert_untouched(account_id, before_balances, before_orders):
    assert balances(account_id) == before_balances
    assert all_order_ids(account_id) == before_orders


def test_a_signed_order_from_the_sdk_is_placed_and_its_funds_locked(alice, alice_account):
    response = alice.post("/openapi/v1/order", ORDER)
    assert response.status_code == 200, response.body
    assert body(response)["status"] == "NEW"
    assert balances(alice_account)["USDT"][1] == 300


def test_stale_and_future_timestamps_are_refused_with_1021(alice, alice_account):
    before = balances(alice_account), all_order_ids(alice_account)
    for offset_ms in (-60_000, -5_500, 1_500, 3_600_000):
        response = alice.post("/openapi/v1/order", ORDER, timestamp=int(time.time() * 1000) + offset_ms)
        refused(response, 400, -1021)
    refused(alice.get("/openapi/v1/account", timestamp=int(time.time() * 1000) - 10_000), 400, -1021)
    assert_untouched(alice_account, *before)


def test_a_larger_recv_window_admits_an_older_timestamp(alice):
    response = alice.post("/openapi/v1/order", {**ORDER, "recvWindow": "20000"},
                          timestamp=int(time.time() * 1000) - 10_000)
    assert response.status_code == 200, response.body


def test_a_bad_signature_is_refused_with_1022(alice, alice_account):
    before = balances(alice_account), all_order_ids(alice_account)
    refused(alice.post("/openapi/v1/order", ORDER, signature="0" * 64), 400, -1022)
    refused(alice.delete("/openapi/v1/order", {"orderId": "1"}, signature="f" * 64), 400, -1022)
    assert_untouched(alice_account, *before)


def test_a_signature_of_other_values_is_refused(alice, alice_account, http):
    before = balances(alice_account), all_order_ids(alice_account)
    pairs = alice.signed_params(ORDER)
    tampered = [(k, "1" if k == "quantity" else v) for k, v in pairs]
    response = http.post("/openapi/v1/order", headers={**HOST, "X-BH-APIKEY": alice.api_key, "Content-Type": FORM},
                         body=urlencode(tampered))
    refused(response, 400, -1022)
    assert_untouched(alice_account, *before)


def test_an_uppercase_signature_is_refused_as_bhex_compares_exactly(alice):
    pairs = alice.signed_params({})
    upper = [(k, v.upper() if k == "signature" else v) for k, v in pairs]
    response = alice.http.get(f"/openapi/v1/account?{urlencode(upper)}", headers={**HOST, "X-BH-APIKEY": alice.api_key})
    refused(response, 400, -1022)


def test_an_unknown_key_is_refused_with_1022(alice, alice_account):
    before = balances(alice_account), all_order_ids(alice_account)
    refused(alice.post("/openapi/v1/order", ORDER, api_key="x" * 64), 400, -1022)
    assert_untouched(alice_account, *before)


def test_a_missing_or_short_key_is_refused_with_1002(alice):
    refused(alice.get("/openapi/v1/account", api_key=""), 400, -1002)
    refused(alice.get("/openapi/v1/account", api_key="short"), 400, -1002)


def test_the_access_key_parameter_stands_in_for_the_header(alice, http):
    pairs = [("accessKey", alice.api_key), ("timestamp", str(int(time.time() * 1000)))]
    pairs.append(("signature", sign(alice.secret, urlencode(pairs))))
    response = http.get(f"/openapi/v1/account?{urlencode(pairs)}", headers=HOST)
    assert response.status_code == 200, response.body


def test_missing_signature_and_timestamp_are_1004_and_no_parameters_is_1103(alice, http):
    headers = {**HOST, "X-BH-APIKEY": alice.api_key}
    refused(http.get("/openapi/v1/account", headers=headers), 400, -1103)
    now = str(int(time.time() * 1000))
    response = http.get(f"/openapi/v1/account?timestamp={now}", headers=headers)
    refused(response, 400, -1004)
    assert body(response)["msg"] == "Missing required parameter 'signature'"
    response = http.get(f"/openapi/v1/account?signature={'a' * 64}", headers=headers)
    assert body(response) == {"code": -1004, "msg": "Missing required parameter 'timestamp'"}


def test_a_disabled_key_is_refused_with_2015(seeded, alice, alice_account):
    user = seeded["users"][0]
    api_keys.set_user_key_enabled(seeded["org"]["org_id"], user["uid"], alice.api_key, False)
    before = balances(alice_account), all_order_ids(alice_account)
    refused(alice.post("/openapi/v1/order", ORDER), 400, -2015)
    refused(alice.get("/openapi/v1/account"), 400, -2015)
    assert_untouched(alice_account, *before)


def test_a_disabled_user_is_refused_with_2015(seeded, alice, alice_account):
    users.set_frozen(seeded["org"]["org_id"], seeded["users"][0]["uid"], login=True)
    before = balances(alice_account), all_order_ids(alice_account)
    refused(alice.post("/openapi/v1/order", ORDER), 400, -2015)
    assert_untouched(alice_account, *before)


def test_an_ip_outside_the_keys_whitelist_is_refused_with_2015(seeded, http, alice_account):
    outsider = new_key(seeded, 0, http, ip_whitelist=["10.1.2.3"])
    before = balances(alice_account), all_order_ids(alice_account)
    refused(outsider.post("/openapi/v1/order", ORDER), 400, -2015)
    assert_untouched(alice_account, *before)
    insider = new_key(seeded, 0, http, ip_whitelist=["127.0.0.0/8"], op="inside")
    assert insider.post("/openapi/v1/order", ORDER).status_code == 200


def test_a_read_only_key_may_read_but_not_trade(seeded, http, alice_account):
    reader = new_key(seeded, 0, http, key_type=api_keys.USER_READ_ONLY)
    before = balances(alice_account), all_order_ids(alice_account)
    for response in (reader.post("/openapi/v1/order", ORDER), reader.post("/openapi/v1/order/test", ORDER),
                     reader.delete("/openapi/v1/order", {"orderId": "1"}),
                     reader.delete("/openapi/v1/order/batchCancel", {})):
        refused(response, 400, -1020)
    assert_untouched(alice_account, *before)
    assert reader.get("/openapi/v1/account").status_code == 200
    assert reader.post("/openapi/v1/userDataStream").status_code == 200


def test_a_key_of_another_broker_is_unknown_on_this_brokers_host(seeded, alice):
    other = Bhex(alice.http, alice.api_key, alice.secret, headers={"Host": "second.local"})
    refused(other.get("/openapi/v1/account"), 400, -1022)


def test_withdrawals_need_a_key_with_an_ip_whitelist(seeded, alice, alice_account):
    before = balances(alice_account), all_order_ids(alice_account)
    response = alice.post("/openapi/v1/withdraw", {"clientOrderId": "w1", "tokenId": "USDT", "address": "0xabc",
                                                   "withdrawQuantity": "10"})
    refused(response, 400, -1023)
    assert_untouched(alice_account, *before)


class TestRateLimits:
    @pytest.fixture(autouse=True)
    def small_limits(self, monkeypatch):
        monkeypatch.setitem(rate_limits.LEVELS, 2, rate_limits.Level(weight_per_minute=12, orders=3,
                                                                     orders_seconds=60))

    def test_broker_info_advertises_the_enforced_limits(self, alice, http):
        info = body(http.get("/openapi/v1/brokerInfo", headers=HOST))
        assert info["rateLimits"] == [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalUnit": 1, "limit": 12},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalUnit": 60, "limit": 3}]

    def test_a_burst_of_weight_is_refused_with_1003_429_and_retry_after(self, seeded, alice, alice_account):
        now = time.time()
        if now % 60 > 55:  # keep the burst inside one window
            time.sleep(61 - now % 60)
        assert [alice.get("/openapi/v1/account").status_code for _ in range(2)] == [200, 200]  # 5 + 5
        response = alice.get("/openapi/v1/account")  # 15 > 12
        refused(response, 429, -1003)
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert body(response)["msg"] == "Too many requests, current limit is 12 requests per 1 MINUTE ."
        assert alice.get("/openapi/v1/openOrders").status_code == 200  # weight 1 still fits: 11
        other = user_client(alice.http, seeded["users"][1])
        assert other.get("/openapi/v1/account").status_code == 200  # limits are per key

    def test_a_burst_of_orders_is_refused_with_1015_and_places_nothing(self, alice, alice_account):
        now = time.time()
        if now % 60 > 55:
            time.sleep(61 - now % 60)
        for index in range(3):
            assert alice.post("/openapi/v1/order", {**ORDER, "newClientOrderId": f"burst-{index}"}).status_code == 200
        before = balances(alice_account), all_order_ids(alice_account)
        response = alice.post("/openapi/v1/order", {**ORDER, "newClientOrderId": "burst-3"})
        refused(response, 429, -1015)
        assert body(response)["msg"] == "Too many new orders; current limit is 3 orders per 60 SECOND."
        assert int(response.headers["Retry-After"]) >= 1
        assert_untouched(alice_account, *before)



@pytest.mark.parametrize("style", ["sdk", "ccxt"])
def test_both_clients_orderings_verify_with_escaped_values_in_body_and_query(seeded, http, style):
    client = user_client(http, seeded["users"][0], style)
    awkward = f"{style} a,b/c:d@e+f g"
    placed = client.post("/openapi/v1/order", {**ORDER, "newClientOrderId": awkward})
    assert placed.status_code == 200, placed.body
    assert body(placed)["clientOrderId"] == awkward
    found = client.get("/openapi/v1/order", {"orderId": "", "origClientOrderId": awkward})
    assert body(found)["orderId"] == body(placed)["orderId"], found.body
    canceled = client.delete("/openapi/v1/order", {"orderId": "", "clientOrderId": awkward})
    assert body(canceled)["status"] == "CANCELED", canceled.body
    mixed = client.post("/openapi/v1/order/test?symbol=BTCUSDT&side=BUY", {
        "type": "LIMIT", "quantity": "0.01", "price": "30000"})
    assert mixed.status_code == 400  # the query part was not signed by this helper: refused
    assert body(mixed)["code"] == -1022
    query = [("symbol", "BTCUSDT"), ("side", "BUY")]
    form = [("type", "LIMIT"), ("quantity", "0.01"), ("price", "30000"), ("newClientOrderId", awkward + "2"),
            ("timestamp", str(int(time.time() * 1000)))]
    form.append(("signature", sign(client.secret, urlencode(query) + urlencode(form))))
    signed_mixed = http.post(f"/openapi/v1/order?{urlencode(query)}", body=urlencode(form),
                             headers={**HOST, "X-BH-APIKEY": client.api_key, "Content-Type": FORM})
    assert signed_mixed.status_code == 200, signed_mixed.body
