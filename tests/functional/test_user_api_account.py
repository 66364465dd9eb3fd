"""User API account features: GA change and removal, email and mobile binding, the
anti-phishing code in notices, KYC with uploads and its review, OpenAPI keys behind the
second factor, deposits and withdrawals, favorites, settings, public basics."""
from __future__ import annotations

import json
from decimal import Decimal as D

from chalicelib import settings
from chalicelib.gateways import aws, custody
from chalicelib.services import content, deposits, kyc
from tests.functional.test_user_api_support import (  # noqa: F401  (fixtures)
    Browser, balances, bind_ga, clock, ga_code, http, last_code, log_in, outbox, seeded, sign_up,
)


def test_ga_change_and_removal_need_codes_of_the_old_and_new_keys(seeded, http, clock):
    browser = sign_up(http, "ga2@example.com")
    assert browser.post("/api/user/before_alter_ga").code == 1065
    old = bind_ga(browser, clock)
    assert browser.post("/api/user/before_bind_ga").code == 1064
    new = browser.post("/api/user/before_alter_ga").json["secretKey"]
    assert new != old
    refused = browser.post("/api/user/alter_ga", {"old_ga_code": "000000", "ga_code": ga_code(clock, new)})
    assert refused.code == 1017
    changed = browser.post("/api/user/alter_ga", {"old_ga_code": ga_code(clock, old),
                                                  "ga_code": ga_code(clock, new)})
    assert changed.status == 200, changed
    assert browser.post("/api/user/unbind_ga", {"ga_code": ga_code(clock, new), "password": "wrong-pass-1"}).code \
        == 1105
    assert browser.post("/api/user/unbind_ga", {"ga_code": ga_code(clock, new),
                                                "password": "Sign-up-pass-1"}).status == 200
    assert browser.get("/api/user/get_base_info").json["bindGA"] is False
    assert [n["kind"] for n in outbox("ga2@example.com")][:3] == ["UNBIND_GA_SUCCESS", "ALTER_GA_SUCCESS",
                                                                  "BIND_GA_SUCCESS"]


def test_binding_a_mobile_number_with_its_code_and_the_anti_phishing_code_in_notices(seeded, http, clock):
    browser = log_in(http, "alice@demo.local")
    assert browser.post("/api/user/edit_anti_phishing_code", {"anti_phishing_code": "blue-fox"}).status == 200
    sent = browser.post("/api/user/send_verify_code", {"type": "BIND_MOBILE", "national_code": "82",
                                                       "mobile": "1012345678"})
    assert sent.status == 200 and sent.json["channel"] == "sms"
    code, order_id = last_code("+821012345678", "BIND_MOBILE")
    assert "Anti-phishing code: blue-fox" in outbox("+821012345678")[0]["body"]
    bound = browser.post("/api/user/bind_mobile", {"national_code": "82", "mobile": "1012345678",
                                                   "verify_code": code, "order_id": order_id})
    assert bound.status == 200 and bound.json["bindMobile"] is True and bound.json["mobile"] == "101****78"
    assert browser.post("/api/user/bind_mobile", {"national_code": "82", "mobile": "1099999999",
                                                  "verify_code": code, "order_id": order_id}).code == 1067
    # the number now logs in too
    assert log_in(http, "+82 1012345678").get("/api/user/get_base_info").status == 200
    # and another user cannot bind it
    bob = log_in(http, "bob@demo.local")
    clock.advance(61)  # one code per minute and purpose for a number
    bob.post("/api/user/send_verify_code", {"type": "BIND_MOBILE", "national_code": "82", "mobile": "1012345678"})
    code, order_id = last_code("+821012345678", "BIND_MOBILE")
    assert bob.post("/api/user/bind_mobile", {"national_code": "82", "mobile": "1012345678", "verify_code": code,
                                              "order_id": order_id}).code == 1031


def test_kyc_levels_uploads_and_the_review(seeded, http):
    browser = log_in(http, "alice@demo.local")
    uid = seeded["users"][0]["uid"]
    assert browser.post("/api/user/kyc/photoverify", {"level": 2}).code == 2002
    basic = browser.post("/api/user/kyc/basicverify", {"country_code": "kr", "first_name": "Alice",
                                                       "last_name": "Kim", "card_type": 1, "card_no": "900101 1234567"})
    assert basic.status == 200 and basic.json["statusName"] == "PENDING"
    assert basic.json["basic"]["cardNoMasked"] == "90*********67"
    assert browser.post("/api/user/kyc/basicverify", {"country_code": "KR", "first_name": "A", "last_name": "K",
                                                      "card_type": 1, "card_no": "12345678"}).code == 1070
    assert [a["uid"] for a in kyc.pending_applications("7002")] == [uid]
    assert kyc.application("7002", uid, with_card_no=True)["card_no"] == "9001011234567"
    kyc.approve("7002", uid, "admin-1")
    assert browser.get("/api/user/verify_info").json["kycLevel"] == 1
    assert kyc.pending_applications("7002") == []

    keys = {}
    for kind in ("card_front", "card_back", "card_hand"):
        form = browser.post("/api/user/verify/upload_image", {"type": kind, "content_type": "image/png"}).json
        assert form["key"].startswith(f"kyc/7002/{uid}/") and form["fields"]["Content-Type"] == "image/png"
        keys[kind] = form["key"]
    missing = browser.post("/api/user/kyc/photoverify", {"level": 2, **keys})
    assert missing.code == 1073  # nothing uploaded yet
    for key in keys.values():
        aws.client("s3").put_object(Bucket=settings.uploads_bucket(), Key=key, Body=b"\x89PNG")
    submitted = browser.post("/api/user/kyc/photoverify", {"level": 2, **keys})
    assert submitted.status == 200 and submitted.json["level"] == 2, submitted
    assert set(kyc.application("7002", uid)["images"]) == set(keys)
    kyc.reject("7002", uid, "admin-1", "blurry")
    info = browser.get("/api/user/verify_info").json
    assert (info["kycLevel"], info["statusName"], info["reason"]) == (1, "REJECTED", "blurry")
    assert outbox("alice@demo.local")[0]["kind"] == "KYC_VERIFY_REJECTED"


def test_openapi_keys_are_shown_once_and_every_change_needs_the_second_factor(seeded, http, clock):
    browser = log_in(http, "bob@demo.local")
    refused = browser.post("/api/user/api_key/create", {"tag": "bot", "type": 1})
    assert refused.code == 1016
    secret = bind_ga(browser, clock)
    created = browser.post("/api/user/api_key/create", {"tag": "bot", "type": 1, "ip_white_list": "10.0.0.1,10.0.1.0/24",
                                                        "client_order_id": "k1", "ga_code": ga_code(clock, secret)})
    assert created.status == 200 and len(created.json["secretKey"]) == 64
    replay = browser.post("/api/user/api_key/create", {"tag": "bot", "type": 1, "ip_white_list": "10.0.0.1,10.0.1.0/24",
                                                       "client_order_id": "k1", "ga_code": ga_code(clock, secret)})
    assert replay.json["apiKey"] == created.json["apiKey"] and "secretKey" not in replay.json
    listed = browser.get("/api/user/api_keys").json
    assert all("secretKey" not in k for k in listed)
    mine = {"api_key_id": created.json["id"]}
    assert browser.post("/api/user/api_key/update_ips", {**mine, "ip_white_list": "1.1.1.1"}).code == 1016
    assert browser.post("/api/user/api_key/update_ips", {**mine, "ip_white_list": "1.1.1.1",
                                                         "ga_code": ga_code(clock, secret)}).json["ipWhiteList"] \
        == "1.1.1.1"
    assert browser.post("/api/user/api_key/change_status", {**mine, "status": 0, "ga_code": ga_code(clock, secret)}
                        ).json["enabled"] is False
    assert browser.post("/api/user/api_key/delete", {**mine, "ga_code": ga_code(clock, secret)}).status == 200
    assert created.json["apiKey"] not in json.dumps(browser.get("/api/user/api_keys").json)


def test_deposit_then_withdraw_with_ga_then_cancel(seeded, http, clock):
    browser = sign_up(http, "money@example.com")
    account = browser.get("/api/user/get_base_info").json["accountId"]
    address = browser.get("/api/asset/deposit/address", {"token_id": "USDT", "chain_type": "ERC20"}).json
    report = custody.simulator().deposit_report(chain="ERC20", token="USDT", address=address["address"],
                                                amount="500", confirmations=address["requiredConfirmations"])
    deposits.receive_callback(json.loads(report.body))
    assert balances(account)["USDT"] == (D(500), D(0))
    history = browser.get("/api/asset/deposit/order_list").json
    assert [(d["quantity"], d["tokenId"]) for d in history] == [("500", "USDT")]
    secret = bind_ga(browser, clock)
    request = {"token_id": "USDT", "chain_type": "ERC20", "address": "0x" + "12" * 20, "withdraw_quantity": "100",
               "client_order_id": "w-1"}
    assert browser.post("/api/asset/withdrawal/create", request).code == 1016
    assert browser.post("/api/asset/withdrawal/create", {**request, "ga_code": "000000"}).code == 1017
    created = browser.post("/api/asset/withdrawal/create", {**request, "ga_code": ga_code(clock, secret)})
    assert created.status == 200, created
    assert balances(account)["USDT"] == (D(399), D(101))
    quota = browser.get("/api/asset/withdrawal/quota_info", {"token_id": "USDT", "chain_type": "ERC20"}).json
    assert quota["usedToday"] == "100"
    canceled = browser.post("/api/asset/withdrawal/order/cancel", {"order_id": created.json["orderId"]})
    assert canceled.json["state"] == "CANCELED"
    assert balances(account)["USDT"] == (D(500), D(0))
    listed = browser.get("/api/asset/withdrawal/order_list").json
    assert [w["state"] for w in listed] == ["CANCELED"]
    flows = browser.get("/api/asset/balance_flow", {"token_id": "USDT", "flow_type": "DEPOSIT"}).json
    assert [f["change"] for f in flows] == ["500"]


def test_favorites_settings_and_invitations(seeded, http):
    alice = log_in(http, "alice@demo.local")
    invite = alice.get("/api/invitation/info").json["inviteCode"]
    friend = sign_up(http, "friend@example.com", invite_code=invite)
    assert friend.get("/api/user/get_base_info").json["inviteUserId"] == seeded["users"][0]["uid"]
    assert [u["userId"] for u in alice.get("/api/invitation/list").json] == [
        friend.get("/api/user/get_base_info").json["userId"]]
    assert alice.post("/api/user/favorite/create", {"symbol_id": "ethusdt,BTCUSDT"}).status == 200
    assert alice.post("/api/user/favorite/create", {"symbol_id": "NOPE"}).code == 4001
    assert alice.post("/api/user/favorite/cancel", {"symbol_id": "ETHUSDT"}).json == [{"symbolId": "BTCUSDT"}]
    assert alice.post("/api/user/set_settings", {"settings": {"lang": "ko", "theme": "dark"}}, as_json=True).status \
        == 200
    assert alice.post("/api/user/set_settings", {"settings": json.dumps({"theme": None})}).json["settings"] == {
        "lang": "ko"}
    assert alice.post("/api/user/set_settings", {"settings": {"deep": {"x": 1}}}, as_json=True).code == 2001


def test_public_basics(seeded, http, monkeypatch):
    content.put_item("7002", "banner", title="Welcome", image_url="https://cdn/banner.png", sort=2)
    content.put_item("7002", "banner", title="Hidden", published=False)
    content.put_item("7002", "announcement", title="Listing ETH", body="...", locale="en")
    public = Browser(http)
    tokens = [t["tokenId"] for t in public.get("/s_api/basic/tokens").json]
    assert tokens == sorted(tokens) and {"BTC", "ETH", "USDT"} <= set(tokens)
    symbols = {s["symbolId"] for s in public.get("/s_api/basic/symbols").json}
    assert {"BTCUSDT", "ETHUSDT", "ETHBTC"} <= symbols
    assert [b["title"] for b in public.get("/s_api/basic/banners").json] == ["Welcome"]
    assert [a["title"] for a in public.get("/s_api/basic/announcements", {"locale": "ko"}).json] == []
    assert [a["title"] for a in public.get("/s_api/basic/announcements", {"locale": "en"}).json] == ["Listing ETH"]
    assert public.get("/api/quote/v1/time").json["serverTime"] > 0
    assert public.get("/api/quote/v1/trades", {"symbol": "301.BTCUSDT"}).json == []
    book = public.get("/api/quote/v1/depth", {"symbol": "BTCUSDT", "limit": 5}).json
    assert (book["symbol"], book["bids"], book["asks"]) == ("BTCUSDT", [], [])
    assert public.get("/api/quote/v1/klines", {"symbol": "BTCUSDT", "interval": "1m"}).status == 200
    assert {t["symbol"] for t in public.get("/api/quote/v1/broker/tickers").json} == symbols
    assert public.get("/api/quote/v1/trades", {"symbol": "XXX"}).code == 4001
    # the outbox route exists on the local stages only
    assert public.get("/dev/notices").status == 200
    monkeypatch.setenv("STAGE", "prod")
    assert public.get("/dev/notices").status == 404
