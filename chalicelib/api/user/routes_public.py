"""Public basics (`/s_api/basic/...`, cacheable): tokens, symbols, banners, announcements,
server time; quote reads for the web (`/api/quote/v1/...`): depth, trades, klines,
tickers; and the local stack's notice outbox (`/dev/notices`, 404 elsewhere)."""
from __future__ import annotations

import time

from chalicelib import settings
from chalicelib.api.user import wire
from chalicelib.api.user.http import PUBLIC, Context, endpoint
from chalicelib.domain import money
from chalicelib.domain.errors import MissingParameter, RouteNotFound, UnknownSymbol
from chalicelib.gateways import notifier
from chalicelib.services import catalog, content, market_data


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


@endpoint("/s_api/basic/tokens", access=PUBLIC)
def tokens(ctx: Context):
    org = catalog.org(ctx.org_id)
    return [token_row(listing, org.org_id) for _, listing in sorted(org.tokens.items())]


@endpoint("/s_api/basic/symbols", access=PUBLIC)
def symbols(ctx: Context):
    org = catalog.org(ctx.org_id)
    return [symbol_row(listing) for _, listing in sorted(org.symbols.items())]


@endpoint(["/s_api/basic/config", "/s_api/basic/config_v2"], access=PUBLIC)
def config(ctx: Context):
    org = catalog.org(ctx.org_id)
    return {"orgId": org.org_id, "orgName": org.name, "exchangeId": org.exchange_id, "serverTime": _now(),
            "tokens": [token_row(listing, org.org_id) for _, listing in sorted(org.tokens.items())],
            "symbols": [symbol_row(listing) for _, listing in sorted(org.symbols.items())]}


@endpoint("/s_api/basic/banners", access=PUBLIC)
def banners(ctx: Context):
    return wire.camel(content.published(ctx.org_id, "banner", locale=ctx.text("locale"), limit=ctx.limit(20, 100)))


@endpoint("/s_api/basic/announcements", access=PUBLIC)
def announcements(ctx: Context):
    return wire.camel(content.published(ctx.org_id, "announcement", locale=ctx.text("locale"),
                                        limit=ctx.limit(20, 100)))


@endpoint(["/api/quote/v1/time", "/s_api/basic/time", "/api/time"], access=PUBLIC)
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


@endpoint("/api/quote/v1/depth", access=PUBLIC)
def depth(ctx: Context):
    symbol = _symbol(ctx)
    book = market_data.depth(symbol, ctx.limit(100, 500))
    return {"symbol": symbol, "time": _now(),
            "bids": [[money.text(level.price), money.text(level.qty)] for level in book.bids],
            "asks": [[money.text(level.price), money.text(level.qty)] for level in book.asks]}


@endpoint("/api/quote/v1/trades", access=PUBLIC)
def trades(ctx: Context):
    """Newest first: price, quantity, time and whether the taker bought."""
    rows = market_data.recent_trades(_symbol(ctx), ctx.limit(60, 1000))
    return [{"p": money.text(t.price), "q": money.text(t.qty), "t": t.time, "m": not t.buyer_is_maker}
            for t in reversed(rows)]


@endpoint(["/api/quote/v1/klines", "/api/quote/v1/history/klines"], access=PUBLIC)
def klines(ctx: Context):
    symbol = _symbol(ctx)
    bars = market_data.klines(symbol, ctx.text("interval") or "1m", start_ms=ctx.integer("from", low=0),
                              end_ms=ctx.integer("to", low=0), limit=ctx.limit(500, 1000))
    return [{"t": k.open_time, "s": symbol, "o": money.text(k.open), "h": money.text(k.high),
             "l": money.text(k.low), "c": money.text(k.close), "v": money.text(k.volume),
             "qv": money.text(k.quote_volume), "n": k.trade_count} for k in bars]


@endpoint(["/api/quote/v1/broker/tickers", "/api/quote/v1/ticker"], access=PUBLIC)
def tickers(ctx: Context):
    """24 h figures of every listed symbol (or of `symbol`)."""
    chosen = [_symbol(ctx)] if ctx.first("symbol", "symbol_id") else sorted(catalog.org(ctx.org_id).symbols)
    return [wire.camel(market_data.ticker(symbol)) for symbol in chosen]


# --- local stack only ------------------------------------------------------------------------

@endpoint("/dev/notices", access=PUBLIC)
def dev_notices(ctx: Context):
    """The notices the outbox notifier kept for this org (newest first; `to` filters by
    address or +number). 404 outside the local stages or without the outbox."""
    if not settings.is_local() or not notifier.uses_outbox():
        raise RouteNotFound()
    return notifier.read_outbox(ctx.org_id, ctx.text("to"), ctx.limit(50, 200))
