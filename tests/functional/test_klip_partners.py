"""Klip Partners API: login, 24-hour tokens, account states, credentials, images, mints
with the monthly limit, and the card listings with their cursors."""
from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from chalicelib.api.klip import partners as partners_api
from chalicelib.domain import klip as rules
from chalicelib.domain.errors import PartnerInvalidToken
from chalicelib.services import cards, partners
from chalicelib.store import partners as partner_store
from tests.functional.test_klip_support import (  # noqa: F401  (fixtures)
    HOST, body, get, http, klip_seeded, post, put,
)

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.fixture
def partner(klip_seeded):
    return klip_seeded["klip"]["partner"]


@pytest.fixture
def token(http, partner):
    return body(post(http, "/v2/partner/auth", {"email": partner["email"], "password": partner["password_sha256"]}))[
        "access_token"]


def auth(token: str) -> dict:
    return {"Authorization": token}


def mint_body(partner, recipients, **extra) -> dict:
    return {"pin": partner["pin"], "to_address": recipients, "contract_address": partner["contract_address"],
            "name": "멤버십 카드", "description": "Korean text survives", "image": "https://example.test/c.png",
            "sendable": True, "send_friend_only": False, "hashtags": ["a", "b"], "layout": "general",
            "attributes": [{"trait_type": "tier", "value": "gold"}], "send_friendly_only": False, **extra}


def refused(response, status: int, code: int):
    assert (response.status_code, body(response)["code"]) == (status, code), response.body
    assert isinstance(body(response)["err"], str)


def test_login_answers_the_account_and_an_hs256_token_with_id_and_exp_for_24_hours(http, partner):
    before = int(time.time())
    answer = post(http, "/v2/partner/auth", {"email": partner["email"], "password": partner["password_sha256"].upper()})
    assert answer.status_code == 200, answer.body
    account = body(answer)
    assert {k: account[k] for k in ("email", "contract_address", "status", "mint_limit", "mint_count")} == {
        "email": partner["email"], "contract_address": partner["contract_address"], "status": 1,
        "mint_limit": partner["mint_limit"], "mint_count": 0}
    assert account["klaytn_address"].startswith("0x") and len(account["klaytn_address"]) == 42
    assert jwt.get_unverified_header(account["access_token"]) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(account["access_token"], options={"verify_signature": False})
    assert set(claims) == {"Id", "exp"} and claims["Id"] == int(partner["partner_id"])
    assert before + 24 * 3600 <= claims["exp"] <= int(time.time()) + 24 * 3600


@pytest.mark.parametrize("email,password", [("partner@demo.local", rules.sha256_hex("wrong-pass1!")),
                                            ("nobody@demo.local", rules.sha256_hex("Demo-part1!"))])
def test_a_wrong_password_and_an_unknown_email_answer_alike(http, partner, email, password):
    refused(post(http, "/v2/partner/auth", {"email": email, "password": password}), 400, 406)


def test_a_password_that_is_not_a_sha256_digest_is_a_bad_request(http, partner):
    refused(post(http, "/v2/partner/auth", {"email": partner["email"], "password": partner["password"]}), 400, 400)


def test_the_token_is_taken_raw_or_after_bearer(http, token):
    for header in (token, f"Bearer {token}"):
        answer = get(http, "/v2/wallet/bapp?cursor=", auth(header))
        assert answer.status_code == 200, answer.body


@pytest.mark.parametrize("header", ["", "garbage", "Bearer ", None])
def test_a_missing_or_malformed_token_is_401(http, header):
    headers = {} if header is None else {"Authorization": header}
    refused(get(http, "/v2/wallet/bapp", headers), 401, 401)


def test_a_token_signed_with_another_secret_is_401(http, partner):
    forged = jwt.encode({"Id": int(partner["partner_id"]), "exp": int(time.time()) + 3600}, "x" * 40, algorithm="HS256")
    refused(get(http, "/v2/wallet/bapp", auth(forged)), 401, 401)


def test_a_token_one_second_past_24_hours_is_refused_by_the_verifier(partner):
    issued = 1_800_000_000
    account = partner_store.get(partner["partner_id"])
    token = partners.issue_token(account, now=issued)
    assert partners.authenticate(token, now=issued + 24 * 3600 - 1).partner_id == partner["partner_id"]
    with pytest.raises(PartnerInvalidToken):
        partners.authenticate(token, now=issued + 24 * 3600 + 1)


def test_a_token_past_24_hours_gets_401_over_http(http, partner, monkeypatch):
    issued = time.time()
    token = partners.issue_token(partner_store.get(partner["partner_id"]), now=issued)
    monkeypatch.setattr(partners_api, "clock", lambda: issued + 24 * 3600 - 1)
    assert get(http, "/v2/wallet/bapp", auth(token)).status_code == 200
    monkeypatch.setattr(partners_api, "clock", lambda: issued + 24 * 3600 + 1)
    refused(get(http, "/v2/wallet/bapp", auth(token)), 401, 401)


@pytest.mark.parametrize("state,code", [("suspended", 421), ("suspension_requested", 422), ("unsubscribed", 423)])
def test_suspended_requesting_and_unsubscribed_accounts_get_their_401_codes(http, partner, token, klip_seeded,
                                                                           state, code):
    partners.set_partner_state(klip_seeded["org"]["org_id"], partner["partner_id"], state)
    refused(get(http, "/v2/wallet/bapp", auth(token)), 401, code)
    refused(post(http, "/v2/partner/auth", {"email": partner["email"], "password": partner["password_sha256"]}),
            401, code)


def test_an_account_in_an_unknown_state_gets_424(http, partner, token):
    before = partner_store.get(partner["partner_id"])
    from dataclasses import replace
    partner_store.update(before, replace(before, state="archived"))
    refused(get(http, "/v2/wallet/bapp", auth(token)), 401, 424)


def test_an_inactive_account_must_set_a_new_pin_first(http, partner, token, klip_seeded):
    partners.set_partner_state(klip_seeded["org"]["org_id"], partner["partner_id"], "inactive")
    login = post(http, "/v2/partner/auth", {"email": partner["email"], "password": partner["password_sha256"]})
    assert body(login)["status"] == 10
    refused(get(http, "/v2/wallet/bapp", auth(token)), 401, 420)
    assert put(http, "/v2/partner/pin", {"new_pin": "654321"}, auth(token)).status_code == 200
    assert get(http, "/v2/wallet/bapp", auth(token)).status_code == 200
    assert partner_store.get(partner["partner_id"]).state == "active"


def test_a_password_change_revokes_earlier_tokens(http, partner, token):
    new = rules.sha256_hex("New-pass99!")
    refused(put(http, "/v2/partner/?opt=password", {"old_password": new, "new_password": new}, auth(token)), 400, 400)
    time.sleep(1.01)  # tokens of the same second as the change stay valid (second granularity)
    answer = put(http, "/v2/partner/?opt=password", {"old_password": partner["password_sha256"],
                                                      "new_password": new}, auth(token))
    assert (answer.status_code, body(answer)) == (200, {})
    refused(get(http, "/v2/wallet/bapp", auth(token)), 401, 401)
    refused(post(http, "/v2/partner/auth", {"email": partner["email"], "password": partner["password_sha256"]}), 400, 406)
    fresh = body(post(http, "/v2/partner/auth", {"email": partner["email"], "password": new}))["access_token"]
    assert get(http, "/v2/wallet/bapp", auth(fresh)).status_code == 200


def test_the_pin_changes_only_with_the_old_pin_and_mints_need_the_new_one(http, partner, token, klip_seeded):
    alice = klip_seeded["klip"]["users"][0]["address"]
    refused(put(http, "/v2/partner/pin", {"old_pin": "000000", "new_pin": "111111"}, auth(token)), 400, 400)
    assert put(http, "/v2/partner/pin", {"old_pin": partner["pin"], "new_pin": "111111"}, auth(token)).status_code == 200
    refused(post(http, "/v2/wallet/mint", mint_body(partner, [alice]), auth(token)), 400, 400)
    hashed_pin = rules.sha256_hex("111111").upper()
    assert post(http, "/v2/wallet/mint", mint_body(partner, [alice], pin=hashed_pin), auth(token)).status_code == 200


def test_an_uploaded_image_is_stored_and_served_at_the_returned_url(http, token, partner):
    boundary = "----klipboundary"
    payload = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"c.png\"\r\n"
               f"Content-Type: image/png\r\n\r\n").encode() + PNG + f"\r\n--{boundary}--\r\n".encode()
    answer = http.post("/v2/wallet/image", body=payload, headers={
        **HOST, "Authorization": token, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert answer.status_code == 200, answer.body
    url = body(answer)["image"]
    assert url.startswith(f"http://localhost/card_asset/{partner['partner_id']}/") and url.endswith(".png")
    served = get(http, url[len("http://localhost"):], {"Accept": "image/*,*/*"})  # as an <img> asks
    assert served.status_code == 200 and served.body == PNG
    assert served.headers["Content-Type"] == "image/png"


def test_an_upload_that_is_not_an_image_is_refused(http, token):
    boundary = "b"
    payload = f"--{boundary}\r\nContent-Disposition: form-data; name=\"upload\"\r\n\r\nhello\r\n--{boundary}--\r\n"
    refused(http.post("/v2/wallet/image", body=payload.encode(), headers={
        **HOST, "Authorization": token, "Content-Type": f"multipart/form-data; boundary={boundary}"}), 400, 400)


def test_a_mint_creates_cards_with_increasing_ids_and_serves_their_metadata(http, partner, token, klip_seeded):
    alice, bob = (u["address"] for u in klip_seeded["klip"]["users"])
    first = body(post(http, "/v2/wallet/mint", mint_body(partner, [alice, bob]), auth(token)))
    second = body(post(http, "/v2/wallet/mint", mint_body(partner, [alice]), auth(token)))
    assert [c["card_id"] for c in first["cards"] + second["cards"]] == [1, 2, 3]
    assert first["hash"].startswith("0x") and len(first["hash"]) == 66
    assert (second["mint_count"], second["mint_limit"]) == (3, partner["mint_limit"])
    card = cards.card(partner["contract_address"], 2)
    assert card.owner == bob.lower() and card.transaction_hash == first["cards"][1]["transaction_hash"]
    assert [(t.sender, t.receiver) for t in cards.history(partner["contract_address"], 2)] == [
        ("0x" + "0" * 40, bob.lower())]
    listing = body(get(http, f"/v2/a2a/cards?sca={partner['contract_address']}&eoa={alice}&cursor="))
    uri = listing["cards"][0]["card_uri"]
    metadata = get(http, uri[len("http://localhost"):])
    assert metadata.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(metadata.body.decode("utf-8"))["name"] == "멤버십 카드"
    assert json.loads(metadata.body)["attributes"] == [{"trait_type": "tier", "value": "gold"}]
    login = body(post(http, "/v2/partner/auth", {"email": partner["email"], "password": partner["password_sha256"]}))
    assert login["mint_count"] == 3


def test_the_mint_past_the_monthly_limit_gets_4080_and_mints_nothing(http, partner, token, klip_seeded):
    partners.set_mint_limit(klip_seeded["org"]["org_id"], partner["partner_id"], 3)
    alice = klip_seeded["klip"]["users"][0]["address"]
    assert post(http, "/v2/wallet/mint", mint_body(partner, [alice, alice]), auth(token)).status_code == 200
    refused(post(http, "/v2/wallet/mint", mint_body(partner, [alice, alice]), auth(token)), 400, 4080)
    assert cards.contract(partner["contract_address"]).last_card_id == 2
    assert cards.card(partner["contract_address"], 3) is None
    assert partner_store.get(partner["partner_id"]).mint_count == 2
    assert post(http, "/v2/wallet/mint", mint_body(partner, [alice]), auth(token)).status_code == 200
    refused(post(http, "/v2/wallet/mint", mint_body(partner, [alice]), auth(token)), 400, 4080)


def test_the_monthly_count_resets_on_the_first(partner, klip_seeded):
    partners.set_mint_limit(klip_seeded["org"]["org_id"], partner["partner_id"], 1)
    alice = klip_seeded["klip"]["users"][0]["address"]
    account = partner_store.get(partner["partner_id"])
    last_day = time.mktime((2031, 1, 31, 23, 59, 0, 0, 0, 0)) - time.timezone
    partners.mint(account, mint_body(partner, [alice]), now=last_day)
    with pytest.raises(Exception) as exceeded:
        partners.mint(partner_store.get(partner["partner_id"]), mint_body(partner, [alice]), now=last_day + 30)
    assert getattr(exceeded.value, "klip_code", None) == 4080
    answer = partners.mint(partner_store.get(partner["partner_id"]), mint_body(partner, [alice]), now=last_day + 120)
    assert answer["mint_count"] == 1 and answer["cards"][0]["card_id"] == 2


def test_a_repeated_mint_with_the_same_idempotency_key_mints_once(http, partner, token, klip_seeded):
    alice = klip_seeded["klip"]["users"][0]["address"]
    headers = {**auth(token), "Idempotency-Key": "mint-1"}
    first = post(http, "/v2/wallet/mint", mint_body(partner, [alice]), headers)
    again = post(http, "/v2/wallet/mint", mint_body(partner, [alice]), headers)
    assert body(first) == body(again)
    assert cards.contract(partner["contract_address"]).last_card_id == 1


@pytest.mark.parametrize("change", [
    {"to_address": []}, {"to_address": ["0x12"]}, {"to_address": ["0x" + "1" * 40] * 41}, {"name": ""},
    {"hashtags": ["x"] * 11}, {"hashtags": ["x" * 101]}, {"external_link": "x" * 256}, {"sendable": "yes"},
    {"contract_address": "0x" + "2" * 40}, {"attributes": [{"value": 1}]},
])
def test_a_malformed_mint_is_a_bad_request_and_mints_nothing(http, partner, token, change):
    refused(post(http, "/v2/wallet/mint", mint_body(partner, ["0x" + "1" * 40], **change), auth(token)), 400, 400)
    assert cards.contract(partner["contract_address"]).last_card_id == 0


def test_bapp_and_nft_listings_page_250_cards_in_100_100_50_with_url_safe_cursors(http, partner, token, klip_seeded):
    alice = klip_seeded["klip"]["users"][0]["address"]
    for _ in range(6):
        post(http, "/v2/wallet/mint", mint_body(partner, [alice] * 40), auth(token))
    post(http, "/v2/wallet/mint", mint_body(partner, [alice] * 10), auth(token))
    bapps = body(get(http, "/v2/wallet/bapp?cursor=", auth(token)))
    assert bapps["next_cursor"] == "" and len(bapps["bapps"]) == 1
    bapp = bapps["bapps"][0]
    assert (bapp["card_count"], len(bapp["cards"])) == (250, 100)
    assert {"created_at_formatted", "updated_at_formatted"} <= set(bapp["cards"][0])
    seen, sizes, cursor = [c["card_id"] for c in bapp["cards"]], [100], bapp["cards_next_cursor"]
    while cursor:
        assert all(ch.isalnum() or ch in "-_" for ch in cursor)
        page = body(get(http, f"/v2/wallet/nft/{bapp['nft_id']}?cursor={cursor}", auth(token)))
        sizes.append(len(page["cards"]))
        seen += [c["card_id"] for c in page["cards"]]
        cursor = page["next_cursor"]
    assert sizes == [100, 100, 50] and seen == list(range(1, 251))


def test_another_partners_nft_and_a_forged_cursor_are_bad_requests(http, partner, token, klip_seeded):
    other = partners.create_partner(klip_seeded["org"]["org_id"], email="other@demo.local", password="Other-pass1!",
                                    pin="222222", name="Other", operation_id="other-partner")
    other_nft = cards.contract(other["contract_address"]).nft_id
    refused(get(http, f"/v2/wallet/nft/{other_nft}", auth(token)), 400, 400)
    refused(get(http, "/v2/wallet/bapp?cursor=%%%", auth(token)), 400, 400)


def test_create_partner_is_idempotent_and_emails_are_unique(klip_seeded):
    org = klip_seeded["org"]["org_id"]
    first = partners.create_partner(org, email="p2@demo.local", password="Good-pass1!", pin="333333", name="P2",
                                    operation_id="p2")
    again = partners.create_partner(org, email="p2@demo.local", password="Good-pass1!", pin="333333", name="P2",
                                    operation_id="p2")
    assert first == again
    with pytest.raises(Exception) as taken:
        partners.create_partner(org, email="P2@demo.local", password="Good-pass1!", pin="333333", name="P2",
                                operation_id="p2-again")
    assert getattr(taken.value, "klip_code", None) == 413
