"""Users and orders through the Admin API, and the wall between orgs."""
from __future__ import annotations

from decimal import Decimal as D

from chalicelib.services import orders
from tests.functional.test_admin_support import (  # noqa: F401  (fixtures)
    ORG, OTHER_HOST, OTHER_ORG, admin_login, clock, http, make_admin, owner, seeded,
)
from tests.functional.test_user_api_support import Browser, log_in


def test_an_admin_finds_a_user_by_email_and_reads_the_detail(seeded, owner):
    alice = seeded["users"][0]
    found = owner.read("users/search", {"email": "alice@demo.local"}).json["data"]
    assert found["total"] == 1 and found["list"][0]["uid"] == alice["uid"]
    everyone = owner.read("users/search", {"pageSize": 1}).json["data"]
    assert (everyone["total"], len(everyone["list"]), everyone["pageSize"]) == (2, 1, 1)
    detail = owner.read("users/detail", {"uid": alice["uid"]}).json["data"]
    assert {a["token"]: a["available"] for a in detail["assets"]}["USDT"] == "1000000"
    assert detail["api_keys"][0]["enabled"] is True and "kyc" in detail and "login_history" in detail


def test_freezing_login_ends_the_users_sessions_and_refuses_new_ones(seeded, owner, http):
    alice = seeded["users"][0]
    browser = log_in(http, "alice@demo.local")
    assert owner.call("users/freeze_login", {"uid": alice["uid"], "frozen": "true", "operation_id": "z1"}).status == 200
    assert browser.get("/api/user/get_base_info").status == 401
    refused = Browser(http).post("/api/user/authorize", {"username": "alice@demo.local", "password": "Demo-pass-1"})
    assert refused.status == 403
    owner.call("users/freeze_login", {"uid": alice["uid"], "frozen": "false", "operation_id": "z2"})
    log_in(http, "alice@demo.local")


def test_an_admin_cancels_a_users_order_and_finds_it_by_symbol_and_status(seeded, owner):
    alice = seeded["users"][0]
    placed = orders.place_order(orders.Trader(ORG, alice["uid"], alice["account_id"]), symbol="BTCUSDT", side="BUY",
                                order_type="LIMIT", quantity=D("0.1"), price=D("20000"), time_in_force="GTC")
    found = owner.read("orders/search", {"uid": alice["uid"], "symbol": "BTCUSDT", "status": "NEW"}).json["data"]
    assert [o["order_id"] for o in found["list"]] == [placed["order_id"]]
    assert owner.call("orders/cancel", {"order_id": placed["order_id"]}).json["data"]["status"] == "CANCELED"
    assert owner.read("orders/search", {"status": "CANCELED"}).json["data"]["list"][0]["order_id"] == placed[
        "order_id"]


def test_an_admin_of_another_org_neither_sees_nor_touches_this_orgs_users_or_orders(seeded, http):
    alice = seeded["users"][0]
    placed = orders.place_order(orders.Trader(ORG, alice["uid"], alice["account_id"]), symbol="BTCUSDT", side="BUY",
                                order_type="LIMIT", quantity=D("0.1"), price=D("20000"), time_in_force="GTC")
    make_admin(OTHER_ORG, "boss", ["owner"])
    foreign = admin_login(http, "boss", "Staff-pass-12", host=OTHER_HOST)
    assert foreign.read("users/search", {"email": "alice@demo.local"}).json["data"]["total"] == 0
    assert foreign.read("users/detail", {"uid": alice["uid"]}).status == 400
    assert foreign.read("orders/search").json["data"]["list"] == []
    assert foreign.call("orders/cancel", {"order_id": placed["order_id"]}).status == 400
    assert foreign.call("users/freeze_login", {"uid": alice["uid"], "frozen": "true",
                                               "operation_id": "x"}).status == 400
    assert orders.find_order(orders.Trader(ORG, alice["uid"], alice["account_id"]),
                             order_id=placed["order_id"]).order.status.value == "NEW"
