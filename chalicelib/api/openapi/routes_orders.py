"""Spot orders and trades: order, order/test, batchCancel, openOrders, historyOrders, myTrades."""
from __future__ import annotations

from typing import Optional

from pydantic import Field

from chalicelib.api.openapi import wire
from chalicelib.api.openapi.auth import Caller, Endpoint, signed
from chalicelib.api.openapi.http import ANY, Params, account_paths, endpoint, request
from chalicelib.api.openapi.params import (
    ClientId, DecimalText, Id, Limit, Millis, OrderType, Side, Signed, Symbol, TimeInForce,
)
from chalicelib.api.openapi.wire import BhexError
from chalicelib.api.operations import HMAC
from chalicelib.domain import filters
from chalicelib.domain.errors import TradingFrozen
from chalicelib.services import catalog, orders

ASSET_TYPES = ("cash",)


class NewOrder(Signed):
    """A new order; `newClientOrderId` makes a retry answer the first order."""

    symbol: Symbol
    side: Side
    type: OrderType
    quantity: DecimalText = Field(description="base quantity; a MARKET BUY's is the quote amount to spend")
    price: Optional[DecimalText] = None
    timeInForce: Optional[TimeInForce] = None
    newClientOrderId: Optional[ClientId] = None
    assetType: Optional[str] = Field(None, max_length=16, description="cash (the only one)")


class OrderRef(Signed):
    """One of the caller's orders, by id or by client order id."""

    orderId: Optional[Id] = None
    origClientOrderId: Optional[ClientId] = None


class CancelRef(OrderRef):
    clientOrderId: Optional[ClientId] = None


class BatchCancel(Signed):
    symbol: Optional[Symbol] = None
    side: Optional[Side] = None


class OrderPage(Signed):
    """Newest first; `orderId` pages to older orders."""

    symbol: Optional[Symbol] = None
    side: Optional[Side] = None
    orderId: Optional[Id] = None
    limit: Optional[Limit] = None


class HistoryPage(OrderPage):
    startTime: Optional[Millis] = None
    endTime: Optional[Millis] = None


class TradePage(Signed):
    """Newest first below `fromId`, or oldest first above `toId`."""

    symbol: Optional[Symbol] = None
    fromId: Optional[Id] = None
    toId: Optional[Id] = None
    orderId: Optional[Id] = None
    startTime: Optional[Millis] = None
    endTime: Optional[Millis] = None
    limit: Optional[Limit] = None
    withIsNormal: Optional[str] = Field(None, max_length=8, description="1: add isNormal to each trade")


def _order_terms(caller: Caller, params: Params) -> dict:
    """The new order's terms as the orders service takes them (BHEX names and defaults)."""
    symbol = params.require("symbol").upper()
    listing = catalog.org(caller.org_id).symbol(symbol)
    if listing.hide_from_openapi:
        raise BhexError(-1157, "The symbol is not open for API trading.")
    asset_type = params.get("assetType")
    if asset_type is not None and asset_type.lower() not in ASSET_TYPES:
        raise wire.invalid("assetType")
    side, order_type = params.require("side"), params.require("type")
    params.require("quantity")
    return {
        "symbol": symbol, "side": side.upper(), "order_type": order_type.upper(),
        "quantity": params.decimal("quantity"), "price": params.decimal("price"),
        "time_in_force": params.get("timeInForce"), "client_order_id": params.get("newClientOrderId"),
    }


@endpoint(account_paths("order"), verbs=("GET", "POST", "DELETE"), auth=HMAC,
          params={"POST": NewOrder, "GET": OrderRef, "DELETE": CancelRef},
          summary="Place (POST), query (GET) or cancel (DELETE) an order")
def order():
    method = request().method.upper()
    if method == "POST":
        return new_order()
    if method == "GET":
        return get_order()
    return cancel_order()


def new_order():
    caller = signed(request(), Endpoint(weight=1, orders=1, write=True))
    terms = _order_terms(caller, caller.params)
    view = orders.place_order(caller.trader, source="openapi", **terms)
    return wire.new_order(view)


@endpoint(account_paths("order/test"), verbs=("POST",), params=NewOrder, auth=HMAC,
          summary="Check a new order as placement would, placing nothing")
def test_order():
    """Validates a new order as placement would (without the balance), and places nothing.

    The checks mirror `orders.place_order`'s; they belong in an `orders.validate_order`
    service function (asked for), which this view should then call.
    """
    caller = signed(request(), Endpoint(weight=1, write=True))
    terms = _order_terms(caller, caller.params)
    listing = catalog.org(caller.org_id).symbol(terms["symbol"])
    if not caller.trader.may_trade or not listing.can_trade:
        raise TradingFrozen()
    request_terms = filters.validate_new_order(listing.rules, side=terms["side"], order_type=terms["order_type"],
                                               quantity=terms["quantity"], price=terms["price"],
                                               time_in_force=terms["time_in_force"])
    if not (listing.can_buy if request_terms.side.value == "BUY" else listing.can_sell):
        raise TradingFrozen(f"{request_terms.side.value} orders are not allowed on {terms['symbol']}")
    return {}


def get_order():
    caller = signed(request(), Endpoint(weight=1))
    order_id, client_id = caller.params.get("orderId"), caller.params.get("origClientOrderId")
    if order_id in (None, "0") and client_id in (None, "0"):
        raise BhexError(-1103, "An unknown parameter was sent.")
    stored = orders.find_order(caller.trader, order_id=order_id if order_id != "0" else None,
                               client_order_id=client_id if client_id != "0" else None)
    return wire.query_order(orders.order_view(stored))


def cancel_order():
    caller = signed(request(), Endpoint(weight=1, write=True))
    params = caller.params
    client_id = params.get("clientOrderId") or params.get("origClientOrderId")
    view = orders.cancel_order(caller.trader, order_id=params.get("orderId"), client_order_id=client_id)
    return wire.canceled_order(view)


@endpoint(account_paths("order/batchCancel"), verbs=("GET", "DELETE"), params=BatchCancel, auth=HMAC,
          summary="Cancel every open order, or those of a symbol and/or side")
def batch_cancel():
    caller = signed(request(), Endpoint(weight=5, write=True))
    symbol = caller.params.get("symbol")
    orders.cancel_all(caller.trader, symbol=symbol.upper() if symbol else None, side=caller.params.get("side"))
    return {"success": True}


def _limit(params: Params, default: int, maximum: int) -> int:
    limit = params.integer("limit", default)
    if limit is None or limit <= 0:
        return default
    return min(limit, maximum)


def _symbol_filter(params: Params):
    symbol = params.get("symbol")
    return symbol.upper() if symbol else None


@endpoint(account_paths("openOrders"), verbs=ANY, params=OrderPage, auth=HMAC, summary="Open orders")
def open_orders():
    caller = signed(request(), Endpoint(weight=1))
    params = caller.params
    views = orders.open_orders(caller.trader, symbol=_symbol_filter(params), side=params.get("side"),
                               before_id=params.integer("orderId"), limit=_limit(params, 500, 1000))
    return [wire.query_order(view) for view in views]


@endpoint(account_paths("historyOrders"), verbs=ANY, params=HistoryPage, auth=HMAC,
          summary="Ended orders (filled or canceled)")
def history_orders():
    caller = signed(request(), Endpoint(weight=5))
    params = caller.params
    views = orders.history_orders(caller.trader, symbol=_symbol_filter(params), side=params.get("side"),
                                  before_id=params.integer("orderId"), start_ms=params.integer("startTime"),
                                  end_ms=params.integer("endTime"), limit=_limit(params, 500, 1000))
    return [wire.query_order(view) for view in views]


@endpoint(account_paths("myTrades"), verbs=ANY, params=TradePage, auth=HMAC, summary="The caller's fills")
def my_trades():
    caller = signed(request(), Endpoint(weight=5))
    params = caller.params
    limit = params.integer("limit", 500)
    limit = 500 if limit is None or limit <= 0 or limit > 1000 else limit
    from_id, to_id = params.integer("fromId"), params.integer("toId")
    views = orders.my_trades(caller.trader, symbol=_symbol_filter(params), before_id=from_id, after_id=to_id,
                             start_ms=params.integer("startTime"), end_ms=params.integer("endTime"),
                             order_id=params.integer("orderId"), limit=limit)
    if to_id is not None and from_id is None:
        views = list(reversed(views))  # BHEX answers `toId` pages oldest first
    with_is_normal = params.text("withIsNormal") == "1"
    return [wire.my_trade(view, with_is_normal) for view in views]
