"""ccxt 1.56.1's `hbtc` exchange class, unchanged but for its URLs, against the local stack.

Install: `pip install --no-deps ccxt==1.56.1` plus requests, certifi, cryptography.
Only `exchange.urls['api']` is changed, to point the public, private and quote APIs at
the stack. ccxt signs with `timestamp` first (the bhex SDK puts it last), so this also
covers the other signature ordering end to end.
"""
from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal as D

import pytest

ccxt = pytest.importorskip("ccxt", reason="needs ccxt==1.56.1 (pip install --no-deps ccxt==1.56.1)")
if not hasattr(ccxt, "hbtc"):
    pytest.skip("this ccxt has no hbtc class (it shipped up to 1.56.1)", allow_module_level=True)

from chalicelib.gateways import custody  # noqa: E402
from tests.e2e.test_bhex_sdk import openapi_stack_for, wait_for  # noqa: E402

MARKET = "BTC/USDT"


@pytest.fixture(scope="module")
def openapi_stack(request):
    with openapi_stack_for(request) as running:
        yield running


def exchange_for(stack, user: dict):
    exchange = ccxt.hbtc({"apiKey": user["api_key"], "secret": user["api_secret"], "enableRateLimit": False,
                          "timeout": 15000})
    base = stack.rest_url + "/openapi"
    exchange.urls["api"] = {**exchange.urls["api"], "public": base, "private": base, "quote": base + "/quote",
                            "contract": base + "/contract", "option": base + "/option"}
    return exchange


@pytest.fixture(scope="module")
def exchanges(openapi_stack):
    alice, bob = openapi_stack.info["users"]
    return exchange_for(openapi_stack, alice), exchange_for(openapi_stack, bob)


def holdings(exchange, code: str) -> tuple[D, D]:
    balance = exchange.fetch_balance()
    entry = balance.get(code) or {"free": 0, "used": 0}
    return D(str(entry["free"] or 0)), D(str(entry["used"] or 0))


def deposit(stack, exchange, amount: str) -> bool:
    """A credited USDT deposit: custody's signed report posted to the stack's callback route.

    False when the app does not serve the custody callbacks (their blueprint not registered)."""
    import requests

    address = exchange.request("depositAddress", "private", "GET", {"tokenId": "USDT", "chainType": "TRC20"})
    report = custody.simulator().deposit_report(chain="TRC20", token="USDT", address=address["address"],
                                                amount=amount, confirmations=address["requiredConfirmNum"])
    answer = requests.post(stack.rest_url + report.path, data=report.body, headers=report.headers, timeout=10)
    if answer.status_code in (403, 404):
        return False
    assert answer.status_code == 200, answer.text
    return True


def test_a_spot_session_through_ccxt_hbtc(openapi_stack, exchanges):
    alice, bob = exchanges
    run = uuid.uuid4().hex[:6]

    markets = alice.load_markets()
    btc = markets[MARKET]
    assert btc["id"] == "BTCUSDT" and btc["precision"]["price"] == 0.01 and btc["limits"]["amount"]["min"] == 1e-06
    bob.load_markets()

    alice_btc, alice_usdt = holdings(alice, "BTC"), holdings(alice, "USDT")
    bob_btc, bob_usdt = holdings(bob, "BTC"), holdings(bob, "USDT")

    # A resting limit sell, with a client order id that needs escaping.
    client_id = f"ccxt,/:@+ {run}"
    sell = alice.create_order(MARKET, "limit", "sell", 0.5, 41000, {"clientOrderId": client_id})
    assert sell["status"] == "open" and sell["clientOrderId"] == client_id and sell["amount"] == 0.5
    assert holdings(alice, "BTC") == (alice_btc[0] - D("0.5"), alice_btc[1] + D("0.5"))
    wait_for(lambda: alice.fetch_order_book(MARKET)["asks"][:1] == [[41000.0, 0.5]], what="the sell on the book")
    fetched = alice.fetch_order(sell["id"])
    assert fetched["status"] == "open" and fetched["price"] == 41000.0 and fetched["remaining"] == 0.5
    assert [o["id"] for o in alice.fetch_open_orders(MARKET)] == [sell["id"]]

    # Bob takes 0.1 with a limit buy and 0.05 with a market buy (ccxt turns amount * price into a quote amount).
    buy = bob.create_order(MARKET, "limit", "buy", 0.1, 41000)
    wait_for(lambda: bob.fetch_order(buy["id"])["status"] == "closed", what="Bob's limit buy")
    market_buy = bob.create_order(MARKET, "market", "buy", 0.05, 41000)
    wait_for(lambda: bob.fetch_order(market_buy["id"])["status"] == "closed", what="Bob's market buy")
    filled = bob.fetch_order(market_buy["id"])
    assert filled["filled"] == 0.05 and filled["cost"] == 2050.0 and filled["average"] == 41000.0
    assert holdings(bob, "BTC")[0] == bob_btc[0] + D("0.15") - D("0.0003")
    assert holdings(bob, "USDT") == (bob_usdt[0] - D("6150"), bob_usdt[1])
    assert holdings(alice, "USDT")[0] == alice_usdt[0] + D("6150") - D("6.15")

    # Public market data.
    ticker = alice.fetch_ticker(MARKET)
    assert ticker["last"] == 41000.0 and ticker["ask"] == 41000.0 and ticker["baseVolume"] >= 0.15
    tickers = alice.fetch_tickers()
    assert MARKET in tickers and "ETH/USDT" in tickers
    trades = alice.fetch_trades(MARKET)
    assert {(t["price"], t["amount"]) for t in trades} >= {(41000.0, 0.1), (41000.0, 0.05)}
    candles = alice.fetch_ohlcv(MARKET, "1m")
    assert candles and candles[-1][4] == 41000.0 and isinstance(candles[-1][0], int)

    # Private history.
    mine = bob.fetch_my_trades(MARKET)
    assert {t["order"] for t in mine} >= {buy["id"], market_buy["id"]}
    assert all(t["takerOrMaker"] == "taker" and t["side"] == "buy" for t in mine if t["order"] == buy["id"])
    canceled = alice.cancel_order(sell["id"])
    assert canceled["status"] == "canceled" and canceled["filled"] == 0.15
    assert holdings(alice, "BTC") == (alice_btc[0] - D("0.15"), alice_btc[1])
    assert alice.fetch_open_orders(MARKET) == []
    closed = alice.fetch_closed_orders(MARKET)
    assert sell["id"] in [o["id"] for o in closed]

    # Deposits, withdrawals and the ledger.
    credited = deposit(openapi_stack, alice, "123.45")
    if credited:
        deposits = wait_for(lambda: alice.fetch_deposits("USDT"), what="the deposit")
        assert deposits[0]["amount"] == 123.45 and deposits[0]["currency"] == "USDT"
        assert holdings(alice, "USDT")[0] == alice_usdt[0] + D("6150") - D("6.15") + D("123.45")
    else:
        assert isinstance(alice.fetch_deposits("USDT"), list)
    assert isinstance(alice.fetch_withdrawals("USDT"), list)
    # ccxt hard-codes endTime=1588450533040 (2020) in fetch_ledger; a real caller overrides it.
    ledger = alice.fetch_ledger("USDT", params={"endTime": int(time.time() * 1000) + 60_000})
    kinds = {entry["type"] for entry in ledger}
    assert {"trade", "fee", "transaction"} <= kinds  # the seed's deposit is a "transaction" too
    assert all(entry["currency"] == "USDT" and entry["account"] for entry in ledger)
    if credited:
        newest = max(ledger, key=lambda entry: (entry["timestamp"], int(entry["id"])))
        assert newest["amount"] == 123.45 and newest["direction"] == "in"


def test_ccxt_maps_bhex_errors_to_its_exceptions(exchanges):
    alice, _ = exchanges
    alice.load_markets()
    with pytest.raises(ccxt.OrderNotFound):
        alice.fetch_order("123456789")
    with pytest.raises(ccxt.InsufficientFunds):
        alice.create_order(MARKET, "limit", "buy", 999, 41000)
    with pytest.raises(ccxt.InvalidOrder):
        alice.create_order(MARKET, "limit", "buy", 0.00001, 41000)  # under the minimum notional
    broken = ccxt.hbtc({"apiKey": alice.apiKey, "secret": "x" * 64, "enableRateLimit": False})
    broken.urls["api"] = alice.urls["api"]
    with pytest.raises(ccxt.AuthenticationError):
        broken.fetch_balance()
    assert json.loads(json.dumps(alice.fetch_time())) > 0
