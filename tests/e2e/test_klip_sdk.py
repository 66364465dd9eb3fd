"""klip-sdk 2.3.3, unchanged, under Node 20 against the local stack: the six request
types prepared, approved or canceled, polled to their end; the card list paged."""
from __future__ import annotations

import requests
from eth_account import Account
from eth_account.messages import encode_defunct

from tests.e2e.klip.support import klip_info, mint, partner_token, random_address, run_node


def test_klip_sdk_drives_every_request_type_and_pages_the_card_list(stack):
    info = klip_info(stack)
    alice, bob = info["users"]
    token = partner_token(stack, info)
    card_ids = mint(stack, info, token, alice["address"], 2)
    list_eoa = random_address()
    mint(stack, info, token, list_eoa, 250)

    out = run_node("sdk_flow.js", {
        "rest_url": stack.rest_url, "alice": alice, "bob": bob, "contract": info["partner"]["contract_address"],
        "kip7": info["kip7_contract"], "card_ids": card_ids, "list_eoa": list_eoa})

    assert out["error_code"] == 6401
    assert out["auth"]["result"]["klaytn_address"] == alice["address"]
    assert [out[k]["status"] for k in ("send_klay", "send_token", "send_card", "execute_contract", "sign_message")] == [
        "completed", "canceled", "completed", "completed", "completed"]
    signed = out["sign_message"]
    assert Account.recover_message(encode_defunct(text=signed["message"]),
                                   signature=signed["result"]["signature"]) == alice["address"]
    assert out["card_pages"] == [100, 100, 50] and len(set(out["card_ids"])) == 250
    assert "GET /v2/a2a/cards?sca=%s&eoa=%s&cursor=" % (info["partner"]["contract_address"], list_eoa) in out[
        "requests"]
    for card_id in card_ids:
        listed = requests.get(f"{stack.rest_url}/v2/a2a/cards", timeout=30, params={
            "sca": info["partner"]["contract_address"], "eoa": bob["address"], "cursor": ""}).json()
        assert card_id in [c["card_id"] for c in listed["cards"]]


def test_browsers_get_cors_answers_and_every_answer_is_json(stack):
    preflight = requests.options(f"{stack.rest_url}/v2/a2a/prepare", timeout=30, headers={
        "Origin": "https://bapp.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    answer = requests.get(f"{stack.rest_url}/v2/a2a/result", params={"request_key": "nope"}, timeout=30,
                          headers={"Origin": "https://bapp.example"})
    assert answer.status_code == 400 and answer.json()["code"] == 6000
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    bad_json = requests.post(f"{stack.rest_url}/v2/a2a/prepare", data=b"{not json", timeout=30,
                             headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["code"] == 6402


def test_partner_token_trailing_slash_route_and_metadata_over_http(stack):
    info = klip_info(stack)
    token = partner_token(stack, info)
    same = info["partner"]["password_sha256"]
    wrong = requests.put(f"{stack.rest_url}/v2/partner/?opt=password", timeout=30, headers={"Authorization": token},
                         json={"old_password": "0" * 64, "new_password": same})
    assert (wrong.status_code, wrong.json()["code"]) == (400, 400)
    (card_id,) = mint(stack, info, token, random_address(), 1)
    uri = f"{stack.rest_url}/v2/card/{info['partner']['contract_address'].lower()}/{card_id}"
    metadata = requests.get(uri, timeout=30)
    assert metadata.headers["Content-Type"] == "application/json; charset=utf-8"
    assert metadata.json()["name"] == "E2E card"
