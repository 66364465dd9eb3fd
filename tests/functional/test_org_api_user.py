"""3.2 User paths, each with its listType forms and the org.* messages it causes."""
from __future__ import annotations

import pytest

from chalicelib.domain.errors import Unauthenticated
from chalicelib.domain.events import org_stream, user_stream
from chalicelib.gateways import notifier
from chalicelib.services import api_keys, events, sessions, users
from tests.functional.test_org_api_support import (  # noqa: F401  (fixtures)
    body, http, new_user, org_a, org_b, seeded,
)


def org_events(org_id="7002", kind=None):
    found = events.replay(org_stream(org_id), 0, 1000)
    return [e for e in found if kind is None or e.type == kind]


def test_register_user_creates_a_user_with_an_inviter_and_tells_the_org(org_a):
    inviter = new_user(org_a, "inviter")
    user = org_a.asset.ok("/user/registerUser", {"national_code": "82", "mobile": "1012345678",
                                                 "password": "Secret-pass-1", "invite_code": inviter["invite_code"],
                                                 "client_order_id": "reg-mobile"})
    assert user["phone"] == "82-1012345678" and user["register_type"] == 1
    assert user["inviter"]["uid"] == inviter["uid"] and user["main_account_id"]
    registered = org_events(kind="org.userRegister")
    assert [e.payload["uid"] for e in registered][-1] == user["uid"]
    response = org_a.asset.post("/user/registerUser", {"email": "not-an-email", "client_order_id": "reg-bad"})
    assert response.status_code == 400 and body(response)["code"] == 2001


def test_login_opens_a_user_session_the_user_api_accepts(org_a):
    user = new_user(org_a, "dana")
    answer = org_a.asset.ok("/user/login", {"username": "dana@7002.test", "password": "Secret-pass-1",
                                            "ip": "203.0.113.7"})
    assert answer["user"]["uid"] == user["uid"] and answer["token"]
    assert sessions.authenticate("7002", answer["token"]).uid == user["uid"]
    assert org_events(kind="org.userLogin")[-1].payload["uid"] == user["uid"]
    wrong = org_a.asset.post("/user/login", {"username": "dana@7002.test", "password": "Wrong-pass-1"})
    assert wrong.status_code == 400 and body(wrong)["code"] == 1105


def test_get_info_answers_the_seed_user_object_with_the_inviter(org_a):
    inviter = new_user(org_a, "ivy")
    invited = new_user(org_a, "ian", invite_code=inviter["invite_code"])
    info = org_a.read.ok("/user/getInfo", {"uid": invited["uid"]}, method="GET")
    for name in ("uid", "email", "phone", "kyc_level", "main_account_id", "option_account_id", "future_account_id",
                 "margin_account_id", "updated_at"):
        assert name in info
    assert info["inviter"] == {"uid": inviter["uid"], "email": "ivy@7002.test", "phone": "",
                               "invite_code": inviter["invite_code"]}
    assert org_a.read.ok("/user/get_base_info", {"user_id": invited["uid"]})["uid"] == invited["uid"]


def test_update_info_changes_password_ga_email_and_mobile_and_tells_the_org(org_a):
    user = new_user(org_a, "erin")
    login = org_a.asset.ok("/user/login", {"username": "erin@7002.test", "password": "Secret-pass-1"})
    changed = org_a.asset.ok("/user/updateInfo", {
        "uid": user["uid"], "password": "Another-pass-2", "trade_password": "Trade-pass-3",
        "ga_secret": "JBSWY3DPEHPK3PXP", "email": "erin.new@7002.test", "national_code": "1",
        "mobile": "5550001111", "anti_phishing_code": "hello", "client_order_id": "upd-1"})
    assert (changed["email"], changed["phone"], changed["bind_ga"], changed["bind_trade_pwd"]) == \
        ("erin.new@7002.test", "1-5550001111", True, True)
    stored = users.get_user("7002", user["uid"])
    assert users.verify_password(stored, "Another-pass-2") and users.ga_secret(stored) == "JBSWY3DPEHPK3PXP"
    assert users.find_by_login("7002", "erin@7002.test") is None
    assert users.find_by_login("7002", "erin.new@7002.test").uid == user["uid"]
    assert users.find_by_login("7002", "5550001111", national_code="1").uid == user["uid"]
    update = org_events(kind="org.userUpdateInfo")[-1].payload
    assert update["uid"] == user["uid"] and "password" in update["changed"] and "Another" not in str(update)
    assert org_events(kind="org.userUpdatePassword")[-1].payload["uid"] == user["uid"]
    with pytest.raises(Unauthenticated):  # sessions from before the password change are over
        sessions.authenticate("7002", login["token"])
    org_a.asset.ok("/user/updateInfo", {"uid": user["uid"], "ga_secret": "", "mobile": "", "client_order_id": "upd-2"})
    assert not users.get_user("7002", user["uid"]).has_ga and users.get_user("7002", user["uid"]).mobile is None
    both_gone = org_a.asset.post("/user/updateInfo", {"uid": user["uid"], "email": "", "client_order_id": "upd-3"})
    assert both_gone.status_code == 400


def test_an_email_taken_by_another_user_is_refused_and_changes_nothing(org_a):
    first, second = new_user(org_a, "fay"), new_user(org_a, "gus")
    response = org_a.asset.post("/user/updateInfo", {"uid": second["uid"], "email": "fay@7002.test",
                                                     "password": "Changed-pass-9", "client_order_id": "upd-x"})
    assert response.status_code == 400 and body(response)["code"] == 1030
    stored = users.get_user("7002", second["uid"])
    assert stored.email == "gus@7002.test" and users.verify_password(stored, "Secret-pass-1")


def test_update_kyc_info_records_a_pending_application_and_verify_kyc_decides_it(org_a):
    user = new_user(org_a, "kim")
    info = org_a.asset.ok("/user/updateKYCInfo", {
        "uid": user["uid"], "country_code": "kr", "first_name": "Kim", "last_name": "Lee", "card_type": "3",
        "card_no": "M12345678", "kyc_level": "2", "client_order_id": "kyc-1"})
    assert info["kyc"]["verify_status"] == 1 and info["kyc"]["card_no"] == "M1*****78"
    assert info["kyc_level"] == 0
    submitted = org_events(kind="org.userUpdateKYCInfo")[-1].payload
    assert submitted["uid"] == user["uid"] and "M12345678" not in str(submitted)
    rejected = org_a.asset.ok("/user/verifyKYC", {"uid": user["uid"], "passed": "false", "reason": "blurred",
                                                  "client_order_id": "kyc-2"})
    assert (rejected["kyc"]["verify_status"], rejected["kyc"]["reason"], rejected["kyc_level"]) == (3, "blurred", 0)
    passed = org_a.asset.ok("/user/verifyKYC", {"uid": user["uid"], "passed": "true", "client_order_id": "kyc-3"})
    assert (passed["kyc"]["verify_status"], passed["kyc_level"]) == (2, 2)
    results = [e.payload["passed"] for e in org_events(kind="org.userUpdateKYCResult")]
    assert results[-2:] == [False, True]
    nobody = new_user(org_a, "nokyc")
    response = org_a.asset.post("/user/verifyKYC", {"uid": nobody["uid"], "passed": "1", "client_order_id": "kyc-4"})
    assert response.status_code == 400 and body(response)["code"] == 2004


def test_get_login_history_lists_each_try_newest_first(org_a):
    user = new_user(org_a, "lou")
    org_a.asset.ok("/user/login", {"username": "lou@7002.test", "password": "Secret-pass-1", "ip": "198.51.100.2"})
    org_a.asset.post("/user/login", {"username": "lou@7002.test", "password": "Wrong-pass-1"})
    full = org_a.read.ok("/user/getLoginHistory", {"uid": user["uid"], "listType": "full"})
    assert [entry["result"] for entry in full] == ["wrong_password", "success"]
    assert full[1]["ip"] == "198.51.100.2"
    assert org_a.read.ok("/user/getLoginHistory", {"uid": user["uid"], "listType": "simple"}) == \
        [entry["id"] for entry in full]


def test_get_invite_list_lists_who_the_user_invited(org_a):
    inviter = new_user(org_a, "host")
    guests = [new_user(org_a, f"guest{n}", invite_code=inviter["invite_code"]) for n in range(2)]
    new_user(org_a, "stranger")
    simple = org_a.read.ok("/user/getInviteList", {"uid": inviter["uid"], "listType": "simple"})
    assert sorted(simple) == sorted(g["uid"] for g in guests)
    full = org_a.read.ok("/user/getInviteList", {"uid": inviter["uid"]})
    assert {u["email"] for u in full} == {"guest0@7002.test", "guest1@7002.test"}


def test_frozen_user_stops_logins_and_the_frozen_list_shows_it(org_a):
    user = new_user(org_a, "max")
    state = org_a.asset.ok("/user/frozenUser", {"uid": user["uid"], "frozen": "true", "client_order_id": "fz-1"})
    assert state["login_frozen"] is True
    refused = org_a.asset.post("/user/login", {"username": "max@7002.test", "password": "Secret-pass-1"})
    assert refused.status_code == 403
    assert org_a.read.ok("/user/getFrozenUserList", {"listType": "simple"}) == [user["uid"]]
    full = org_a.read.ok("/user/getFrozenUserList", {"listType": "full"})
    assert full[0]["uid"] == user["uid"] and full[0]["login_frozen"] is True
    org_a.asset.ok("/user/frozenUser", {"uid": user["uid"], "frozen": "false", "client_order_id": "fz-2"})
    assert org_a.read.ok("/user/getFrozenUserList", {"listType": "simple"}) == []
    assert org_a.asset.ok("/user/login", {"username": "max@7002.test", "password": "Secret-pass-1"})["token"]


def test_update_favorite_and_get_favorite_list(org_a):
    user = new_user(org_a, "nia")
    org_a.asset.ok("/user/updateFavorite", {"uid": user["uid"], "symbol_id": "BTCUSDT", "client_order_id": "fav-1"})
    org_a.asset.ok("/user/updateFavorite", {"uid": user["uid"], "symbol_id": "ETHUSDT", "client_order_id": "fav-2"})
    org_a.asset.ok("/user/updateFavorite", {"uid": user["uid"], "symbol_id": "BTCUSDT", "action": "remove",
                                            "client_order_id": "fav-3"})
    assert org_a.read.ok("/user/getFavoriteList", {"uid": user["uid"], "listType": "simple"}) == ["ETHUSDT"]
    full = org_a.read.ok("/user/getFavoriteList", {"uid": user["uid"]})
    assert full[0]["symbol_id"] == "ETHUSDT" and isinstance(full[0]["created_at"], int)
    unknown = org_a.asset.post("/user/updateFavorite", {"uid": user["uid"], "symbol_id": "DOGEUSDT",
                                                        "client_order_id": "fav-4"})
    assert unknown.status_code == 400


def test_create_open_api_gives_the_user_a_key_and_its_secret_once(org_a):
    user = new_user(org_a, "oli")
    params = {"uid": user["uid"], "key_type": "1", "label": "bot", "ip_whitelist": "192.0.2.1",
              "client_order_id": "key-1"}
    created = org_a.asset.ok("/user/createOpenAPI", params)
    assert created["secret"] and created["ip_whitelist"] == ["192.0.2.1"] and created["key_type"] == 1
    again = org_a.asset.ok("/user/createOpenAPI", params)
    assert again["api_key"] == created["api_key"] and "secret" not in again
    key = api_keys.authenticate_user_key(created["api_key"])
    assert (key.uid, key.secret) == (user["uid"], created["secret"])


def test_send_notice_pushes_to_the_user_stream_or_mails_through_the_notifier(org_a):
    user = new_user(org_a, "pia")
    sent = org_a.asset.ok("/user/sendNotice", {"uid": user["uid"], "channel": "push", "title": "Hi",
                                               "content": "Welcome aboard", "client_order_id": "n-1"})
    assert sent["sent"] is True
    pushed = [e for e in events.replay(user_stream(user["uid"]), 0, 100) if e.type == "notice"]
    assert [e.payload["content"] for e in pushed] == ["Welcome aboard"]
    org_a.asset.ok("/user/sendNotice", {"uid": user["uid"], "channel": "email", "title": "Hi",
                                        "content": "By mail", "client_order_id": "n-2"})
    mails = notifier.read_outbox("7002", "pia@7002.test")
    assert mails[0]["body"] == "By mail" and mails[0]["kind"] == "ORG_NOTICE"
    no_phone = org_a.asset.post("/user/sendNotice", {"uid": user["uid"], "channel": "sms", "title": "Hi",
                                                     "content": "x", "client_order_id": "n-3"})
    assert no_phone.status_code == 400
