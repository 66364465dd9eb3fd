"""Listing through the Admin API: terms, halting and delisting with open orders."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from chalicelib.domain.errors import TradingFrozen, UnknownSymbol
from chalicelib.services import catalog, ledger, orders
from chalicelib.store import orders as order_store
from tests.functional.test_admin_support import (  # noqa: F401  (fixtures)
    ORG, OTHER_ORG, audit_rows, clock, http, owner, seeded,
)
from tests.support.trading import funded_trader, run_matcher


def trader(seeded, index: int) -> orders.Trader:
    user = seeded["users"][index]
    return orders.Trader(ORG, user["uid"], user["account_id"])


def place(who: orders.Trader, side: str, price: str, qty: str = "0.5") -> dict:
    return orders.place_order(who, symbol="BTCUSDT", side=side, order_type="LIMIT", quantity=D(qty), price=D(price),
                              time_in_force="GTC")


def locked(account_id: str) -> dict:
    return {b.token: b.locked for b in ledger.balances(account_id) if b.locked}


def test_delisting_a_symbol_with_open_orders_leaves_no_locked_funds_behind(seeded, owner):
    alice, bob = trader(seeded, 0), trader(seeded, 1)
    stranger = funded_trader(OTHER_ORG, "9001")
    place(alice, "BUY", "20000"), place(alice, "BUY", "19000"), place(bob, "SELL", "30000")
    foreign = place(stranger, "SELL", "31000")
    run_matcher()
    pending = place(bob, "SELL", "32000")  # the matcher has not seen this one yet
    assert locked(alice.account_id) and locked(bob.account_id)
    answer = owner.call("listing/symbol_delist", {"symbol": "BTCUSDT"})
    assert answer.status == 200, answer
    assert len(answer.json["data"]["canceled_orders"]) == 4 and pending["order_id"] in answer.json["data"][
        "canceled_orders"]
    run_matcher()
    assert locked(alice.account_id) == {} and locked(bob.account_id) == {}
    assert [s.order.order_id for s in order_store.resting_on("BTCUSDT")] == [int(foreign["order_id"])]
    assert ledger.reconcile().ok
    with pytest.raises(UnknownSymbol):
        place(alice, "BUY", "20000")
    rows = audit_rows(action="listing/symbol_delist")
    assert len(rows) == 1 and rows[0]["before"]["listed"] is True and rows[0]["after"]["listed"] is False


def test_a_halted_symbol_refuses_new_orders_but_keeps_open_ones_cancellable(seeded, owner):
    alice = trader(seeded, 0)
    resting = place(alice, "BUY", "20000")
    run_matcher()
    assert owner.call("listing/symbol_halt", {"symbol": "BTCUSDT"}).status == 200
    catalog.invalidate()
    with pytest.raises(TradingFrozen):
        place(alice, "BUY", "20000")
    assert order_store.get(int(resting["order_id"])).order.is_open
    canceled = owner.call("orders/cancel", {"order_id": resting["order_id"]})
    assert canceled.json["data"]["status"] == "CANCELED"
    run_matcher()
    assert locked(alice.account_id) == {}
    assert owner.call("listing/symbol_resume", {"symbol": "BTCUSDT"}).status == 200
    catalog.invalidate()
    assert place(alice, "BUY", "20000")["status"] == "NEW"


def test_symbol_terms_may_only_tighten_the_exchanges_filters(seeded, owner):
    coarse = owner.call("listing/symbol_update", {"symbol": "BTCUSDT", "tick_size": "0.1", "min_price": "0.1", "min_notional": "10",
                                                  "maker_fee": "0.0005", "hide_from_openapi": "true"})
    assert coarse.status == 200, coarse
    assert coarse.json["data"]["filters"]["tick_size"] == "0.1" and coarse.json["data"]["hide_from_openapi"]
    catalog.invalidate()
    listing = catalog.org(ORG).symbol("BTCUSDT")
    assert listing.rules.tick_size == D("0.1") and listing.fees.maker == D("0.0005")
    finer = owner.call("listing/symbol_update", {"symbol": "BTCUSDT", "tick_size": "0.015"})
    assert finer.status == 400 and "tick_size" in finer.json["msg"]
    off_grid = owner.call("listing/symbol_update", {"symbol": "BTCUSDT", "min_price": "0.15"})
    assert off_grid.status == 400
    below = owner.call("listing/symbol_update", {"symbol": "BTCUSDT", "min_qty": "0.0000001"})
    assert below.status == 400


def test_token_terms_change_and_a_token_in_use_cannot_be_delisted(seeded, owner):
    updated = owner.call("listing/token_update", {"token_id": "USDT", "full_name": "Tether", "withdraw_fee": "2",
                                                  "max_withdraw": "50000", "allow_deposit": "false"})
    assert updated.status == 200, updated
    catalog.invalidate()
    usdt = catalog.org(ORG).token("USDT")
    assert (usdt.full_name, usdt.withdraw_fee, usdt.max_withdraw, usdt.allow_deposit) == (
        "Tether", D(2), D(50000), False)
    assert owner.call("listing/token_delist", {"token_id": "USDT"}).status == 400
    listed = {t["token_id"]: t["listed"] for t in owner.read("listing/tokens").json["data"]["list"]}
    assert listed["USDT"] is True
