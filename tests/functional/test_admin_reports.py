"""Admin API reports: registrations, logins, KYC, deposits and withdrawals, volume and fees
per symbol, by day, hour or minute (counted once, by the statistics projector)."""
from __future__ import annotations

import time
from decimal import Decimal as D

from chalicelib.api.custody_callbacks import accept
from chalicelib.domain.custody import Holder
from chalicelib.gateways import custody
from chalicelib.services import deposits, users
from tests.functional.test_admin_finance import trade_once
from tests.functional.test_admin_support import (  # noqa: F401  (fixtures)
    ORG, OTHER_HOST, OTHER_ORG, admin_login, data, http, ledger_stays_conserved, make_admin, owner, seeded,
    staff,
)
from tests.functional.test_user_api_support import log_in, sign_up


def summed(rows, metric, **match) -> D:
    """A series' total (the test's events may straddle a bucket boundary)."""
    return sum((D(row[metric]) for row in rows if all(row.get(k) == v for k, v in match.items())), D(0))


def test_the_users_report_counts_registrations_and_logins_in_every_granularity(staff, http):
    sign_up(http, "fresh@x.test")
    log_in(http, "alice@demo.local")
    for granularity in ("day", "hour", "minute"):
        rows = data(staff["finance"].read("reports/users", {"granularity": granularity}))["list"]
        assert len(rows) == 30 and {"kyc_submit_count", "kyc_pass_count", "kyc_reject_count"} <= set(rows[-1])
        assert summed(rows, "register_count") == 3  # the seed's two demo users and this one
        assert summed(rows, "login_count") >= 1  # the sign-up logs in too


def test_the_tokens_report_counts_deposits_credited(owner):
    alice = users.find_by_login(ORG, "alice@demo.local")
    address = deposits.deposit_address(Holder(ORG, alice.uid, alice.main_account_id), "USDT", "ERC20")["address"]
    report = custody.simulator().deposit_report(chain="ERC20", token="USDT", address=address, address_tag=None,
                                                amount="30", confirmations=99, tx_hash="0xabc", output_index=0)
    accept(report.path, report.headers, report.body)
    rows = data(owner.read("reports/tokens", {"granularity": "hour", "token_id": "USDT"}))["list"]
    assert (summed(rows, "deposit_count"), summed(rows, "deposit_amount")) == (1, 30)
    assert {row["token_id"] for row in rows} == {"USDT"}


def test_the_symbols_report_shows_volume_and_the_fees_earned_per_symbol(owner):
    trade_once(price="100", qty="1")
    rows = data(owner.read("reports/symbols", {"granularity": "minute", "symbol_id": "BTCUSDT"}))["list"]
    assert summed(rows, "trade_count") == 2  # both sides are users of this org
    assert summed(rows, "trade_amount") == 200
    fees = {}
    for row in rows:
        for token, amount in row["fees"].items():
            fees[token] = fees.get(token, D(0)) + D(amount)
    assert fees == {"BTC": D("0.002"), "USDT": D("0.1")}
    every = data(owner.read("reports/symbols", {"granularity": "day", "start_time": int(time.time() * 1000)}))
    assert {row["symbol_id"] for row in every["list"]} == {"BTCUSDT", "ETHUSDT", "ETHBTC"}


def test_an_org_admin_never_sees_another_orgs_report_figures(owner, http):
    trade_once()
    make_admin(OTHER_ORG, "boss", ["owner"], "Other-admin-1")
    stranger = admin_login(http, "boss", "Other-admin-1", host=OTHER_HOST)
    assert summed(data(stranger.read("reports/users", {"granularity": "day"}))["list"], "register_count") == 0
    rows = data(stranger.read("reports/symbols", {"granularity": "day", "symbol_id": "BTCUSDT"}))["list"]
    assert summed(rows, "trade_count") == 0 and all(row["fees"] == {} for row in rows)


def test_report_windows_are_checked_and_need_reports_read(staff):
    finance = staff["finance"]
    assert finance.read("reports/users", {"granularity": "week"}).status == 400
    assert finance.read("reports/users", {"granularity": "minute", "start_time": 0}).status == 400
    later = int(time.time() * 1000)
    assert finance.read("reports/users", {"start_time": later, "end_time": later - 86_400_000}).status == 400
    assert staff["support"].read("reports/users").status == 403
    assert staff["reviewer"].read("reports/symbols").status == 403
    assert staff["operator"].read("reports/tokens").status == 200
