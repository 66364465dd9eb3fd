"""The market the fault harness trades in: two orgs, two symbols, registered and funded users.

Funding goes through the same path as production: a deposit address from custody, then
signed deposit reports through the callback check, so the opening balances are ledger
postings from the orgs' custody accounts like every later deposit.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal as D

from chalicelib.api.custody_callbacks import accept
from chalicelib.domain.custody import Holder
from chalicelib.gateways import custody as gateway
from chalicelib.services import catalog, deposits, matching, orders, users
from chalicelib.store import catalog as listings

EXCHANGE = "301"
ORGS = ("o1", "o2")
CHAIN = "ERC20"
REQUIRED_CONFIRMATIONS = 2
EXTERNAL_ADDRESS = "0x" + "ab" * 20
TOKENS = {"BTC": D("0.000001"), "ETH": D("0.00001"), "USDT": D("0.01")}
WITHDRAW_FEES = {"BTC": D("0.0001"), "ETH": D("0.001"), "USDT": D("1")}
# An amount above the first threshold needs one admin; above the second, two.
SETTINGS = {"withdraw_review_threshold": {"USDT": "500", "ETH": "2", "BTC": "0.1"},
            "withdraw_four_eyes_threshold": {"USDT": "5000", "ETH": "20", "BTC": "1"}}


@dataclass(frozen=True)
class Market:
    symbol: str
    base: str
    quote: str
    mid: D
    price_step: D
    qty_unit: D


MARKETS = (Market("BTCUSDT", "BTC", "USDT", D("30000"), D("5"), D("0.001")),
           Market("ETHUSDT", "ETH", "USDT", D("2000"), D("0.5"), D("0.01")))
OPENING = {"BTC": D("5"), "ETH": D("60"), "USDT": D("300000")}


@dataclass
class User:
    holder: Holder
    trader: orders.Trader
    addresses: dict[str, str] = field(default_factory=dict)


def list_markets() -> None:
    for token, precision in TOKENS.items():
        listings.put_exchange_token(listings.ExchangeTokenRecord(
            exchange_id=EXCHANGE, token_id=token, name=token, full_name=token, precision=precision,
            chains=json.dumps([{"chainType": CHAIN, "requiredConfirmNum": REQUIRED_CONFIRMATIONS}])))
    for market in MARKETS:
        listings.put_exchange_symbol(listings.ExchangeSymbolRecord(
            exchange_id=EXCHANGE, symbol=market.symbol, base=market.base, quote=market.quote,
            tick_size=D("0.01"), step_size=D("0.000001"), min_price=D("0.01"), max_price=D("10000000"),
            min_qty=D("0.000001"), max_qty=D("100000"), min_notional=D("1"), market_quote_step=D("0.01")))
    for org_id in ORGS:
        listings.put_org(listings.OrgRecord(org_id=org_id, name=org_id, exchange_id=EXCHANGE,
                                            domains=[f"{org_id}.local"], settings=json.dumps(SETTINGS)))
        for token in TOKENS:
            listings.put_org_token(listings.OrgTokenRecord(
                org_id=org_id, token_id=token, min_deposit=D(0), withdraw_fee=WITHDRAW_FEES[token],
                min_withdraw=D(0), max_withdraw_daily=D(0)))
        for market in MARKETS:
            listings.put_org_symbol(listings.OrgSymbolRecord(
                org_id=org_id, symbol=market.symbol, maker_fee=D("0.001"), taker_fee=D("0.002")))
    catalog.invalidate()
    matching.drop_cache()


def register(org_id: str, name: str) -> User:
    user = users.register_user(org_id, email=f"{name}@fault.example", operation_id=f"reg-{name}")
    holder = Holder(org_id, user.uid, user.main_account_id)
    addresses = {token: deposits.deposit_address(holder, token, CHAIN)["address"] for token in TOKENS}
    return User(holder, orders.Trader(org_id, user.uid, user.main_account_id), addresses)


def deposit_report(user: User, token: str, amount: D, confirmations: int, tx_hash: str):
    return gateway.simulator().deposit_report(chain=CHAIN, token=token, address=user.addresses[token],
                                              amount=str(amount), confirmations=confirmations, tx_hash=tx_hash)


def deliver(report) -> dict:
    """A signed custody callback through the same check the HTTP route applies."""
    return accept(report.path, report.headers, report.body)


def build(users_per_org: int = 3) -> list[User]:
    gateway.reset()
    list_markets()
    people = [register(org_id, f"{org_id}-u{index}") for org_id in ORGS for index in range(users_per_org)]
    for user in people:
        for token, amount in OPENING.items():
            deliver(deposit_report(user, token, amount, REQUIRED_CONFIRMATIONS, f"0xopen-{user.holder.uid}-{token}"))
    return people
