"""App2App: prepare validation, the result envelope and its polling rules, key lifetime,
approval through the page's own endpoints for all six types, and the card list."""
from __future__ import annotations

import json
import time
from decimal import Decimal as D

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from chalicelib.auth import totp
from chalicelib.domain import klip as rules
from chalicelib.gateways import custody as gateway
from chalicelib.services import a2a, cards, ledger, partners, users, wallets, withdrawals
from chalicelib.store import partners as partner_store
from chalicelib.workers import custody as worker
from tests.functional.test_klip_support import (  # noqa: F401  (fixtures)
    body, get, http, klip_seeded, post,
)

OUTSIDE = "0x" + "ab" * 20
TRANSFER_FROM = json.dumps({"constant": False, "inputs": [{"name": "from", "type": "address"},
                                                          {"name": "to", "type": "address"},
                                                          {"name": "tokenId", "type": "uint256"}],
                            "name": "transferFrom", "outputs": [], "payable": False, "type": "function"})


@pytest.fixture
def world(klip_seeded):
    k = klip_seeded["klip"]
    alice, bob = k["users"]
    account = partner_store.get(k["partner"]["partner_id"])
    return {"org": klip_seeded["org"]["org_id"], "alice": alice, "bob": bob, "partner": k["partner"],
            "account": account, "contract": k["partner"]["contract_address"], "kip7": k["kip7_contract"]}


def mint(world, owner_address, count=1, sendable=True) -> list[int]:
    answer = partners.mint(partner_store.get(world["partner"]["partner_id"]),
                           {"pin": world["partner"]["pin"], "to_address": [owner_address] * count, "name": "c",
                            "sendable": sendable})
    return [c["card_id"] for c in answer["cards"]]


def prepare(http, payload) -> dict:
    answer = post(http, "/v2/a2a/prepare", payload)
    assert answer.status_code == 200, answer.body
    return body(answer)


def result(http, key):
    return get(http, f"/v2/a2a/result?request_key={key}")


def login(http, key, who, **extra):
    answer = post(http, "/a2a/api/login", {"request_key": key, "login": who["email"], "password": who["password"],
                                           **extra})
    assert answer.status_code == 200, answer.body
    return body(answer)["session"]


def approve(http, key, who) -> dict:
    session = login(http, key, who)
    answer = post(http, "/a2a/api/approve", {"request_key": key}, {"X-Approval-Session": session})
    assert answer.status_code == 200, answer.body
    return body(answer)


def bapp(kind, **fields) -> dict:
    payload = {"bapp": {"name": "Test BApp", "callback": {}}, "type": kind}
    payload.update(fields)
    return payload


def balance(account_id, token):
    return ledger.balance(account_id, token).available


# --- prepare -------------------------------------------------------------------------------------

A, C = "0x" + "11" * 20, None


@pytest.mark.parametrize("payload,code", [
    ({"bapp": {"name": ""}, "type": "auth"}, 6401),
    ({"bapp": {}, "type": "auth"}, 6401),
    ({"type": "auth"}, 6401),
    ({"bapp": {"name": "b"}, "type": "send_everything"}, 6410),
    ({"bapp": {"name": "b"}}, 6410),
    ({"bapp": {"name": "b"}, "type": "send_klay"}, 6402),
    ({"bapp": {"name": "b"}, "type": "send_klay", "transaction": "x"}, 6402),
    ({"bapp": {"name": "b"}, "type": "send_klay", "transaction": {"to": "0x1", "amount": "1"}}, 6403),
    ({"bapp": {"name": "b"}, "type": "send_klay", "transaction": {"to": A, "amount": "1.1234567"}}, 6404),
    ({"bapp": {"name": "b"}, "type": "send_klay", "transaction": {"to": A, "amount": "0"}}, 6404),
    ({"bapp": {"name": "b"}, "type": "send_klay", "transaction": {"to": A, "amount": "-1"}}, 6404),
    ({"bapp": {"name": "b"}, "type": "send_klay", "transaction": {"to": A, "amount": "1e3"}}, 6404),
    ({"bapp": {"name": "b"}, "type": "send_klay", "transaction": {"to": A, "amount": 1.5}}, 6404),
    ({"bapp": {"name": "b"}, "type": "send_token", "transaction": {"to": A, "amount": "1", "contract": "x"}}, 6405),
    ({"bapp": {"name": "b"}, "type": "send_token", "transaction": {"to": A, "amount": "1", "contract": A}}, 6405),
    ({"bapp": {"name": "b"}, "type": "send_card", "transaction": {"to": A, "card_id": "1", "contract": A}}, 6405),
    ({"bapp": {"name": "b"}, "type": "execute_contract", "transaction": {
        "to": A, "value": "0", "abi": TRANSFER_FROM, "params": json.dumps([A, A, "1"])}}, 6405),
    ({"bapp": {"name": "b"}, "type": "send_klay", "transaction": {"to": A, "amount": "1", "from": "0xzz"}}, 6411),
    ({"bapp": {"name": "b"}, "type": "sign_message", "message": {}}, 6402),
    ({"bapp": {"name": "b"}, "type": "sign_message", "message": {"value": "hi", "from": "nope"}}, 6411),
])
def test_an_invalid_prepare_gets_its_code_in_both_error_styles(http, world, payload, code):
    answer = post(http, "/v2/a2a/prepare", payload)
    assert answer.status_code == 400, answer.body
    got = body(answer)
    assert got["code"] == code and got["err"]
    assert got["status"] == "error" and got["error"] == {"code": code, "err": got["err"]}
    assert "request_key" not in got


@pytest.mark.parametrize("tx,code", [
    ({"card_id": "x"}, 6406), ({"card_id": ""}, 6406),
])
def test_a_card_id_that_is_not_a_number_is_6406(http, world, tx, code):
    payload = bapp("send_card", transaction={"to": A, "contract": world["contract"], **tx})
    assert body(post(http, "/v2/a2a/prepare", payload))["code"] == code


@pytest.mark.parametrize("abi,params,value,code", [
    ("not json", "[]", "0", 6407),
    (json.dumps({"name": "approve", "type": "function", "inputs": [{"type": "address"}, {"type": "uint256"}]}),
     json.dumps([A, "1"]), "0", 6407),
    (TRANSFER_FROM, "[1,2]", "0", 6408),
    (TRANSFER_FROM, "not json", "0", 6408),
    (TRANSFER_FROM, json.dumps([A, A, "x"]), "0", 6408),
    (TRANSFER_FROM, json.dumps([A, A, "1"]), "1000", 6409),
    (TRANSFER_FROM, json.dumps([A, A, "1"]), "1.5", 6409),
])
def test_execute_contract_runs_only_card_transfers_and_checks_abi_params_and_value(http, world, abi, params, value,
                                                                                  code):
    payload = bapp("execute_contract", transaction={"to": world["contract"], "value": value, "abi": abi,
                                                    "params": params})
    assert body(post(http, "/v2/a2a/prepare", payload))["code"] == code


def test_prepare_answers_a_uuid_key_prepared_and_expiration_as_a_number(http, world):
    before = int(time.time())
    answer = post(http, "/v2/a2a/prepare", {"bapp": {"name": "b", "callback": {}}, "type": "auth"})
    prepared = body(answer)
    assert set(prepared) == {"request_key", "status", "expiration_time"}
    assert prepared["status"] == "prepared" and len(prepared["request_key"]) == 36
    assert before + rules.REQUEST_KEY_LIFETIME <= prepared["expiration_time"] <= time.time() + rules.REQUEST_KEY_LIFETIME
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_a_callback_at_the_top_level_is_accepted_like_bapp_callback(http, world):
    key = prepare(http, {"bapp": {"name": "b"}, "callback": {"success": "myapp://ok", "fail": "myapp://no"},
                         "type": "auth"})["request_key"]
    canceled = body(post(http, "/a2a/api/cancel", {"request_key": key}))
    assert canceled["callback"] == "myapp://no"


def test_the_result_has_no_result_key_until_there_is_one(http, world):
    key = prepare(http, bapp("auth"))["request_key"]
    polled = body(result(http, key))
    assert polled["status"] == "prepared" and "result" not in polled and "error" not in polled


def test_an_unknown_key_is_6000_and_an_expired_one_6001_with_the_envelope(http, world):
    unknown = result(http, "b37f873d-32ce-4d5d-b72e-08d528e7fb8e")
    assert unknown.status_code == 400 and body(unknown)["code"] == 6000
    assert body(unknown)["error"]["code"] == 6000 and body(unknown)["status"] == "error"
    assert body(result(http, ""))["code"] == 6000
    prepared = a2a.prepare(bapp("auth"), now=time.time() - rules.REQUEST_KEY_LIFETIME - 1)
    expired = result(http, prepared["request_key"])
    assert expired.status_code == 400
    assert body(expired) == {"code": 6001, "err": "request key is expired", "request_key": prepared["request_key"],
                             "expiration_time": prepared["expiration_time"], "status": "error",
                             "error": {"code": 6001, "err": "request key is expired"}}


def test_a_finished_request_stays_readable_for_the_retention_then_answers_6001(http, world):
    key = prepare(http, bapp("auth"))["request_key"]
    approve(http, key, world["alice"])
    expiration = body(result(http, key))["expiration_time"]
    assert a2a.result(key, now=expiration + rules.RESULT_RETENTION)["status"] == "completed"
    with pytest.raises(Exception) as gone:
        a2a.result(key, now=expiration + rules.RESULT_RETENTION + 1)
    assert gone.value.klip_code == 6001


def test_an_expired_request_can_no_longer_be_approved(http, world):
    prepared = a2a.prepare(bapp("auth"), now=time.time() - rules.REQUEST_KEY_LIFETIME - 1)
    answer = post(http, "/a2a/api/login", {"request_key": prepared["request_key"], "login": "alice@demo.local",
                                           "password": "Demo-pass-1"})
    assert (answer.status_code, body(answer)["code"]) == (400, 6001)


# --- the six types ------------------------------------------------------------------------------------

def test_auth_completes_with_the_users_wallet_address(http, world):
    key = prepare(http, bapp("auth"))["request_key"]
    page = approve(http, key, world["alice"])
    assert page["status"] == "completed"
    polled = body(result(http, key))
    assert polled["result"] == {"klaytn_address": world["alice"]["address"]}
    assert polled["result"]["klaytn_address"] == wallets.user_address(world["org"], world["alice"]["uid"])


def test_sign_message_returns_a_signature_that_eth_account_recovers_to_the_user(http, world):
    message = "Sign in to Test BApp: nonce 8bd3 ✓"
    key = prepare(http, bapp("sign_message", message={"value": message, "from": world["alice"]["address"].lower()})
                  )["request_key"]
    approve(http, key, world["alice"])
    signature = body(result(http, key))["result"]["signature"]
    assert len(bytes.fromhex(signature[2:])) == 65
    assert Account.recover_message(encode_defunct(text=message), signature=signature) == world["alice"]["address"]


def test_send_klay_to_another_platform_user_is_an_internal_transfer(http, world):
    alice_account = users.get_user(world["org"], world["alice"]["uid"]).main_account_id
    bob_account = users.get_user(world["org"], world["bob"]["uid"]).main_account_id
    key = prepare(http, bapp("send_klay", transaction={"to": world["bob"]["address"], "amount": "12.345678",
                                                       "from": world["alice"]["address"]}))["request_key"]
    approve(http, key, world["alice"])
    polled = body(result(http, key))
    assert polled["status"] == "completed"
    assert polled["result"]["status"] == "success" and polled["result"]["tx_hash"].startswith("0x")
    assert balance(alice_account, "KLAY") == D("987.654322") and balance(bob_account, "KLAY") == D("1012.345678")
    assert ledger.reconcile().ok


def test_send_token_maps_the_kip7_contract_to_its_broker_token(http, world):
    bob_account = users.get_user(world["org"], world["bob"]["uid"]).main_account_id
    before = balance(bob_account, "USDT")
    key = prepare(http, bapp("send_token", transaction={"to": world["bob"]["address"], "amount": "5.5",
                                                        "contract": world["kip7"]}))["request_key"]
    approve(http, key, world["alice"])
    assert body(result(http, key))["result"]["status"] == "success"
    assert balance(bob_account, "USDT") == before + D("5.5")


def test_sending_more_than_the_balance_ends_in_error_6412_and_moves_nothing(http, world):
    alice_account = users.get_user(world["org"], world["alice"]["uid"]).main_account_id
    key = prepare(http, bapp("send_klay", transaction={"to": world["bob"]["address"], "amount": "1000.000001"})
                  )["request_key"]
    page = approve(http, key, world["alice"])
    assert page["status"] == "error" and page["error"]["code"] == 6412
    polled = body(result(http, key))
    assert polled["status"] == "error" and polled["error"]["code"] == 6412 and "result" not in polled
    assert balance(alice_account, "KLAY") == D("1000")


def test_send_klay_to_an_outside_address_is_a_withdrawal_pending_until_custody_settles(http, world):
    alice_account = users.get_user(world["org"], world["alice"]["uid"]).main_account_id
    key = prepare(http, bapp("send_klay", transaction={"to": OUTSIDE, "amount": "10"}))["request_key"]
    approve(http, key, world["alice"])
    pending = body(result(http, key))
    assert pending["status"] == "requested" and pending["result"]["status"] == "pending"
    assert ledger.balance(alice_account, "KLAY").locked == D("10.01")
    withdrawal_id = a2a.store.get(key).withdrawal_id
    assert worker.handle_batch({"Records": [{
        "messageId": "m1", "body": json.dumps({"withdrawal_id": withdrawal_id}),
        "attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": withdrawal_id}}]}) == {"batchItemFailures": []}
    assert body(result(http, key))["status"] == "requested"
    callback = gateway.simulator().withdrawal_report(withdrawal_id, "confirmed", confirmations=3)
    withdrawals.receive_callback(json.loads(callback.body))
    done = body(result(http, key))
    assert done["status"] == "completed" and done["result"] == {"tx_hash": pending["result"]["tx_hash"],
                                                                "status": "success"}
    assert balance(alice_account, "KLAY") == D("989.99")
    assert ledger.reconcile().ok


def test_a_withdrawal_custody_fails_completes_with_status_fail(http, world):
    key = prepare(http, bapp("send_klay", transaction={"to": OUTSIDE, "amount": "1"}))["request_key"]
    approve(http, key, world["alice"])
    withdrawal_id = a2a.store.get(key).withdrawal_id
    worker.handle_batch({"Records": [{"messageId": "m2", "body": json.dumps({"withdrawal_id": withdrawal_id}),
                                      "attributes": {"ApproximateReceiveCount": "1",
                                                     "MessageGroupId": withdrawal_id}}]})
    withdrawals.receive_callback(json.loads(gateway.simulator().withdrawal_report(withdrawal_id, "failed").body))
    assert body(result(http, key))["result"]["status"] == "fail"


def test_send_card_moves_the_card_and_records_the_transfer(http, world):
    (card_id,) = mint(world, world["alice"]["address"])
    key = prepare(http, bapp("send_card", transaction={"to": world["bob"]["address"], "card_id": str(card_id),
                                                       "contract": world["contract"]}))["request_key"]
    approve(http, key, world["alice"])
    polled = body(result(http, key))
    card = cards.card(world["contract"], card_id)
    assert card.owner == world["bob"]["address"].lower() and card.sender == world["alice"]["address"].lower()
    assert polled["result"] == {"tx_hash": card.transaction_hash, "status": "success"}
    assert [t.receiver for t in cards.history(world["contract"], card_id)] == [
        world["alice"]["address"].lower(), world["bob"]["address"].lower()]


def test_a_card_that_is_not_yours_or_not_sendable_ends_in_error_6406(http, world):
    (bobs,) = mint(world, world["bob"]["address"])
    (locked,) = mint(world, world["alice"]["address"], sendable=False)
    for card_id in (bobs, locked):
        key = prepare(http, bapp("send_card", transaction={"to": OUTSIDE, "card_id": str(card_id),
                                                           "contract": world["contract"]}))["request_key"]
        page = approve(http, key, world["alice"])
        assert page["status"] == "error" and page["error"]["code"] == 6406
    assert cards.card(world["contract"], bobs).owner == world["bob"]["address"].lower()
    assert cards.card(world["contract"], locked).owner == world["alice"]["address"].lower()


def test_execute_contract_transfer_from_moves_a_card(http, world):
    (card_id,) = mint(world, world["alice"]["address"])
    params = json.dumps([world["alice"]["address"], world["bob"]["address"], str(card_id)])
    key = prepare(http, bapp("execute_contract", transaction={"to": world["contract"], "value": "0",
                                                              "abi": TRANSFER_FROM, "params": params}))["request_key"]
    approve(http, key, world["alice"])
    assert body(result(http, key))["result"]["status"] == "success"
    assert cards.card(world["contract"], card_id).owner == world["bob"]["address"].lower()


def test_execute_contract_from_another_address_ends_in_error_6408(http, world):
    (card_id,) = mint(world, world["bob"]["address"])
    params = json.dumps([world["bob"]["address"], world["alice"]["address"], str(card_id)])
    key = prepare(http, bapp("execute_contract", transaction={"to": world["contract"], "value": "0",
                                                              "abi": TRANSFER_FROM, "params": params}))["request_key"]
    assert approve(http, key, world["alice"])["error"]["code"] == 6408


def test_the_daily_execute_contract_limit_ends_the_next_request_in_error_6200(http, world, monkeypatch):
    monkeypatch.setenv("KLIP_EXECUTE_DAILY_LIMIT", "1")
    ids = mint(world, world["alice"]["address"], count=2)
    codes = []
    for card_id in ids:
        params = json.dumps([world["alice"]["address"], world["bob"]["address"], str(card_id)])
        key = prepare(http, bapp("execute_contract", transaction={"to": world["contract"], "value": "0",
                                                                  "abi": TRANSFER_FROM, "params": params}))["request_key"]
        page = approve(http, key, world["alice"])
        codes.append(page.get("error", {}).get("code"))
    assert codes == [None, 6200]
    assert cards.card(world["contract"], ids[1]).owner == world["alice"]["address"].lower()


# --- states -------------------------------------------------------------------------------------------

def test_a_canceled_request_cannot_be_approved_and_a_completed_one_not_twice(http, world):
    key = prepare(http, bapp("auth"))["request_key"]
    assert body(post(http, "/a2a/api/cancel", {"request_key": key}))["status"] == "canceled"
    polled = body(result(http, key))
    assert polled["status"] == "canceled" and "result" not in polled
    answer = post(http, "/a2a/api/login", {"request_key": key, "login": "alice@demo.local", "password": "Demo-pass-1"})
    assert (answer.status_code, body(answer)["code"]) == (400, 6011)
    key = prepare(http, bapp("auth"))["request_key"]
    session = login(http, key, world["alice"])
    assert post(http, "/a2a/api/approve", {"request_key": key}, {"X-Approval-Session": session}).status_code == 200
    again = post(http, "/a2a/api/approve", {"request_key": key}, {"X-Approval-Session": session})
    assert (again.status_code, body(again)["code"]) == (401, 7300)  # the session ended with the approval
    relogin = post(http, "/a2a/api/login", {"request_key": key, "login": "alice@demo.local",
                                            "password": "Demo-pass-1"})
    assert (relogin.status_code, body(relogin)["code"]) == (400, 6011)
    assert body(post(http, "/a2a/api/cancel", {"request_key": key}))["code"] == 6011


def test_a_send_twice_approved_moves_money_once(http, world):
    alice_account = users.get_user(world["org"], world["alice"]["uid"]).main_account_id
    key = prepare(http, bapp("send_klay", transaction={"to": world["bob"]["address"], "amount": "1"}))["request_key"]
    first = login(http, key, world["alice"])
    second = login(http, key, world["alice"])
    post(http, "/a2a/api/approve", {"request_key": key}, {"X-Approval-Session": first})
    post(http, "/a2a/api/approve", {"request_key": key}, {"X-Approval-Session": second})
    assert balance(alice_account, "KLAY") == D("999")


def test_a_from_that_is_not_the_users_address_ends_in_error_6411(http, world):
    key = prepare(http, bapp("send_klay", transaction={"to": world["alice"]["address"], "amount": "1",
                                                       "from": world["alice"]["address"]}))["request_key"]
    page = approve(http, key, world["bob"])
    assert page["status"] == "error" and page["error"]["code"] == 6411


def test_approval_needs_the_session_of_this_request(http, world):
    key = prepare(http, bapp("auth"))["request_key"]
    other = prepare(http, bapp("auth"))["request_key"]
    session = login(http, other, world["alice"])
    for headers in ({}, {"X-Approval-Session": "forged"}, {"X-Approval-Session": session}):
        answer = post(http, "/a2a/api/approve", {"request_key": key}, headers)
        assert (answer.status_code, body(answer)["code"]) == (401, 7300)
    assert body(result(http, key))["status"] == "prepared"


def test_a_wrong_password_does_not_log_in(http, world):
    key = prepare(http, bapp("auth"))["request_key"]
    answer = post(http, "/a2a/api/login", {"request_key": key, "login": "alice@demo.local", "password": "nope-nope"})
    assert answer.status_code == 400 and body(answer)["code"] == 1105


def test_a_user_with_a_bound_authenticator_needs_its_code(http, world):
    secret = totp.new_secret()
    users.set_ga_secret(world["org"], world["alice"]["uid"], secret)
    key = prepare(http, bapp("auth"))["request_key"]
    missing = post(http, "/a2a/api/login", {"request_key": key, "login": "alice@demo.local", "password": "Demo-pass-1"})
    assert body(missing)["code"] == 1016
    wrong = post(http, "/a2a/api/login", {"request_key": key, "login": "alice@demo.local", "password": "Demo-pass-1",
                                          "ga_code": "000000" if totp.code_at(secret, time.time()) != "000000" else "1"})
    assert body(wrong)["code"] == 1017
    session = login(http, key, world["alice"], ga_code=totp.code_at(secret, time.time()))
    assert post(http, "/a2a/api/approve", {"request_key": key}, {"X-Approval-Session": session}).status_code == 200


def test_the_page_shows_the_bapp_and_exactly_what_it_asks(http, world):
    key = prepare(http, bapp("send_klay", transaction={"to": world["bob"]["address"], "amount": "3.5"}))["request_key"]
    view = body(get(http, f"/a2a/api/request?request_key={key}"))
    assert view["bapp"] == {"name": "Test BApp"} and view["type"] == "send_klay"
    assert ["Amount", "3.5 KLAY"] in view["rows"] and ["To", world["bob"]["address"]] in view["rows"]
    page = get(http, f"/a2a?request_key={key}")
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in page.headers[
        "Content-Security-Policy"]
    assert get(http, "/a2a/assets/approval.js").status_code == 200
    assert get(http, "/a2a/assets/../app.py").status_code != 200


# --- cards --------------------------------------------------------------------------------------------

def test_the_card_list_pages_250_cards_in_100_100_50_without_duplicates(http, world):
    for _ in range(6):
        mint(world, world["alice"]["address"], count=40)
    mint(world, world["alice"]["address"], count=10)
    mint(world, world["bob"]["address"], count=3)
    seen, sizes, cursor = [], [], ""
    while True:
        page = body(get(http, f"/v2/a2a/cards?sca={world['contract']}&eoa={world['alice']['address']}&cursor={cursor}"))
        assert set(page) == {"name", "symbol_img", "cards", "next_cursor"}
        sizes.append(len(page["cards"]))
        seen += [c["card_id"] for c in page["cards"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
        assert all(ch.isalnum() or ch in "-_" for ch in cursor)
    assert sizes == [100, 100, 50] and seen == list(range(1, 251)) and len(set(seen)) == 250
    card = page["cards"][0]
    assert set(card) == {"card_id", "card_uri", "owner", "sender", "transaction_hash", "created_at", "updated_at"}
    assert isinstance(card["card_id"], int) and isinstance(card["created_at"], int)


def test_card_list_errors_are_flat_code_and_err(http, world):
    unknown = get(http, f"/v2/a2a/cards?sca={OUTSIDE}&eoa={OUTSIDE}&cursor=")
    assert unknown.status_code == 400 and body(unknown) == {"code": 6405, "err": body(unknown)["err"]}
    bad_eoa = get(http, f"/v2/a2a/cards?sca={world['contract']}&eoa=0x12&cursor=")
    assert body(bad_eoa)["code"] == 400 and "status" not in body(bad_eoa)
    empty = body(get(http, f"/v2/a2a/cards?sca={world['contract']}&eoa={OUTSIDE}&cursor="))
    assert empty["cards"] == [] and empty["next_cursor"] == ""


def test_wallet_keys_are_stored_only_as_kms_ciphertext(world):
    from chalicelib.store import wallets as wallet_store

    stored = wallet_store.get(f"user:{world['alice']['uid']}")
    assert stored.address == world["alice"]["address"]
    assert len(stored.key_ciphertext) > 64 and not all(ch in "0123456789abcdef" for ch in stored.key_ciphertext)
    assert "key_ciphertext" not in repr(stored)
    assert wallets.owner_of(world["alice"]["address"].lower()).uid == world["alice"]["uid"]
    assert wallets.owner_of(OUTSIDE) is None
