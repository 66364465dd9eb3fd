"""User API sessions: sign-up with a code, cookies, CSRF, expiry, revocation, logout,
password change and reset, GA at login, and the failed-login lock."""
from __future__ import annotations

from chalicelib.services import login_guard, sessions
from chalicelib.store import sessions as session_store
from chalicelib.store import orders as order_store
from infra.local.seed import PASSWORD
from tests.functional.test_user_api_support import (  # noqa: F401  (fixtures)
    Browser, bind_ga, clock, ga_code, http, last_code, log_in, outbox, seeded, sign_up,
)


def cookie_attributes(answer, name: str) -> str:
    values = answer.headers["Set-Cookie"]
    return next(value for value in values if value.startswith(name + "="))


def test_sign_up_by_email_with_the_code_from_the_outbox_opens_a_session(seeded, http):
    browser = Browser(http)
    assert browser.post("/api/common/send_verify_code", {"type": "REGISTER", "email": "Carol@Example.com"}).status == 200
    code, order_id = last_code("carol@example.com", "REGISTER")
    wrong = browser.post("/api/user/email_sign_up", {"email": "carol@example.com", "password": "Carol-pass-1",
                                                     "verify_code": "000000" if code != "000000" else "111111",
                                                     "order_id": order_id})
    assert (wrong.status, wrong.code) == (400, 1060)
    answer = browser.post("/api/user/email_sign_up", {"email": "carol@example.com", "password": "Carol-pass-1",
                                                      "verify_code": code, "order_id": order_id})
    assert answer.status == 200, answer
    assert answer.json["user"]["email"] == "ca***@example.com" and answer.json["csrfToken"] == browser.csrf
    session_cookie = cookie_attributes(answer, "au_token")
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie and "Path=/" in session_cookie
    assert "Secure" not in session_cookie  # the test stage is local; every other stage adds Secure
    assert "HttpOnly" not in cookie_attributes(answer, "c_token")
    me = browser.get("/api/user/get_base_info")
    assert me.status == 200 and me.json["userId"] == answer.json["user"]["userId"]
    # the same code cannot open a second account
    again = Browser(http).post("/api/user/email_sign_up", {"email": "dave@example.com", "password": "Dave-pass-12",
                                                           "verify_code": code, "order_id": order_id})
    assert again.status == 400


def test_a_sign_up_code_for_a_taken_address_sends_a_notice_instead_and_answers_alike(seeded, http):
    answer = Browser(http).post("/api/common/send_verify_code", {"type": "REGISTER", "email": "alice@demo.local"})
    assert answer.status == 200 and answer.json["orderId"]
    notices = outbox("alice@demo.local")
    assert notices[0]["kind"] == "REGISTER_ATTEMPT" and "code" not in notices[0]["data"]


def test_a_code_dies_after_five_wrong_guesses(seeded, http):
    browser = Browser(http)
    browser.post("/api/common/send_verify_code", {"type": "REGISTER", "email": "eve@example.com"})
    code, order_id = last_code("eve@example.com")
    wrong = "123456" if code != "123456" else "654321"
    codes = [browser.post("/api/user/email_sign_up", {"email": "eve@example.com", "password": "Eve-pass-123",
                                                      "verify_code": wrong, "order_id": order_id}).code
             for _ in range(5)]
    assert codes == [1060, 1060, 1060, 1060, 1062]
    late = browser.post("/api/user/email_sign_up", {"email": "eve@example.com", "password": "Eve-pass-123",
                                                    "verify_code": code, "order_id": order_id})
    assert late.code == 1062


def test_codes_are_throttled_per_address(seeded, http):
    browser = Browser(http)
    assert browser.post("/api/common/send_verify_code", {"type": "REGISTER", "email": "f@example.com"}).status == 200
    again = browser.post("/api/common/send_verify_code", {"type": "REGISTER", "email": "f@example.com"})
    assert (again.status, again.code) == (429, 1063) and int(again.headers["Retry-After"]) >= 1


def test_login_lists_revokes_and_logs_out_sessions(seeded, http):
    first, second = log_in(http, "alice@demo.local"), log_in(http, "alice@demo.local")
    listed = first.get("/api/user/sessions").json
    assert len(listed) == 2 and sum(s["current"] for s in listed) == 1
    other = next(s["sessionId"] for s in listed if not s["current"])
    assert first.post("/api/user/session/revoke", {"session_id": other}).status == 200
    assert second.get("/api/user/get_base_info").status == 401
    history = first.get("/api/user/authorize_log").json
    assert [h["result"] for h in history[:2]] == ["success", "success"]
    out = first.post("/api/user/authorize_cancel")
    assert out.status == 200 and "au_token" not in first.cookies
    assert first.get("/api/user/get_base_info").code == 1001


def test_a_session_expires_when_idle_and_at_its_end(seeded, http, monkeypatch):
    browser = log_in(http, "alice@demo.local")
    token = browser.cookies["au_token"]
    record = session_store.get_session(sessions.token_hash(token))
    monkeypatch.setattr(session_store, "now_ms", lambda: record.idle_until + 1)
    assert browser.get("/api/user/get_base_info").code == 1001
    assert session_store.get_session(sessions.token_hash(token)) is None


def test_a_session_belongs_to_one_org(seeded, http):
    browser = log_in(http, "alice@demo.local")
    foreign = Browser(http, host="second.local")
    foreign.cookies = dict(browser.cookies)
    assert foreign.get("/api/user/get_base_info").code == 1001
    unknown = Browser(http, host="nowhere.example")
    assert unknown.get("/s_api/basic/tokens").code == 1069


def test_a_state_changing_request_without_the_csrf_token_is_refused_and_changes_nothing(seeded, http):
    browser = log_in(http, "alice@demo.local")
    account = seeded["users"][0]["account_id"]
    order = {"symbol_id": "BTCUSDT", "side": "buy", "type": "limit", "price": "100", "quantity": "0.01",
             "client_order_id": "csrf-1"}
    for headers, csrf in (({}, False), ({"X-CSRF-Token": "forged"}, False)):
        refused = browser.post("/api/order/create", order, csrf=csrf, headers=headers)
        assert (refused.status, refused.code) == (403, 1018), refused
    assert list(order_store.of_account(account)) == []
    # a password change without the token changes nothing either
    refused = browser.post("/api/user/update_pwd", {"old_password": PASSWORD, "password": "Other-pass-1"}, csrf=False)
    assert refused.code == 1018
    assert log_in(http, "alice@demo.local").get("/api/user/get_base_info").status == 200
    # another session's token is not this session's token
    other = log_in(http, "bob@demo.local")
    assert browser.post("/api/order/create", order, csrf=False, headers={"X-CSRF-Token": other.csrf}).code == 1018
    # reads need no token; with it the order goes through
    assert browser.get("/api/order/open_orders").status == 200
    placed = browser.post("/api/order/create", order)
    assert placed.status == 200 and placed.json["clientOrderId"] == "csrf-1"
    # a form field works as well as the header
    assert browser.post("/api/order/cancel", {"order_id": placed.json["orderId"], "csrf_token": browser.csrf},
                        csrf=False).status == 200


def test_only_get_and_post_exist_and_writes_are_post_only(seeded, http):
    browser = log_in(http, "alice@demo.local")
    assert browser.get("/api/order/create", {"symbol_id": "BTCUSDT"}).status == 405
    answer = http.request("PUT", "/api/user/get_base_info", headers={"Host": "localhost"}, body=b"")
    assert answer.status_code in (404, 405)


def test_the_sixth_wrong_password_locks_the_account_and_the_right_one_is_refused_during_the_lock(seeded, http, clock):
    browser = Browser(http)
    attempt = {"username": "alice@demo.local", "password": "wrong-password"}
    codes = []
    for _ in range(5):
        codes.append(browser.post("/api/user/authorize", attempt).code)
        clock.advance(5)  # past each throttle delay
    assert codes == [1105] * 5
    sixth = browser.post("/api/user/authorize", attempt)
    assert (sixth.status, sixth.code) == (403, 1015) and "until" in sixth.json["msg"]
    right = browser.post("/api/user/authorize", {"username": "alice@demo.local", "password": PASSWORD})
    assert right.code == 1015 and "au_token" not in browser.cookies
    uid = seeded["users"][0]["uid"]
    status = login_guard.lock_status("7002", uid)
    assert status["locked"] and status["locked_until"] > clock.ms()
    assert any(n["kind"] == "LOGIN_LOCKED" for n in outbox("alice@demo.local"))
    results = [h["result"] for h in sessions.login_history("7002", uid)]
    assert results[:3] == ["refused_locked", "locked", "wrong_password"]
    clock.advance(login_guard.DEFAULT_LOCK_MINUTES * 60 + 1)
    assert log_in(http, "alice@demo.local").get("/api/user/get_base_info").status == 200
    assert not login_guard.lock_status("7002", uid)["locked"]


def test_failed_logins_slow_down_before_the_lock(seeded, http, clock):
    browser = Browser(http)
    attempt = {"username": "bob@demo.local", "password": "wrong-password"}
    assert [browser.post("/api/user/authorize", attempt).code for _ in range(3)] == [1105, 1105, 1105]
    too_fast = browser.post("/api/user/authorize", attempt)
    assert (too_fast.status, too_fast.code) == (429, 1020)
    clock.advance(1.1)
    assert browser.post("/api/user/authorize", attempt).code == 1105


def test_unknown_logins_lock_alike_and_an_admin_can_unlock(seeded, http, clock):
    browser = Browser(http)
    for _ in range(5):
        assert browser.post("/api/user/authorize", {"username": "ghost@demo.local", "password": "x" * 9}).code == 1105
        clock.advance(5)
    assert browser.post("/api/user/authorize", {"username": "ghost@demo.local", "password": "x" * 9}).code == 1015
    uid = seeded["users"][1]["uid"]
    for _ in range(6):
        browser.post("/api/user/authorize", {"username": "bob@demo.local", "password": "x" * 9})
        clock.advance(5)
    assert browser.post("/api/user/authorize", {"username": "bob@demo.local", "password": PASSWORD}).code == 1015
    assert login_guard.unlock("7002", uid)["locked"] is False
    assert log_in(http, "bob@demo.local").get("/api/user/get_base_info").status == 200


def test_with_ga_bound_login_needs_the_code_and_a_code_works_once(seeded, http, clock):
    browser = sign_up(http, "ga@example.com")
    secret = bind_ga(browser, clock)
    assert browser.post("/api/user/authorize_cancel").status == 200
    fresh = Browser(http)
    first = fresh.post("/api/user/authorize", {"username": "ga@example.com", "password": "Sign-up-pass-1"})
    assert first.json["need2FA"] is True and "au_token" not in fresh.cookies
    wrong = fresh.post("/api/user/authorize_advance", {"request_id": first.json["requestId"], "ga_code": "000000"})
    assert wrong.code == 1017
    code = ga_code(clock, secret)
    done = fresh.post("/api/user/authorize_advance", {"request_id": first.json["requestId"], "ga_code": code})
    assert done.status == 200 and "au_token" in fresh.cookies
    # the request id is spent, and the same code cannot open another session
    assert fresh.post("/api/user/authorize_advance", {"request_id": first.json["requestId"], "ga_code": code}).code \
        in (1068, 1017)
    one_step = Browser(http).post("/api/user/authorize", {"username": "ga@example.com",
                                                          "password": "Sign-up-pass-1", "ga_code": code})
    assert one_step.code == 1017
    assert Browser(http).post("/api/user/authorize", {"username": "ga@example.com", "password": "Sign-up-pass-1",
                                                      "ga_code": ga_code(clock, secret)}).status == 200


def test_a_password_change_ends_every_session(seeded, http):
    first, second = log_in(http, "alice@demo.local"), log_in(http, "alice@demo.local")
    wrong = first.post("/api/user/update_pwd", {"old_password": "not-it-at-all", "password": "Alice-new-pass1"})
    assert wrong.code == 1105
    changed = first.post("/api/user/update_pwd", {"old_password": PASSWORD, "password": "Alice-new-pass1"})
    assert changed.status == 200 and "au_token" not in first.cookies
    assert second.get("/api/user/get_base_info").code == 1001
    assert Browser(http).post("/api/user/authorize", {"username": "alice@demo.local", "password": PASSWORD}).code == 1105
    assert log_in(http, "alice@demo.local", "Alice-new-pass1").get("/api/user/get_base_info").status == 200


def test_find_password_resets_it_with_a_code_and_lifts_a_lock(seeded, http, clock):
    browser = Browser(http)
    for _ in range(6):
        browser.post("/api/user/authorize", {"username": "bob@demo.local", "password": "x" * 9})
        clock.advance(5)
    session = log_in(http, "alice@demo.local")  # unaffected
    assert browser.post("/api/common/send_verify_code", {"type": "FIND_PASSWORD", "email": "bob@demo.local"}).status \
        == 200
    code, order_id = last_code("bob@demo.local", "FIND_PASSWORD")
    reset = browser.post("/api/user/find_pwd", {"email": "bob@demo.local", "verify_code": code, "order_id": order_id,
                                                "password": "Bob-new-pass-1"})
    assert reset.status == 200, reset
    assert log_in(http, "bob@demo.local", "Bob-new-pass-1").get("/api/user/get_base_info").status == 200
    assert session.get("/api/user/get_base_info").status == 200
    # an unknown address answers like a known one and receives nothing
    assert browser.post("/api/common/send_verify_code", {"type": "FIND_PASSWORD", "email": "nobody@demo.local"}
                        ).status == 200
    assert outbox("nobody@demo.local") == []
