"""What an org lists from its exchange, and on which terms (the Admin API's listing actions).

Effects on open orders:
* halting a symbol (`can_trade` off) refuses new orders; open orders stay on the book and
  can still be cancelled;
* delisting a symbol halts it, then cancels every open order of this org on it through the
  normal cancel path (`orders` service: the funds are unlocked in the cancel's own
  transaction and the matcher takes the order off the book), then hides the listing. Orders
  of other orgs in the shared book are untouched. A delisted symbol can be listed again.
* delisting a token hides it (no deposits, withdrawals or new listings of its symbols); it is
  refused while a listed symbol of the org still trades it, so no order is left behind.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Optional

from chalicelib.domain import money
from chalicelib.domain.errors import (
    InvalidParameter, NotFound, OrderAlreadyCanceled, OrderAlreadyFilled, UnknownSymbol, UnknownToken,
)
from chalicelib.services import catalog, orders
from chalicelib.store import catalog as store
from chalicelib.store import orders as order_store

ZERO = Decimal(0)
TOKEN_FIELDS = ("name", "full_name", "icon_url", "allow_deposit", "allow_withdraw", "min_deposit", "withdraw_fee",
                "min_withdraw", "max_withdraw", "max_withdraw_daily")
SYMBOL_FLAGS = ("can_trade", "can_buy", "can_sell", "hide_from_openapi")
SYMBOL_FEES = ("maker_fee", "taker_fee")


def _text(value: Any) -> Any:
    return money.text(value) if isinstance(value, Decimal) else value


def _exchange_id(org_id: str) -> str:
    record = store.org(org_id)
    if record is None:
        raise NotFound("Org does not exist")
    return record.exchange_id


def token_view(exchange: store.ExchangeTokenRecord, listing: Optional[store.OrgTokenRecord]) -> dict:
    view = {"token_id": exchange.token_id, "exchange_name": exchange.name, "exchange_full_name": exchange.full_name,
            "precision": money.text(exchange.precision), "listed": bool(listing and listing.listed)}
    if listing is not None:
        view.update({name: _text(getattr(listing, name)) for name in TOKEN_FIELDS})
        view.update(name=listing.name or exchange.name, full_name=listing.full_name or exchange.full_name,
                    icon_url=listing.icon_url or exchange.icon_url, updated_at=listing.updated_at)
    return view


def symbol_view(exchange: store.ExchangeSymbolRecord, listing: Optional[store.OrgSymbolRecord]) -> dict:
    view = {"symbol": exchange.symbol, "base": exchange.base, "quote": exchange.quote,
            "exchange_filters": {name: money.text(getattr(exchange, name)) for name in catalog.ORG_RULE_FIELDS},
            "listed": bool(listing and listing.listed)}
    if listing is not None:
        view.update({name: getattr(listing, name) for name in SYMBOL_FLAGS})
        view.update({name: money.text(getattr(listing, name)) for name in SYMBOL_FEES})
        view["filters"] = {name: money.text(getattr(listing, name) if getattr(listing, name) is not None
                                            else getattr(exchange, name)) for name in catalog.ORG_RULE_FIELDS}
        view["updated_at"] = listing.updated_at
    return view


def tokens(org_id: str) -> list[dict]:
    listed = {t.token_id: t for t in store.org_tokens(org_id)}
    return [token_view(t, listed.get(t.token_id)) for t in store.exchange_tokens(_exchange_id(org_id))]


def symbols(org_id: str) -> list[dict]:
    listed = {s.symbol: s for s in store.org_symbols(org_id)}
    return [symbol_view(s, listed.get(s.symbol)) for s in store.exchange_symbols(_exchange_id(org_id))]


def _exchange_token(org_id: str, token_id: str) -> store.ExchangeTokenRecord:
    found = [t for t in store.exchange_tokens(_exchange_id(org_id)) if t.token_id == token_id]
    if not found:
        raise UnknownToken(token_id)
    return found[0]


def _exchange_symbol(org_id: str, symbol: str) -> store.ExchangeSymbolRecord:
    found = [s for s in store.exchange_symbols(_exchange_id(org_id)) if s.symbol == symbol]
    if not found:
        raise UnknownSymbol(symbol)
    return found[0]


def token(org_id: str, token_id: str) -> dict:
    return token_view(_exchange_token(org_id, token_id), store.org_token(org_id, token_id))


def symbol(org_id: str, name: str) -> dict:
    return symbol_view(_exchange_symbol(org_id, name), store.org_symbol(org_id, name))


# --- tokens -----------------------------------------------------------------------------------------

def _check_token_terms(record: store.OrgTokenRecord) -> None:
    for name in ("min_deposit", "withdraw_fee", "min_withdraw", "max_withdraw_daily"):
        if getattr(record, name) < ZERO:
            raise InvalidParameter(name, f"{name} cannot be negative")
    if record.max_withdraw is not None and record.max_withdraw < record.min_withdraw:
        raise InvalidParameter("max_withdraw", "max_withdraw is below min_withdraw")


def set_token(org_id: str, token_id: str, changes: dict, *, list_it: Optional[bool] = None) -> dict:
    """Lists a token (with defaults of zero) or changes its terms; answers the new view."""
    exchange = _exchange_token(org_id, token_id)
    record = store.org_token(org_id, token_id)
    if record is None:
        if not list_it:
            raise UnknownToken(token_id, f"{token_id} is not listed by this org; list it first")
        record = store.OrgTokenRecord(org_id=org_id, token_id=token_id, min_deposit=ZERO, withdraw_fee=ZERO,
                                      min_withdraw=ZERO, max_withdraw_daily=ZERO)
    for name, value in changes.items():
        if name not in TOKEN_FIELDS:
            raise InvalidParameter(name)
        setattr(record, name, value if value != "" else None)
    if list_it is not None:
        record.listed = list_it
    if list_it is False:
        trading = [s.symbol for s in store.org_symbols(org_id) if s.listed and token_id in _assets(org_id, s.symbol)]
        if trading:
            raise InvalidParameter("token_id", f"Delist {', '.join(sorted(trading))} first")
    _check_token_terms(record)
    store.put_org_token(record)
    catalog.invalidate()
    return token_view(exchange, record)


def _assets(org_id: str, name: str) -> tuple[str, str]:
    exchange = _exchange_symbol(org_id, name)
    return exchange.base, exchange.quote


# --- symbols ----------------------------------------------------------------------------------------

def _check_filters(exchange: store.ExchangeSymbolRecord, record: store.OrgSymbolRecord) -> None:
    for name in ("tick_size", "step_size"):
        value = getattr(record, name)
        if value is not None and (value <= ZERO or value % getattr(exchange, name) != ZERO):
            raise InvalidParameter(name, f"{name} must be a positive multiple of the exchange's "
                                         f"{money.text(getattr(exchange, name))} (one shared book)")
    for name in ("min_qty", "min_notional", "min_price"):
        value = getattr(record, name)
        if value is not None and value < getattr(exchange, name):
            raise InvalidParameter(name, f"{name} cannot be below the exchange's {money.text(getattr(exchange, name))}")
    for name in ("max_qty", "max_price"):
        value = getattr(record, name)
        if value is not None and value > getattr(exchange, name):
            raise InvalidParameter(name, f"{name} cannot be above the exchange's {money.text(getattr(exchange, name))}")
    low = record.min_price if record.min_price is not None else exchange.min_price
    high = record.max_price if record.max_price is not None else exchange.max_price
    if low > high:
        raise InvalidParameter("min_price", "min_price is above max_price")
    try:
        catalog.org_rules(catalog.rules_from(exchange, {}), record)
    except ValueError as problem:  # the filters' own consistency rules (grid, bands)
        raise InvalidParameter("filters", f"Filters are not consistent: {problem}") from None
    for name in SYMBOL_FEES:
        if not (Decimal("-0.01") <= getattr(record, name) <= Decimal("0.1")):
            raise InvalidParameter(name, f"{name} must lie between -0.01 and 0.1")


def set_symbol(org_id: str, name: str, changes: dict, *, list_it: Optional[bool] = None) -> dict:
    """Lists a symbol (its base and quote must be listed) or changes its terms."""
    exchange = _exchange_symbol(org_id, name)
    record = store.org_symbol(org_id, name)
    if record is None:
        if not list_it:
            raise UnknownSymbol(name, f"{name} is not listed by this org; list it first")
        record = store.OrgSymbolRecord(org_id=org_id, symbol=name, maker_fee=Decimal("0.001"),
                                       taker_fee=Decimal("0.001"))
    if list_it:
        for asset in (exchange.base, exchange.quote):
            listed = store.org_token(org_id, asset)
            if listed is None or not listed.listed:
                raise InvalidParameter("symbol", f"List the token {asset} first")
        record.listed = True
    for field, value in changes.items():
        if field not in SYMBOL_FLAGS + SYMBOL_FEES + catalog.ORG_RULE_FIELDS:
            raise InvalidParameter(field)
        setattr(record, field, value)
    _check_filters(exchange, record)
    store.put_org_symbol(record)
    catalog.invalidate()
    return symbol_view(exchange, record)


def open_orders_of_org(org_id: str, name: str) -> list[order_store.StoredOrder]:
    """Every open order of the org on the symbol: resting on the book, or not yet seen by the
    matcher (its placement work is still pending)."""
    found = {s.order.order_id: s for s in order_store.resting_on(name) if s.order.org_id == org_id}
    pending = [w.order_id for w in order_store.pending_work(name, order_store.now_ms() + 60_000)
               if w.kind == "place" and w.order_id not in found]
    for stored in order_store.get_many(pending).values():
        if stored.order.org_id == org_id and stored.order.is_open:
            found[stored.order.order_id] = stored
    return sorted(found.values(), key=lambda s: s.order.order_id)


def cancel_order(stored: order_store.StoredOrder) -> Optional[dict]:
    """Cancels as its owner would (same checks, unlock and matcher work); None if it ended first."""
    order = stored.order
    try:
        return orders.cancel_order(orders.Trader(order.org_id, order.user_id, order.account_id),
                                   order_id=str(order.order_id))
    except (OrderAlreadyFilled, OrderAlreadyCanceled):
        return None


def delist_symbol(org_id: str, name: str) -> dict:
    """Halt, cancel the org's open orders on it (normal cancel path), then hide it."""
    exchange = _exchange_symbol(org_id, name)
    record = store.org_symbol(org_id, name)
    if record is None:
        raise UnknownSymbol(name)
    record.can_trade = False
    store.put_org_symbol(record)
    catalog.invalidate()
    canceled = [view["order_id"] for view in map(cancel_order, open_orders_of_org(org_id, name)) if view]
    record.listed = False
    store.put_org_symbol(record)
    catalog.invalidate()
    return {**symbol_view(exchange, record), "canceled_orders": canceled}
