"""Authentication: key and signature, receive window, domain against key, IP whitelist,
key levels. Every refusal has its code and changes nothing."""
from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from chalicelib.auth import org_signature
from chalicelib.services import api_keys, catalog, users
from tests.functional.test_org_api_support import (  # noqa: F401  (fixtures)
    FORM, OrgClient, body, http, new_user, org_a, org_b, seeded,
)


def refused(response, status, code):
    assert (response.status_code, body(response)["code"]) == (status, code), response.body
    assert response.headers["Content-Type"].startswith("application/json")


def registered(email):
    return users.find_by_login("7002", email) is not None


def test_the_message_is_the_parameters_sorted_by_name_with_decoded_values():
    params = {"uid": "42", "timestamp": "1700000000000", "amount": "1.5", "desc": "a b&c=d", "signature": "x"}
    assert org_signature.message(params) == "amount=1.5&desc=a b&c=d&timestamp=1700000000000&uid=42"
    assert org_signature.verify("s", org_signature.sign("s", params).upper(), params)
    assert not org_signature.verify("s", org_signature.sign("t", params), params)


def test_a_signed_request_passes_with_either_key_header_in_any_parameter_order(org_a, http):
    assert org_a.read.ok("/getInfo", method="GET")["org_id"] == "7002"
    values = org_a.read.signed({"listType": "simple", "desc": "a b&c=d/é"})
    reordered = urlencode(list(reversed(list(values.items()))))
    response = http.get(f"/api/v2/org/getTokens?{reordered}",
                        headers={"Host": "localhost", "X-BH-APIKEY": org_a.read.api_key})
    assert response.status_code == 200 and body(response) == sorted(catalog.org("7002").tokens)
    split = http.post(f"/api/v2/org/getTokens?{urlencode({'timestamp': values['timestamp']})}",
                      body=urlencode({k: v for k, v in values.items() if k != "timestamp"}),
                      headers={"Host": "localhost", "X-ACCESS-KEY": org_a.read.api_key, "Content-Type": FORM})
    assert split.status_code == 200


def test_a_missing_or_unknown_key_or_a_bad_signature_is_refused(org_a, http):
    refused(http.post("/api/v2/org/getInfo", headers={"Host": "localhost"}), 401, 1001)
    refused(org_a.read.post("/getInfo", headers={"X-BH-APIKEY": org_a.asset.api_key}), 401, 1001)
    refused(org_a.read.post("/getInfo", signature="0" * 64), 401, 1002)
    stranger = OrgClient(http, "7002", "k" * 64, "s" * 64)
    refused(stranger.post("/getInfo"), 401, 1004)
    user_key = api_keys.authenticate_user_key(__import__("infra.local.seed", fromlist=["x"]).demo_text(
        "user-key:alice@demo.local"))
    as_user = OrgClient(http, "7002", user_key.api_key, user_key.secret)
    refused(as_user.post("/getInfo"), 401, 1004)  # a user's OpenAPI key is not an org key


@pytest.mark.parametrize("offset_ms", [-60_000, -5_001, 1_500, 3_600_000])
def test_stale_and_future_timestamps_are_refused_without_effect(org_a, offset_ms):
    response = org_a.asset.post("/user/registerUser", {"email": "late@7002.test", "client_order_id": "late"},
                                timestamp=int(time.time() * 1000) + offset_ms)
    refused(response, 401, 1003)
    assert not registered("late@7002.test")


def test_a_larger_receive_window_admits_an_older_timestamp_up_to_a_minute(org_a):
    now = int(time.time() * 1000)
    assert org_a.read.post("/getInfo", {"recvWindow": "20000"}, timestamp=now - 10_000).status_code == 200
    refused(org_a.read.post("/getInfo", {"recvWindow": "3600000"}, timestamp=now - 120_000), 401, 1003)


def test_the_key_of_one_org_is_refused_on_another_orgs_domain_and_on_unknown_domains(org_a, org_b):
    response = org_a.asset.post("/user/registerUser", {"email": "x@7002.test", "client_order_id": "x"},
                                host="second.local")
    refused(response, 403, 1041)
    refused(org_b.read.post("/getInfo", host="localhost"), 403, 1041)
    refused(org_a.read.post("/getInfo", host="evil.example"), 403, 1040)
    assert not registered("x@7002.test")


def test_a_caller_outside_the_whitelist_is_refused_whatever_it_claims_in_headers(seeded, http):
    view, secret = api_keys.create_org_key("7002", level="asset", ip_whitelist=["10.1.2.3"], operation_id="far")
    far = OrgClient(http, "7002", view.api_key, secret)
    response = far.post("/user/registerUser", {"email": "far@7002.test", "client_order_id": "far"},
                        headers={"X-Forwarded-For": "10.1.2.3", "X-Real-IP": "10.1.2.3"})
    refused(response, 403, 1011)
    assert not registered("far@7002.test")
    api_keys.set_org_key_ips("7002", view.api_key, ["10.1.2.0/24", "127.0.0.1"])
    assert far.post("/getInfo").status_code == 200


def test_key_levels_and_state(org_a, seeded, http):
    refused(org_a.read.post("/user/registerUser", {"email": "r@7002.test", "client_order_id": "r"}), 403, 1013)
    unlisted, unlisted_secret = api_keys.create_org_key("7002", level="asset", operation_id="no-whitelist")
    demo = OrgClient(http, "7002", unlisted.api_key, unlisted_secret)
    assert demo.post("/getInfo").status_code == 200
    refused(demo.post("/user/registerUser", {"email": "d@7002.test", "client_order_id": "d"}), 403, 1012)
    api_keys.set_org_key_enabled("7002", org_a.asset.api_key, False)
    refused(org_a.asset.post("/getInfo"), 403, 1014)
    assert not registered("r@7002.test") and not registered("d@7002.test")


def test_no_org_id_or_account_id_is_taken_from_parameters(org_a):
    user = new_user(org_a, "par")
    refused(org_a.read.post("/user/getInfo", {"uid": user["uid"], "org_id": "7003"}), 400, 2001)
    refused(org_a.read.post("/account/getAsset", {"account_id": user["main_account_id"]}), 400, 2001)


def test_only_get_and_post_are_served(org_a, http):
    values = org_a.read.signed({})
    for method in ("PUT", "DELETE", "PATCH"):
        response = http.request(method, f"/api/v2/org/getInfo?{urlencode(values)}", body=b"",
                                headers={"Host": "localhost", "X-ACCESS-KEY": org_a.read.api_key})
        assert response.status_code in (403, 405)


def test_duplicate_parameters_and_json_bodies_are_refused(org_a, http):
    values = org_a.read.signed({"uid": "1"})
    response = http.post(f"/api/v2/org/user/getInfo?uid=2", body=urlencode(values),
                         headers={"Host": "localhost", "X-ACCESS-KEY": org_a.read.api_key, "Content-Type": FORM})
    refused(response, 400, 2001)
    response = http.post("/api/v2/org/getInfo", body=b'{"a": 1}', headers={
        "Host": "localhost", "X-ACCESS-KEY": org_a.read.api_key, "Content-Type": "application/json"})
    refused(response, 400, 2001)
