"""What an org lists and on which terms, cached briefly (listings change rarely)."""
from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Optional, TypeVar

from chalicelib.domain.errors import NotFound, UnknownSymbol, UnknownToken
from chalicelib.domain.fees import FeeRates, FeeSchedule
from chalicelib.domain.filters import SymbolRules
from chalicelib.store import catalog as store

CACHE_SECONDS = 5.0
T = TypeVar("T")


@dataclass(frozen=True)
class TokenListing:
    token_id: str
    name: str
    full_name: str
    precision: Decimal
    icon_url: str
    allow_deposit: bool
    allow_withdraw: bool
    min_deposit: Decimal
    withdraw_fee: Decimal
    min_withdraw: Decimal
    max_withdraw_daily: Decimal
    chains: tuple = ()
    updated_at: int = 0
    max_withdraw: Optional[Decimal] = None  # per withdrawal; None: no cap beyond the daily one


@dataclass(frozen=True)
class SymbolListing:
    org_id: str
    exchange_id: str
    rules: SymbolRules
    can_trade: bool
    can_buy: bool
    can_sell: bool
    hide_from_openapi: bool
    fees: FeeRates
    updated_at: int = 0

    @property
    def symbol(self) -> str:
        return self.rules.symbol


@dataclass(frozen=True)
class OrgView:
    org_id: str
    name: str
    exchange_id: str
    org_type: str
    domains: tuple[str, ...]
    settings: dict
    tokens: dict[str, TokenListing] = field(default_factory=dict)
    symbols: dict[str, SymbolListing] = field(default_factory=dict)
    updated_at: int = 0

    def token(self, token_id: str) -> TokenListing:
        listing = self.tokens.get(token_id)
        if listing is None:
            raise UnknownToken(token_id)
        return listing

    def symbol(self, symbol: str) -> SymbolListing:
        listing = self.symbols.get(symbol)
        if listing is None:
            raise UnknownSymbol(symbol)
        return listing


_cache: dict[tuple, tuple[float, object]] = {}
_lock = threading.Lock()


def _cached(key: tuple, load: Callable[[], T]) -> T:
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = load()
    with _lock:
        _cache[key] = (now, value)
    return value


def invalidate() -> None:
    with _lock:
        _cache.clear()


def rules_from(record: store.ExchangeSymbolRecord, tokens: dict[str, store.ExchangeTokenRecord]) -> SymbolRules:
    base, quote = tokens.get(record.base), tokens.get(record.quote)
    return SymbolRules(
        symbol=record.symbol, base_asset=record.base, quote_asset=record.quote,
        tick_size=record.tick_size, step_size=record.step_size, min_price=record.min_price,
        max_price=record.max_price, min_qty=record.min_qty, max_qty=record.max_qty,
        min_notional=record.min_notional, market_quote_step=record.market_quote_step,
        base_precision=base.precision if base else record.step_size,
        quote_precision=quote.precision if quote else record.tick_size,
        trading=record.trading,
    )


ORG_RULE_FIELDS = ("tick_size", "step_size", "min_qty", "max_qty", "min_notional", "min_price", "max_price")


def org_rules(exchange: SymbolRules, listing: store.OrgSymbolRecord) -> SymbolRules:
    """The exchange's filters tightened by the org's own (validated when they are set)."""
    changes = {name: getattr(listing, name, None) for name in ORG_RULE_FIELDS}
    changes = {name: value for name, value in changes.items() if value is not None}
    return dataclasses.replace(exchange, **changes) if changes else exchange


def _exchange(exchange_id: str) -> tuple[dict, dict]:
    def load():
        tokens = {t.token_id: t for t in store.exchange_tokens(exchange_id)}
        symbols = {s.symbol: s for s in store.exchange_symbols(exchange_id)}
        return tokens, symbols
    return _cached(("exchange", exchange_id), load)


def exchange_rules(exchange_id: str, symbol: str) -> SymbolRules:
    tokens, symbols = _exchange(exchange_id)
    record = symbols.get(symbol)
    if record is None:
        raise UnknownSymbol(symbol)
    return rules_from(record, tokens)


def exchange_symbols(exchange_id: str) -> list[SymbolRules]:
    tokens, symbols = _exchange(exchange_id)
    return [rules_from(record, tokens) for record in symbols.values()]


def org(org_id: str) -> OrgView:
    def load() -> OrgView:
        record = store.org(org_id)
        if record is None:
            raise NotFound(f"Org '{org_id}' does not exist")
        tokens, symbols = _exchange(record.exchange_id)
        token_listings = {}
        for listing in store.org_tokens(org_id):
            source = tokens.get(listing.token_id)
            if source is None or not listing.listed:
                continue
            token_listings[listing.token_id] = TokenListing(
                listing.token_id, listing.name or source.name, listing.full_name or source.full_name,
                source.precision, listing.icon_url or source.icon_url,
                listing.allow_deposit, listing.allow_withdraw, listing.min_deposit, listing.withdraw_fee,
                listing.min_withdraw, listing.max_withdraw_daily, tuple(
                    tuple(sorted(c.items())) for c in store.chains_of(source)),
                max(listing.updated_at, source.updated_at), listing.max_withdraw)
        symbol_listings = {}
        for listing in store.org_symbols(org_id):
            source = symbols.get(listing.symbol)
            if source is None or not listing.listed:
                continue
            symbol_listings[listing.symbol] = SymbolListing(
                org_id, record.exchange_id, org_rules(rules_from(source, tokens), listing), listing.can_trade, listing.can_buy,
                listing.can_sell, listing.hide_from_openapi, FeeRates(listing.maker_fee, listing.taker_fee),
                max(listing.updated_at, source.updated_at))
        return OrgView(org_id, record.name, record.exchange_id, record.org_type, tuple(record.domains),
                       store.settings_of(record), token_listings, symbol_listings, record.updated_at)
    return _cached(("org", org_id), load)


def org_for_host(host: str) -> Optional[str]:
    hostname = (host or "").split(":")[0].lower()
    return _cached(("host", hostname), lambda: store.org_for_domain(hostname))


def fee_schedule(exchange_id: str, symbol: str) -> FeeSchedule:
    def load() -> FeeSchedule:
        by_org = {(l.org_id, l.symbol): FeeRates(l.maker_fee, l.taker_fee)
                  for l in store.orgs_listing_symbol(symbol)}
        return FeeSchedule(FeeRates(Decimal("0.001"), Decimal("0.001")), by_org_symbol=by_org)
    return _cached(("fees", exchange_id, symbol), load)
