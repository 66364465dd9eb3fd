"""3.6 Statistics paths: user, token and symbol series by day, hour and minute."""
from __future__ import annotations

import time
from decimal import Decimal

import pytest

from chalicelib.api.custody_callbacks import accept
from chalicelib.domain import money
from chalicelib.gateways import custody
from chalicelib.services import catalog, statistics
from tests.functional.test_org_api_support import (  # noqa: F401  (fixtures)
    body, drain_matcher, http, new_user, org_a, org_b, seeded,
)


def current(rows, **match):
    """The series' totals (the test's events may straddle a bucket boundary) and its last
    levels, for the given scope."""
    rows = [row for row in rows if all(row.get(k) == v for k, v in match.items())]
    summed = dict(rows[-1])
    for name, value in rows[-1].items():
        if name.endswith(("_count", "_amount", "_quantity")):
            summed[name] = money.text(sum(Decimal(row[name]) for row in rows))
    return summed


@pytest.mark.parametrize("granularity", ["day", "hour", "minute"])
def test_user_statistics_count_registrations_logins_and_kyc(org_a, granularity):
    first, second = new_user(org_a, "s1"), new_user(org_a, "s2")
    org_a.asset.ok("/user/login", {"username": "s1@7002.test", "password": "Secret-pass-1"})
    org_a.asset.ok("/user/updateKYCInfo", {"uid": first["uid"], "country_code": "KR", "first_name": "A",
                                           "last_name": "B", "card_no": "X1234567", "client_order_id": "k1"})
    org_a.asset.ok("/user/verifyKYC", {"uid": first["uid"], "passed": "1", "client_order_id": "k2"})
    rows = org_a.read.ok("/statistics/user", {"granularity": granularity})
    assert len(rows) == 30 and rows[0]["register_count"] == "0"
    now = current(rows)
    demo_users = 2  # the seed's demo users registered in the same bucket
    assert (now["register_count"], now["login_count"], now["kyc_submit_count"], now["kyc_pass_count"]) == \
        (str(2 + demo_users), "1", "1", "1")
    assert second["uid"]


def test_token_statistics_count_deposits_withdrawals_and_holders(org_a):
    holder_a = new_user(org_a, "t1", funds={"USDT": "100"})
    new_user(org_a, "t2", funds={"USDT": "50"})
    address = org_a.asset.ok("/account/getDepositAddress", {"uid": holder_a["uid"], "token_id": "USDT"})["address"]
    report = custody.simulator().deposit_report(chain="ERC20", token="USDT", address=address, address_tag=None,
                                                amount="30", confirmations=99, tx_hash="0xabc", output_index=0)
    accept(report.path, report.headers, report.body)
    row = current(org_a.read.ok("/statistics/token", {"token_id": "USDT", "granularity": "hour"}))
    assert (row["token_id"], row["deposit_count"], row["deposit_amount"]) == ("USDT", "1", "30")
    demo_users = 2  # funded by the seed with 1000000 USDT each
    assert row["holders"] == str(2 + demo_users)
    assert row["holdings"] == str(2_000_000 + 180)
    every = org_a.read.ok("/statistics/token", {"granularity": "day", "start_time": int(time.time() * 1000)})
    assert sorted(r["token_id"] for r in every) == sorted(catalog.org("7002").tokens)


def test_symbol_statistics_count_orders_cancels_and_executions(org_a):
    org_a.asset.ok("/updateSettings", {"notify_place_order": "1", "notify_cancel_order": "1", "client_order_id": "n"})
    seller, buyer = new_user(org_a, "y1", funds={"BTC": "1"}), new_user(org_a, "y2", funds={"USDT": "100000"})
    org_a.asset.ok("/trade/spot/createOrder", {"uid": seller["uid"], "symbol_id": "BTCUSDT", "side": "sell",
                                               "quantity": "0.5", "price": "30000", "client_order_id": "s"})
    drain_matcher()
    org_a.asset.ok("/trade/spot/createOrder", {"uid": buyer["uid"], "symbol_id": "BTCUSDT", "side": "buy",
                                               "quantity": "0.2", "price": "30000", "client_order_id": "b"})
    drain_matcher()
    org_a.asset.ok("/trade/spot/cancelOrder", {"uid": seller["uid"], "client_order_id": "s"})
    drain_matcher()
    row = current(org_a.read.ok("/statistics/symbol", {"symbol_id": "BTCUSDT", "granularity": "minute"}))
    assert (row["order_count"], row["order_quantity"], row["cancel_count"], row["cancel_quantity"]) == \
        ("2", "0.7", "1", "0.3")
    assert (row["trade_count"], row["trade_quantity"], row["trade_amount"]) == ("2", "0.4", "12000")  # both sides


def test_events_are_counted_once_however_often_the_projector_runs(org_a):
    new_user(org_a, "once")
    statistics.catch_up("7002")
    statistics.catch_up("7002")
    rows = org_a.read.ok("/statistics/user", {"granularity": "day"})
    assert current(rows)["register_count"] == "3"


def test_a_range_too_long_for_its_granularity_is_refused(org_a):
    now = int(time.time() * 1000)
    response = org_a.read.post("/statistics/user", {"granularity": "minute", "start_time": now - 13 * 3600_000,
                                                    "end_time": now})
    assert response.status_code == 400
    response = org_a.read.post("/statistics/user", {"granularity": "week"})
    assert response.status_code == 400
