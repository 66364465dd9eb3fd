"""Market data (BHEX quote server, `/openapi/quote/v1/...`): public, quote-server typing.

The quote server has its own error codes (`-100011` unknown symbol, `-10009` bad
interval, `-100012` missing parameter, `-100002` bad parameter type), all HTTP 400.
"""
from __future__ import annotations

import time
from typing import Optional

from chalicelib.api.openapi import wire
from chalicelib.api.openapi.auth import public_org
from chalicelib.api.openapi.http import Params, endpoint, parse_params, request
from chalicelib.api.openapi.wire import BhexError
from chalicelib.domain.errors import InvalidParameter
from chalicelib.services import catalog, market_data

QUOTE = "/openapi/quote/v1"


def _org():
    return catalog.org(public_org(request()))


def _symbol(params: Params, org) -> str:
    symbol = params.get("symbol")
    if symbol is None:
        raise BhexError(-100012, "Parameter symbol [null] missing!")
    symbol = symbol.upper()
    listing = org.symbols.get(symbol)
    if listing is None or listing.hide_from_openapi:
        raise BhexError(-100011, f"Symbol {symbol} not supported.")
    return symbol


def _int(params: Params, name: str, default: Optional[int]) -> Optional[int]:
    value = params.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise BhexError(-100002, f"Param {name} should be int.") from None


def _listed(org) -> list[str]:
    return sorted(symbol for symbol, listing in org.symbols.items() if not listing.hide_from_openapi)


@endpoint([f"{QUOTE}/depth"])
def depth():
    params = parse_params(request())
    symbol = _symbol(params, _org())
    limit = _int(params, "limit", 100)
    book = market_data.depth(symbol, limit if limit and limit > 0 else 100)
    return {"time": int(time.time() * 1000), "bids": wire.levels(book.bids), "asks": wire.levels(book.asks)}


@endpoint([f"{QUOTE}/depth/merged"])
def merged_depth():
    params = parse_params(request())
    symbol = _symbol(params, _org())
    limit = _int(params, "limit", 100)
    scale = _int(params, "scale", None)
    if scale is not None and not 0 <= scale <= 18:
        raise BhexError(-100002, "Param scale should be between 0 and 18.")
    book = market_data.depth(symbol, limit if limit and limit > 0 else 100, scale)
    return {"time": int(time.time() * 1000), "bids": wire.levels(book.bids), "asks": wire.levels(book.asks)}


@endpoint([f"{QUOTE}/trades"])
def trades():
    params = parse_params(request())
    symbol = _symbol(params, _org())
    limit = _int(params, "limit", 500)
    if limit is None or limit < 1 or limit > 1000:
        limit = 1000
    return [wire.public_trade(trade) for trade in market_data.recent_trades(symbol, limit)]


@endpoint([f"{QUOTE}/klines"])
def klines():
    params = parse_params(request())
    symbol = _symbol(params, _org())
    interval = params.get("interval")
    if interval is None:
        raise BhexError(-100012, "Parameter interval [null] missing!")
    limit = _int(params, "limit", 1000)
    start, end = _int(params, "startTime", None), _int(params, "endTime", None)
    try:
        bars = market_data.klines(symbol, interval, start_ms=start, end_ms=end,
                                  limit=limit if limit and limit > 0 else 1000)
    except InvalidParameter:
        raise BhexError(-10009, "Invalid period!") from None
    return [wire.kline_row(bar) for bar in bars]


@endpoint([f"{QUOTE}/ticker/24hr"])
def ticker_24h():
    params = parse_params(request())
    org = _org()
    if params.get("symbol") is not None:
        return wire.ticker_24h(market_data.ticker(_symbol(params, org)))
    return [wire.ticker_24h(market_data.ticker(symbol), with_best=False) for symbol in _listed(org)]


@endpoint([f"{QUOTE}/ticker/price"])
def ticker_price():
    params = parse_params(request())
    org = _org()
    if params.get("symbol") is not None:
        return wire.ticker_price(market_data.ticker(_symbol(params, org)))
    return [wire.ticker_price(market_data.ticker(symbol)) for symbol in _listed(org)]


@endpoint([f"{QUOTE}/ticker/bookTicker"])
def book_ticker():
    params = parse_params(request())
    org = _org()
    if params.get("symbol") is not None:
        return wire.book_ticker(market_data.ticker(_symbol(params, org)))
    return [wire.book_ticker(market_data.ticker(symbol)) for symbol in _listed(org)]
