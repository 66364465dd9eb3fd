"""Admin API campaigns: register and invite bonuses from the operating account, paid once
per rule and user, within a budget, from the org event stream."""
from __future__ import annotations

import threading
import time
from decimal import Decimal as D

from chalicelib.domain import ledger as money
from chalicelib.services import campaigns, ledger, users
from tests.functional.test_admin_support import (  # noqa: F401  (fixtures)
    ORG, OTHER_HOST, OTHER_ORG, admin_login, audit_rows, data, http, ledger_stays_conserved, make_admin,
    owner, seeded, staff,
)
from tests.functional.test_user_api_support import Browser, last_code, sign_up


def usdt(email: str, org_id: str = ORG) -> D:
    return ledger.balance(users.find_by_login(org_id, email).main_account_id, "USDT").available


def operating(org_id: str = ORG) -> D:
    return ledger.balance(money.operating_account(org_id), "USDT").available


def sign_up_at(http, host: str, org_id: str, email: str) -> None:
    """A sign-up on another org's host (`sign_up` serves the demo org)."""
    browser = Browser(http, host)
    assert browser.post("/api/common/send_verify_code", {"type": "REGISTER", "email": email}).status == 200
    code, order_id = last_code(email, "REGISTER", org_id=org_id)
    assert browser.post("/api/user/email_sign_up", {"email": email, "password": "Sign-up-pass-1",
                                                    "verify_code": code, "order_id": order_id}).status == 200


def new_rule(admin, trigger="register", amount="10", budget="100", op="r-1", **extra) -> dict:
    return data(admin.call("campaigns/create", {"name": f"{trigger} bonus", "trigger": trigger, "token_id": "USDT",
                                                "amount": amount, "budget": budget, "operation_id": op, **extra}))


def test_a_register_bonus_pays_each_new_user_once_from_the_operating_account(staff, http):
    operator = staff["operator"]
    rule = new_rule(operator)
    before = operating()
    sign_up(http, "new1@x.test")
    sign_up(http, "new2@x.test")
    data(operator.call("campaigns/run"))
    data(operator.call("campaigns/run"))
    campaigns.catch_up_all()
    assert (usdt("new1@x.test"), usdt("new2@x.test")) == (D(10), D(10))
    assert operating() == before - 20
    shown = data(operator.read("campaigns/detail", {"rule_id": rule["rule_id"]}))
    assert (shown["spent"], shown["paid_count"], shown["remaining"]) == ("20", 2, "80")
    paid = data(operator.read("campaigns/payouts", {"rule_id": rule["rule_id"]}))["list"]
    assert sorted(p["recipient_uid"] for p in paid) == sorted(
        users.find_by_login(ORG, e).uid for e in ("new1@x.test", "new2@x.test"))
    assert audit_rows(action="campaigns/create")[0]["after"]["rule_id"] == rule["rule_id"]


def test_the_budget_cap_stops_payment_and_a_larger_budget_resumes_it(owner, http):
    rule = new_rule(owner, amount="10", budget="25")
    for n in range(3):
        sign_up(http, f"cap{n}@x.test")
    campaigns.catch_up_all()
    assert [usdt(f"cap{n}@x.test") for n in range(3)] == [D(10), D(10), D(0)]
    shown = data(owner.read("campaigns/detail", {"rule_id": rule["rule_id"]}))
    assert (shown["status"], shown["spent"]) == ("EXHAUSTED", "20")
    updated = data(owner.call("campaigns/update", {"rule_id": rule["rule_id"], "budget": "30"}))
    assert updated["status"] == "ACTIVE"
    campaigns.catch_up_all()
    assert usdt("cap2@x.test") == D(10)
    assert data(owner.read("campaigns/detail", {"rule_id": rule["rule_id"]}))["status"] == "EXHAUSTED"
    assert audit_rows(action="campaigns/update")[0]["before"]["budget"] == "25"
    below_spent = owner.call("campaigns/update", {"rule_id": rule["rule_id"], "budget": "20"})
    assert below_spent.status == 400


def test_an_invite_bonus_pays_the_inviter_once_per_invited_user_into_lock_up(owner, http):
    alice = users.find_by_login(ORG, "alice@demo.local")
    rule = new_rule(owner, trigger="invite", amount="5", to_lock="true")
    sign_up(http, "friend1@x.test", invite_code=alice.invite_code)
    sign_up(http, "friend2@x.test", invite_code=alice.invite_code)
    sign_up(http, "loner@x.test")
    campaigns.catch_up_all()
    campaigns.catch_up_all()
    held = ledger.balance(alice.main_account_id, "USDT")
    assert (held.available, held.position) == (D(1_000_000), D(10))
    assert usdt("friend1@x.test") == 0 and usdt("loner@x.test") == 0
    paid = data(owner.read("campaigns/payouts", {"rule_id": rule["rule_id"]}))["list"]
    assert [p["recipient_uid"] for p in paid] == [alice.uid, alice.uid]


def test_events_before_a_rule_during_a_pause_or_after_its_end_never_pay(owner, http):
    sign_up(http, "early@x.test")
    rule = new_rule(owner)
    now = int(time.time() * 1000)
    ended = new_rule(owner, amount="7", op="r-ended", starts_at=now - 60_000, ends_at=now + 1)
    data(owner.call("campaigns/update", {"rule_id": rule["rule_id"], "status": "PAUSED"}))
    sign_up(http, "paused@x.test")
    campaigns.catch_up_all()
    data(owner.call("campaigns/update", {"rule_id": rule["rule_id"], "status": "ACTIVE"}))
    sign_up(http, "later@x.test")
    campaigns.catch_up_all()
    assert [usdt(e) for e in ("early@x.test", "paused@x.test", "later@x.test")] == [D(0), D(0), D(10)]
    assert data(owner.read("campaigns/detail", {"rule_id": ended["rule_id"]}))["status"] == "ENDED"


def test_a_bonus_the_operating_account_cannot_cover_waits_until_it_is_funded(seeded, http):
    make_admin(OTHER_ORG, "boss", ["owner"], "Other-admin-1")
    boss = admin_login(http, "boss", "Other-admin-1", host=OTHER_HOST)
    rule = new_rule(boss)
    sign_up_at(http, OTHER_HOST, OTHER_ORG, "n@second.test")
    campaigns.catch_up_all()
    blocked = data(boss.read("campaigns/detail", {"rule_id": rule["rule_id"]}))
    assert blocked["blocked_reason"] and blocked["spent"] == "0" and usdt("n@second.test", OTHER_ORG) == 0
    data(boss.call("finance/operating_fund", {"token_id": "USDT", "amount": "15", "operation_id": "fund-1"}))
    campaigns.catch_up_all()
    assert usdt("n@second.test", OTHER_ORG) == D(10) and operating(OTHER_ORG) == D(5)
    assert data(boss.read("campaigns/detail", {"rule_id": rule["rule_id"]}))["blocked_reason"] is None


def test_two_runners_at_once_pay_each_bonus_once(owner, http):
    rule = new_rule(owner, budget="1000")
    for n in range(4):
        sign_up(http, f"race{n}@x.test")
    runners = [threading.Thread(target=campaigns.catch_up, args=(ORG,)) for _ in range(2)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    campaigns.catch_up(ORG)
    assert [usdt(f"race{n}@x.test") for n in range(4)] == [D(10)] * 4
    assert data(owner.read("campaigns/detail", {"rule_id": rule["rule_id"]}))["spent"] == "40"


def test_rules_are_validated_and_an_org_sees_only_its_own(owner, http):
    assert owner.call("campaigns/create", {"name": "x", "trigger": "deposit", "token_id": "USDT", "amount": "1",
                                           "budget": "10", "operation_id": "v1"}).status == 400
    assert owner.call("campaigns/create", {"name": "x", "trigger": "register", "token_id": "USDT", "amount": "11",
                                           "budget": "10", "operation_id": "v2"}).status == 400
    assert owner.call("campaigns/create", {"name": "x", "trigger": "register", "token_id": "USDT",
                                           "amount": "0.0000001", "budget": "10", "operation_id": "v3"}).status == 400
    rule = new_rule(owner)
    assert new_rule(owner) == rule  # the same operation id answers the first rule
    make_admin(OTHER_ORG, "boss", ["owner"], "Other-admin-1")
    stranger = admin_login(http, "boss", "Other-admin-1", host=OTHER_HOST)
    assert data(stranger.read("campaigns/list"))["list"] == []
    assert stranger.read("campaigns/detail", {"rule_id": rule["rule_id"]}).code == 2004
    assert stranger.call("campaigns/update", {"rule_id": rule["rule_id"], "status": "PAUSED"}).code == 2004
