"""Public basics (`/s_api/basic/...`, cacheable): tokens, symbols, banners, announcements,
server time; quote reads for the web (`/api/quote/v1/...`): depth, trades, klines,
tickers; and the local stack's notice outbox (`/dev/notices`, 404 elsewhere).

Parameters are validated with one pydantic model per operation."""
from __future__ import annotations

import time
from typing import Annotated, Optional

from pydantic import Field

from chalicelib import settings
from chalicelib.api.user import wire
from chalicelib.api.user.http import PUBLIC, Context, endpoint
from chalicelib.api.user.params import Millis, NoParams, UserParams
from chalicelib.domain import money
from chalicelib.domain.errors import MissingParameter, UnknownSymbol
from chalicelib.domain.market_data import KlineInterval
from chalicelib.gateways import notifier
from chalicelib.services import catalog, content, market_data


# `BTCUSDT`, or the web's `<exchange id>.BTCUSDT`
QuoteSymbol = Annotated[str, Field(pattern=r"^([A-Za-z0-9_\-]{1,32}\.)?[A-Za-z0-9_\-]{1,32}$")]


class ContentParams(UserParams):
    locale: Optional[str] = Field(None, pattern=r"^[A-Za-z0-9_\-]{1,35}$",
                                  description="e.g. en or ko-KR; items without a locale are always shown")
    limit: int = Field(20, ge=1, le=100)


class SymbolParams(UserParams):
    symbol: Optional[QuoteSymbol] = Field(None, description="BTCUSDT or <exchange id>.BTCUSDT, any case")
    symbol_id: Optional[QuoteSymbol] = Field(None, description="another name for symbol")


class DepthParams(SymbolParams):
    limit: int = Field(100, ge=1, le=500, description="price levels per side")


class TradesParams(SymbolParams):
    limit: int = Field(60, ge=1, le=1000)


class KlineParams(SymbolParams):
    interval: KlineInterval = KlineInterval.MINUTE_1
    start: Optional[Millis] = Field(None, alias="from", description="first bar's open time (ms)")
    to: Optional[Millis] = Field(None, description="last bar's open time (ms); default now")
    limit: int = Field(500, ge=1, le=1000)


class NoticeParams(UserParams):
    to: Optional[str] = Field(None, max_length=256, description="an email address or +number")
    limit: int = Field(50, ge=1, le=200)


def _now() -> int:
    return int(time.time() * 1000)


def token_row(listing: catalog.TokenListing, org_id: str) -> dict:
    return {
        "orgId": org_id, "tokenId": listing.token_id, "tokenName": listing.name, "tokenFullName": listing.full_name,
        "iconUrl": listing.icon_url, "allowDeposit": listing.allow_deposit, "allowWithdraw": listing.allow_withdraw,
        "minDepositQuantity": money.text(listing.min_deposit), "withdrawFee": money.text(listing.withdraw_fee),
        "minWithdrawQuantity": money.text(listing.min_withdraw),
        "maxWithdrawQuantity": money.text(listing.max_withdraw_daily), "precision": money.text(listing.precision),
        "chainTypes": [dict(chain).get("chainType") for chain in listing.chains],
        "updatedAt": str(listing.updated_at),
    }


def symbol_row(listing: catalog.SymbolListing) -> dict:
    rules = listing.rules
    return {
        "orgId": listing.org_id, "exchangeId": listing.exchange_id, "symbolId": rules.symbol,
        "symbolName": rules.symbol, "baseTokenId": rules.base_asset, "baseTokenName": rules.base_asset,
        "quoteTokenId": rules.quote_asset, "quoteTokenName": rules.quote_asset,
        "basePrecision": money.text(rules.step_size), "quotePrecision": money.text(rules.market_quote_step),
        "minPricePrecision": money.text(rules.tick_size), "minTradeQuantity": money.text(rules.min_qty),
        "maxTradeQuantity": money.text(rules.max_qty), "minTradeAmount": money.text(rules.min_notional),
        "digitMerge": money.text(rules.tick_size), "canTrade": listing.can_trade and rules.trading,
        "canBuy": listing.can_buy, "canSell": listing.can_sell,
        "makerFeeRate": money.text(listing.fees.maker), "takerFeeRate": money.text(listing.fees.taker),
        "updatedAt": str(listing.updated_at),
    }


@endpoint("/s_api/basic/tokens", params=NoParams, access=PUBLIC, summary="The tokens this broker lists")
def tokens(ctx: Context):
    org = catalog.org(ctx.org_id)
    return [token_row(listing, org.org_id) for _, listing in sorted(org.tokens.items())]


@endpoint("/s_api/basic/symbols", params=NoParams, access=PUBLIC, summary="The symbols this broker lists")
def symbols(ctx: Context):
    org = catalog.org(ctx.org_id)
    return [symbol_row(listing) for _, listing in sorted(org.symbols.items())]


@endpoint(["/s_api/basic/config", "/s_api/basic/config_v2"], params=NoParams, access=PUBLIC,
          summary="The broker, its tokens and symbols, and the server time")
def config(ctx: Context):
    org = catalog.org(ctx.org_id)
    return {"orgId": org.org_id, "orgName": org.name, "exchangeId": org.exchange_id, "serverTime": _now(),
            "tokens": [token_row(listing, org.org_id) for _, listing in sorted(org.tokens.items())],
            "symbols": [symbol_row(listing) for _, listing in sorted(org.symbols.items())]}


@endpoint("/s_api/basic/banners", params=ContentParams, access=PUBLIC, summary="Published banners, best first")
def banners(ctx: Context):
    p: ContentParams = ctx.args
    return wire.camel(content.published(ctx.org_id, "banner", locale=p.locale, limit=p.limit))


@endpoint("/s_api/basic/announcements", params=ContentParams, access=PUBLIC,
          summary="Published announcements, best first")
def announcements(ctx: Context):
    p: ContentParams = ctx.args
    return wire.camel(content.published(ctx.org_id, "announcement", locale=p.locale, limit=p.limit))


@endpoint(["/api/quote/v1/time", "/s_api/basic/time", "/api/time"], params=NoParams, access=PUBLIC,
          summary="The server time (ms)")
def server_time(ctx: Context):
    return {"serverTime": _now()}


# --- quotes ------------------------------------------------------------------------------------

def _symbol(ctx: Context) -> str:
    """`symbol` as `BTCUSDT` or the web's `<exchange id>.BTCUSDT`, listed by this org."""
    value = ctx.first("symbol", "symbol_id")
    if not value:
        raise MissingParameter("symbol")
    symbol = value.split(".")[-1].upper()
    if symbol not in catalog.org(ctx.org_id).symbols:
        raise UnknownSymbol(symbol)
    return symbol


@endpoint("/api/quote/v1/depth", params=DepthParams, access=PUBLIC, summary="A symbol's order book")
def depth(ctx: Context):
    symbol = _symbol(ctx)
    book = market_data.depth(symbol, ctx.args.limit)
    return {"symbol": symbol, "time": _now(),
            "bids": [[money.text(level.price), money.text(level.qty)] for level in book.bids],
            "asks": [[money.text(level.price), money.text(level.qty)] for level in book.asks]}


@endpoint("/api/quote/v1/trades", params=TradesParams, access=PUBLIC, summary="A symbol's recent trades, newest first")
def trades(ctx: Context):
    """Newest first: price, quantity, time and whether the taker bought."""
    rows = market_data.recent_trades(_symbol(ctx), ctx.args.limit)
    return [{"p": money.text(t.price), "q": money.text(t.qty), "t": t.time, "m": not t.buyer_is_maker}
            for t in reversed(rows)]


@endpoint(["/api/quote/v1/klines", "/api/quote/v1/history/klines"], params=KlineParams, access=PUBLIC,
          summary="A symbol's candlesticks, oldest first")
def klines(ctx: Context):
    p: KlineParams = ctx.args
    symbol = _symbol(ctx)
    bars = market_data.klines(symbol, p.interval.value, start_ms=p.start, end_ms=p.to, limit=p.limit)
    return [{"t": k.open_time, "s": symbol, "o": money.text(k.open), "h": money.text(k.high),
             "l": money.text(k.low), "c": money.text(k.close), "v": money.text(k.volume),
             "qv": money.text(k.quote_volume), "n": k.trade_count} for k in bars]


@endpoint(["/api/quote/v1/broker/tickers", "/api/quote/v1/ticker"], params=SymbolParams, access=PUBLIC)
def tickers(ctx: Context):
    """24 h figures of every listed symbol (or of `symbol`)."""
    chosen = [_symbol(ctx)] if ctx.first("symbol", "symbol_id") else sorted(catalog.org(ctx.org_id).symbols)
    return [wire.camel(market_data.ticker(symbol)) for symbol in chosen]


# --- local stack only ------------------------------------------------------------------------

def _outbox_is_served() -> bool:
    return settings.is_local() and notifier.uses_outbox()


@endpoint("/dev/notices", params=NoticeParams, access=PUBLIC, available=_outbox_is_served,
          summary="Local stack only: the notices the outbox notifier kept for this org")
def dev_notices(ctx: Context):
    """The notices the outbox notifier kept for this org (newest first; `to` filters by
    address or +number). 404 outside the local stages or without the outbox."""
    p: NoticeParams = ctx.args
    return notifier.read_outbox(ctx.org_id, p.to, p.limit)
