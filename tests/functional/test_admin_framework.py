"""The Admin API frame: envelope, dispatch, verbs, sessions, CSRF, whitelist, tenancy, audit."""
from __future__ import annotations

from chalicelib.store import admin_whitelist as whitelist_store
from tests.functional.test_admin_support import (  # noqa: F401  (fixtures)
    BASE, HOST, ORG, OTHER_HOST, OTHER_ORG, AdminBrowser, admin_login, audit_rows, clock, http, make_admin,
    owner, seeded, staff,
)


def test_an_admin_logs_in_and_reads_who_they_are_in_the_admin_envelope(owner):
    me = owner.read("auth/me")
    assert me.status == 200 and me.json["code"] == 0 and me.json["msg"] == ""
    assert me.json["data"]["username"] == "admin" and "finance.write" in me.json["data"]["permissions"]


def test_an_unknown_action_answers_404_and_a_wrong_verb_405_in_json(owner):
    missing = owner.read("nothing/here")
    assert missing.status == 404 and missing.json["code"] == 2005
    wrong_verb = owner.read("admins/create")
    assert wrong_verb.status == 405 and wrong_verb.json["code"] == 2006
    put = owner.http.request("PUT", BASE + "auth/me", headers={"Host": HOST}, body=b"")
    assert put.status_code == 405


def test_without_a_session_every_action_but_login_answers_401(seeded, http):
    answer = AdminBrowser(http).read("auth/me")
    assert answer.status == 401 and answer.json["code"] == 1001


def test_a_user_session_is_not_an_admin_session(seeded, http):
    from tests.functional.test_user_api_support import log_in

    user = log_in(http, "alice@demo.local")
    browser = AdminBrowser(http)
    browser.cookies["admin_token"] = user.cookies["au_token"]
    assert browser.read("auth/me").status == 401


def test_a_wrong_password_is_refused_and_the_sixth_locks_the_admin(seeded, http, clock):
    browser = AdminBrowser(http)
    codes = []
    for _ in range(6):
        codes.append(browser.call("auth/login", {"username": "admin", "password": "Wrong-pass-99"}).code)
        clock.advance(10)
    assert codes[:5] == [1105] * 5 and codes[5] == 1015
    locked = browser.call("auth/login", {"username": "admin", "password": "Demo-admin-1"})
    assert (locked.status, locked.code) == (403, 1015)


def test_a_mutating_call_without_the_csrf_token_is_refused_and_changes_nothing(owner):
    before = len(owner.read("admins/list").json["data"]["list"])
    refused = owner.call("admins/create", {"username": "eve", "password": "Eve-pass-123", "roles": "support",
                                           "operation_id": "x1"}, csrf=False)
    assert (refused.status, refused.code) == (403, 1018)
    assert len(owner.read("admins/list").json["data"]["list"]) == before
    assert not audit_rows(action="admins/create")


def test_a_bad_parameter_is_named_in_a_400_and_unknown_ones_are_refused(owner):
    missing = owner.call("admins/create", {"username": "eve", "roles": "support", "operation_id": "x1"})
    assert (missing.status, missing.code) == (400, 2002) and "password" in missing.json["msg"]
    extra = owner.call("admins/disable", {"username": "eve", "colour": "red"})
    assert extra.status == 400 and "colour" in extra.json["msg"]


def test_an_address_off_a_non_empty_whitelist_is_refused_even_at_login(owner, http):
    assert owner.read("whitelist/my_ip").json["data"] == {"ip": "127.0.0.1", "allowed": True}
    whitelist_store.add(ORG, "10.0.0.0/8", "office", "test")
    refused = owner.read("auth/me")
    assert (refused.status, refused.code) == (403, 1011)
    assert AdminBrowser(http).call("auth/login", {"username": "admin", "password": "Demo-admin-1"}).code == 1011


def test_the_first_whitelist_entry_must_admit_the_caller_and_then_the_list_is_enforced(owner):
    refused = owner.call("whitelist/add", {"ip": "10.1.2.3"})
    assert refused.status == 400
    assert owner.call("whitelist/add", {"ip": "127.0.0.0/24", "note": "this machine"}).status == 200
    assert owner.call("whitelist/add", {"ip": "10.1.2.3"}).status == 200
    assert {e["network"] for e in owner.read("whitelist/list").json["data"]["list"]} == {"127.0.0.0/24",
                                                                                        "10.1.2.3/32"}
    assert owner.call("whitelist/delete", {"ip": "127.0.0.0/24"}).status == 400  # would shut the caller out
    assert owner.call("whitelist/delete", {"ip": "10.1.2.3"}).status == 200


def test_an_admin_session_of_org_a_is_nothing_on_org_b_hosts(owner, http):
    make_admin(OTHER_ORG, "admin", ["owner"], "Other-admin-1")
    foreign = AdminBrowser(http, OTHER_HOST)
    foreign.cookies = dict(owner.cookies)
    assert foreign.read("auth/me").status == 401
    assert foreign.call("admins/create", {"username": "x-y", "password": "Xy-pass-1234", "roles": "owner",
                                          "operation_id": "t1"}).status == 401
    other = admin_login(http, "admin", "Other-admin-1", host=OTHER_HOST)
    assert [a["username"] for a in other.read("admins/list").json["data"]["list"]] == ["admin"]
    assert AdminBrowser(http, OTHER_HOST).call("auth/login", {"username": "admin",
                                                              "password": "Demo-admin-1"}).code == 1105


def test_login_with_totp_takes_a_second_step_and_a_code_works_once(owner, http, clock):
    from chalicelib.auth import totp

    bind = owner.call("auth/totp_bind")
    secret = bind.json["data"]["secret"]
    clock.advance(30)
    assert owner.call("auth/totp_confirm", {"totp_code": totp.code_at(secret, clock.now)}).status == 200
    browser = AdminBrowser(http)
    first = browser.call("auth/login", {"username": "admin", "password": "Demo-admin-1"})
    assert first.json["data"]["need_totp"] is True and "admin_token" not in browser.cookies
    clock.advance(30)
    code = totp.code_at(secret, clock.now)
    done = browser.call("auth/login_totp", {"request_id": first.json["data"]["request_id"], "totp_code": code})
    assert done.status == 200 and "admin_token" in browser.cookies
    again = AdminBrowser(http).call("auth/login", {"username": "admin", "password": "Demo-admin-1",
                                                   "totp_code": code})
    assert again.code == 1017
    rows = audit_rows(action="auth/totp_bind")
    assert rows and secret not in str(rows)


def test_logout_ends_the_session(owner):
    assert owner.call("auth/logout").status == 200
    assert owner.read("auth/me").status == 401


def test_the_back_office_seed_gives_every_role_a_working_login_and_reruns_cleanly(seeded, http):
    from infra.local.seed import seed_back_office

    first = seed_back_office()
    assert seed_back_office() == first
    for entry in first["staff"]:
        host = HOST if entry["org_id"] == ORG else OTHER_HOST
        me = admin_login(http, entry["username"], entry["password"], host=host).read("auth/me").json["data"]
        assert me["roles"] == entry["roles"] and me["totp_bound"] is False
