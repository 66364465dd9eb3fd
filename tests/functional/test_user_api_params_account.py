"""The User API account routes' parameter models: a bad value of a typed field is a 400
`{code, msg}` that changes nothing, numbers from JSON clients and blank form fields read
as before, and the models are what the User document describes."""
from __future__ import annotations

from chalicelib.api.apidocs.generator import document
from chalicelib.api.rendering import Family
from chalicelib.api.user import routes_user
from chalicelib.services import api_keys, content, kyc
from chalicelib.store import kyc as kyc_store
from tests.functional.test_user_api_support import (  # noqa: F401  (fixtures)
    Browser, bind_ga, clock, ga_code, http, log_in, seeded,
)


def refused(answer) -> tuple[int, int]:
    assert set(answer.json) == {"code", "msg"}, answer
    return answer.status, answer.code


def test_a_bad_value_of_a_typed_field_answers_400_and_changes_nothing(seeded, http, clock):
    alice = log_in(http, "alice@demo.local")
    uid = seeded["users"][0]["uid"]
    secret = bind_ga(alice, clock)
    keys = api_keys.list_user_keys("7002", uid)
    for bad in ({"type": 7}, {"type": "trade"}, {"ip_white_list": "1.1.1.1," + "9" * 65}, {"tag": "t" * 65},
                {"client_order_id": "has spaces"}):
        answer = alice.post("/api/user/api_key/create", {"type": 1, "ga_code": ga_code(clock, secret), **bad})
        assert refused(answer) == (400, 2001), (bad, answer)
    assert api_keys.list_user_keys("7002", uid) == keys
    for bad in ({"card_type": "passport"}, {"card_type": 4}, {"country_code": "KOR"}, {"card_no": "12-34-56"}):
        basic = {"country_code": "KR", "first_name": "Alice", "last_name": "Kim", "card_type": 1,
                 "card_no": "12345678", **bad}
        assert refused(alice.post("/api/user/kyc/basicverify", basic)) == (400, 2001), bad
    assert kyc_store.get(uid) is None
    assert refused(alice.post("/api/user/favorite/create", {"symbol_id": "BTC/USDT"})) == (400, 2001)
    assert content.favorites("7002", uid) == []


def test_numbers_too_large_for_the_store_are_refused_not_failed(seeded, http):
    alice = log_in(http, "alice@demo.local")
    for path, params in (("/api/user/authorize_log", {"from_id": 10 ** 30}),
                         ("/api/user/authorize_log", {"limit": 101}),
                         ("/api/invitation/list", {"limit": 10 ** 30}),
                         ("/api/user/session/revoke", {"session_id": "9" * 40})):
        method = "POST" if path.endswith("revoke") else "GET"
        assert refused(alice.request(method, path, params)) == (400, 2001), path


def test_a_missing_required_field_answers_2002_naming_it(seeded, http):
    alice = log_in(http, "alice@demo.local")
    answer = alice.post("/api/user/api_key/change_status", {"api_key_id": "1"})
    assert refused(answer) == (400, 2002) and "status" in answer.json["msg"]
    assert refused(Browser(http).post("/api/common/send_verify_code", {"email": "x@example.com"})) == (400, 2002)


def test_json_numbers_and_lists_read_like_form_text_and_blank_fields_are_absent(seeded, http, clock):
    alice = log_in(http, "alice@demo.local")
    sent = alice.post("/api/user/send_verify_code", {"type": "BIND_MOBILE", "national_code": 82,
                                                     "mobile": 1012345678}, as_json=True)
    assert sent.status == 200 and sent.json["channel"] == "sms", sent
    created = alice.post("/api/user/favorite/create", {"symbol_id": ["ethusdt", "BTCUSDT"]}, as_json=True)
    assert sorted(f["symbolId"] for f in created.json) == ["BTCUSDT", "ETHUSDT"]
    assert alice.post("/api/user/favorite/cancel", {"symbol_id": "", "symbol": "ethusdt"}).json == [
        {"symbolId": "BTCUSDT"}]
    assert alice.get("/api/user/authorize_log", {"from_id": "", "limit": ""}).status == 200
    assert routes_user.InviteeList.model_validate({"limit": None}).limit == 100  # a JSON null is absent too
    secret = bind_ga(alice, clock)
    key = alice.post("/api/user/api_key/create", {"type": 0, "ip_white_list": ["10.0.0.1", "10.0.1.0/24"],
                                                  "ga_code": ga_code(clock, secret)}, as_json=True)
    assert key.status == 200 and key.json["ipWhiteList"] == "10.0.0.1,10.0.1.0/24", key
    assert alice.post("/api/user/api_key/change_status", {"api_key_id": int(key.json["id"]), "status": 0,
                                                          "ga_code": ga_code(clock, secret)}, as_json=True
                      ).json["enabled"] is False


def test_the_login_model_declares_token_for_and_the_session_keeps_it(seeded, http):
    assert "token_for" in routes_user.Login.model_fields and "token_for" in routes_user.EmailSignUp.model_fields
    phone = log_in(http, "alice@demo.local", token_for="MOBILE")
    kinds = {s["current"]: s["tokenFor"] for s in phone.get("/api/user/sessions").json}
    assert kinds[True] == "MOBILE"
    login = document(Family.USER)["components"]["schemas"]["Login"]
    assert {"username", "password", "ga_code", "token_for"} <= set(login["properties"])
    assert login["required"] == ["password"]


def test_the_upload_kinds_are_the_kyc_documents():
    kinds = {kind for level in kyc.DOCUMENTS.values() for kind in level}
    assert set(routes_user.KycUpload.model_json_schema()["properties"]["type"]["enum"]) == kinds
    assert {"level", *kinds} <= set(routes_user.KycDocuments.model_fields)
