"""Public endpoints: general and quote-server answers, their typing and their errors."""
from __future__ import annotations

import time

import pytest

from tests.functional.test_openapi_support import (  # noqa: F401  (fixtures)
    HOST, body, drain_matcher, http, seeded, user_client,
)


@pytest.fixture
def market(seeded, http):
    """A trade at 30000 (Bob takes) and a resting book around it."""
    alice, bob = (user_client(http, user) for user in seeded["users"])
    for side, qty, price in (("SELL", "1", "30000"), ("SELL", "2", "30100"), ("BUY", "1.5", "29900"),
                             ("BUY", "0.5", "29900.5")):
        alice.post("/openapi/v1/order", {"symbol": "BTCUSDT", "side": side, "type": "LIMIT", "quantity": qty,
                                         "price": price})
    drain_matcher()
    bob.post("/openapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.4",
                                   "price": "30000"})
    drain_matcher()
    return http


def get(http, path):
    response = http.get(path, headers=HOST)
    return response.status_code, body(response)


def test_ping_time_and_their_aliases(http, seeded):
    for path in ("/openapi/v1/ping", "/openapi/ping", "/ping", "/openapi/quote/v1/ping"):
        assert get(http, path) == (200, {})
    status, answer = get(http, "/openapi/v1/time")
    assert status == 200 and isinstance(answer["serverTime"], int)
    assert abs(answer["serverTime"] - time.time() * 1000) < 60_000
    assert get(http, "/time")[0] == get(http, "/openapi/time")[0] == 200


def test_broker_info_has_bhex_filters_typing_and_the_type_filter(http, seeded):
    status, info = get(http, "/openapi/v1/brokerInfo?type=&timestamp=1")
    assert status == 200
    assert info["timezone"] == "UTC" and isinstance(info["serverTime"], str) and info["brokerFilters"] == []
    assert info["options"] == [] and info["contracts"] == []
    btc = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
    assert btc["filters"] == [
        {"minPrice": "0.01", "maxPrice": "10000000", "tickSize": "0.01", "filterType": "PRICE_FILTER"},
        {"minQty": "0.000001", "maxQty": "1000", "stepSize": "0.000001", "filterType": "LOT_SIZE"},
        {"minNotional": "1", "filterType": "MIN_NOTIONAL"}]
    assert (btc["exchangeId"], btc["status"], btc["baseAsset"], btc["quoteAsset"]) == ("301", "TRADING", "BTC", "USDT")
    assert btc["baseAssetPrecision"] == "0.000001" and btc["quotePrecision"] == "0.01"
    assert btc["icebergAllowed"] is False and btc["isAggregate"] is False and btc["allowMargin"] is False
    usdt = next(t for t in info["tokens"] if t["tokenId"] == "USDT")
    assert usdt["orgId"] == "7002" and usdt["fee"] == "1" and usdt["minWithdrawQuantity"] == "10"
    assert {c["chainType"] for c in usdt["chainTypes"]} == {"ERC20", "TRC20"}
    assert usdt["allowDeposit"] is True

    status, tokens_only = get(http, "/openapi/brokerInfo?type=token")
    assert "symbols" in tokens_only and "options" not in tokens_only and "tokens" in tokens_only
    status, contracts = get(http, "/openapi/v1/brokerInfo?type=CONTRACTS")
    assert contracts["contracts"] == [] and "symbols" not in contracts
    status, bad = get(http, "/openapi/v1/brokerInfo?type=FUTURES")
    assert (status, bad["code"]) == (400, -1130)


def test_an_unknown_host_without_a_key_is_refused(http, seeded):
    response = http.get("/openapi/v1/brokerInfo", headers={"Host": "nobody.example"})
    assert (response.status_code, body(response)["code"]) == (400, -1001)
    keyed = http.get("/openapi/v1/brokerInfo", headers={"Host": "nobody.example",
                                                        "X-BH-APIKEY": seeded["users"][0]["api_key"]})
    assert keyed.status_code == 200 and body(keyed)["symbols"]


def test_pairs(http, seeded):
    status, pairs = get(http, "/openapi/v1/pairs")
    assert {"symbol": "ETHBTC", "quoteToken": "BTC", "baseToken": "ETH"} in pairs


def test_depth_and_merged_depth(market):
    status, depth = get(market, "/openapi/quote/v1/depth?symbol=BTCUSDT&limit=2")
    assert status == 200 and isinstance(depth["time"], int)
    assert depth["asks"] == [["30000", "0.6"], ["30100", "2"]]
    assert depth["bids"] == [["29900.5", "0.5"], ["29900", "1.5"]]
    status, merged = get(market, "/openapi/quote/v1/depth/merged?symbol=BTCUSDT&scale=0")
    assert merged["bids"] == [["29900", "2"]] and merged["asks"][0] == ["30000", "0.6"]
    status, one = get(market, "/openapi/quote/v1/depth?symbol=btcusdt&limit=1")
    assert one["asks"] == [["30000", "0.6"]]


def test_trades_klines_and_tickers(market):
    status, trades = get(market, "/openapi/quote/v1/trades?symbol=BTCUSDT")
    assert trades == [{"time": trades[0]["time"], "price": "30000", "qty": "0.4", "isBuyerMaker": True}]
    assert isinstance(trades[0]["time"], int)
    status, klines = get(market, "/openapi/quote/v1/klines?symbol=BTCUSDT&interval=1m")
    assert len(klines) == 1 and len(klines[0]) == 11
    bar = klines[0]
    assert isinstance(bar[0], int) and isinstance(bar[6], int) and isinstance(bar[8], int)
    assert bar[1:6] == ["30000", "30000", "30000", "30000", "0.4"] and bar[7] == "12000" and bar[8] == 1
    status, ticker = get(market, "/openapi/quote/v1/ticker/24hr?symbol=BTCUSDT")
    assert ticker["lastPrice"] == "30000" and ticker["volume"] == "0.4" and ticker["quoteVolume"] == "12000"
    assert ticker["bestBidPrice"] == "29900.5" and ticker["bestAskPrice"] == "30000"
    assert isinstance(ticker["time"], int)
    status, tickers = get(market, "/openapi/quote/v1/ticker/24hr")
    assert {t["symbol"] for t in tickers} == {"BTCUSDT", "ETHBTC", "ETHUSDT"}
    assert "bestBidPrice" not in tickers[0]
    status, price = get(market, "/openapi/quote/v1/ticker/price?symbol=BTCUSDT")
    assert price == {"symbol": "BTCUSDT", "price": "30000"}
    status, book = get(market, "/openapi/quote/v1/ticker/bookTicker?symbol=BTCUSDT")
    assert book == {"symbol": "BTCUSDT", "bidPrice": "29900.5", "bidQty": "0.5", "askPrice": "30000",
                    "askQty": "0.6", "time": book["time"]}
    status, books = get(market, "/openapi/quote/v1/ticker/bookTicker")
    assert len(books) == 3


QUOTE_ERRORS = [
    ("/openapi/quote/v1/depth", -100012),
    ("/openapi/quote/v1/depth?symbol=NOPE", -100011),
    ("/openapi/quote/v1/depth?symbol=BTCUSDT&limit=x", -100002),
    ("/openapi/quote/v1/klines?symbol=BTCUSDT&interval=7m", -10009),
    ("/openapi/quote/v1/klines?symbol=BTCUSDT", -100012),
    ("/openapi/quote/v1/trades?symbol=", -100012),
    ("/openapi/quote/v1/depth/merged?symbol=BTCUSDT&scale=40", -100002),
]


def test_quote_errors_use_the_quote_servers_codes(http, seeded):
    for path, code in QUOTE_ERRORS:
        status, answer = get(http, path)
        assert (status, answer["code"]) == (400, code), path


def test_unknown_paths_and_verbs_answer_bhex_json(http, seeded):
    for path in ("/openapi/v1/nothing", "/openapi/nothing", "/openapi/quote/v1/contract/depth",
                 "/openapi/account/v1/a/b"):
        response = http.get(path, headers=HOST)
        assert (response.status_code, body(response)["code"]) == (404, -1000), path
    response = http.post("/openapi/v1/time", headers=HOST)
    assert (response.status_code, body(response)) == (400, {"code": -1004, "msg": "Bad request"})
