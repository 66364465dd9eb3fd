"""Market data (BHEX quote server, `/openapi/quote/v1/...`): public, quote-server typing.

The quote server has its own error codes (`-100011` unknown symbol, `-10009` bad
interval, `-100012` missing parameter, `-100002` bad parameter type), all HTTP 400.
Each endpoint's model checks its parameters first (`request_params`, which words model
errors the quote server's way); the view then answers unknown symbols and intervals.
"""
from __future__ import annotations

import time
from typing import Optional

from pydantic import Field

from chalicelib.api.openapi import wire
from chalicelib.api.openapi.auth import public_org
from chalicelib.api.openapi.http import BhexParams, endpoint, request, request_params
from chalicelib.api.openapi.params import Limit, Millis, Symbol
from chalicelib.api.openapi.wire import BhexError
from chalicelib.domain.errors import InvalidParameter
from chalicelib.services import catalog, market_data

QUOTE = "/openapi/quote/v1"


class DepthQuery(BhexParams):
    symbol: Symbol
    limit: Limit = Field(100, description="levels per side: default 100; 0 or less means the default")


class MergedDepthQuery(DepthQuery):
    scale: Optional[int] = Field(None, ge=0, le=18, description="decimal places prices are merged to")


class TradesQuery(BhexParams):
    symbol: Symbol
    limit: Limit = Field(500, description="how many of the newest trades: below 1 or above 1000 means 1000")


class KlinesQuery(BhexParams):
    symbol: Symbol
    # free text: a wrong interval is the quote server's -10009, not a parameter error
    interval: str = Field(min_length=1, max_length=16,
                          description="1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w or 1M")
    startTime: Optional[Millis] = None
    endTime: Optional[Millis] = None
    limit: Limit = Field(1000, description="the newest bars: default and at most 1000")


class TickerQuery(BhexParams):
    symbol: Optional[Symbol] = Field(None, description="one symbol; without it, every listed symbol")


def _org():
    return catalog.org(public_org(request()))


def _symbol(symbol: str, org) -> str:
    symbol = symbol.upper()
    listing = org.symbols.get(symbol)
    if listing is None or listing.hide_from_openapi:
        raise BhexError(-100011, f"Symbol {symbol} not supported.")
    return symbol


def _listed(org) -> list[str]:
    return sorted(symbol for symbol, listing in org.symbols.items() if not listing.hide_from_openapi)


@endpoint([f"{QUOTE}/depth"], params=DepthQuery, summary="The order book")
def depth():
    params = request_params()
    symbol = _symbol(params.require("symbol"), _org())
    limit = params.integer("limit")
    book = market_data.depth(symbol, limit if limit > 0 else 100)
    return {"time": int(time.time() * 1000), "bids": wire.levels(book.bids), "asks": wire.levels(book.asks)}


@endpoint([f"{QUOTE}/depth/merged"], params=MergedDepthQuery, summary="The order book, prices merged to a scale")
def merged_depth():
    params = request_params()
    symbol = _symbol(params.require("symbol"), _org())
    limit = params.integer("limit")
    book = market_data.depth(symbol, limit if limit > 0 else 100, params.integer("scale"))
    return {"time": int(time.time() * 1000), "bids": wire.levels(book.bids), "asks": wire.levels(book.asks)}


@endpoint([f"{QUOTE}/trades"], params=TradesQuery, summary="Recent trades, oldest first")
def trades():
    params = request_params()
    symbol = _symbol(params.require("symbol"), _org())
    limit = params.integer("limit")
    if limit < 1 or limit > 1000:
        limit = 1000
    return [wire.public_trade(trade) for trade in market_data.recent_trades(symbol, limit)]


@endpoint([f"{QUOTE}/klines"], params=KlinesQuery, summary="Candlesticks, oldest first")
def klines():
    params = request_params()
    symbol = _symbol(params.require("symbol"), _org())
    limit = params.integer("limit")
    try:
        bars = market_data.klines(symbol, params.require("interval"), start_ms=params.integer("startTime"),
                                  end_ms=params.integer("endTime"), limit=limit if limit > 0 else 1000)
    except InvalidParameter:
        raise BhexError(-10009, "Invalid period!") from None
    return [wire.kline_row(bar) for bar in bars]


@endpoint([f"{QUOTE}/ticker/24hr"], params=TickerQuery, summary="24-hour figures of one symbol or of all")
def ticker_24h():
    params = request_params()
    org = _org()
    if params.get("symbol") is not None:
        return wire.ticker_24h(market_data.ticker(_symbol(params.get("symbol"), org)))
    return [wire.ticker_24h(market_data.ticker(symbol), with_best=False) for symbol in _listed(org)]


@endpoint([f"{QUOTE}/ticker/price"], params=TickerQuery, summary="The last price of one symbol or of all")
def ticker_price():
    params = request_params()
    org = _org()
    if params.get("symbol") is not None:
        return wire.ticker_price(market_data.ticker(_symbol(params.get("symbol"), org)))
    return [wire.ticker_price(market_data.ticker(symbol)) for symbol in _listed(org)]


@endpoint([f"{QUOTE}/ticker/bookTicker"], params=TickerQuery, summary="The best bid and ask of one symbol or of all")
def book_ticker():
    params = request_params()
    org = _org()
    if params.get("symbol") is not None:
        return wire.book_ticker(market_data.ticker(_symbol(params.get("symbol"), org)))
    return [wire.book_ticker(market_data.ticker(symbol)) for symbol in _listed(org)]
