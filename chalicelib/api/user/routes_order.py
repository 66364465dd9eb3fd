"""Trading routes: create, cancel, batch cancel, open and history orders, one order, its
fills (`match_info`) and the user's trades. The trader is always the session user's main
account; another account's order does not exist here.

Parameters are validated with one pydantic model per operation (field types from
`chalicelib.api.user.params`).
"""
from __future__ import annotations

from typing import Optional

from pydantic import Field

from chalicelib.api.user import wire
from chalicelib.api.user.http import READ, WRITE, Context, endpoint
from chalicelib.api.user.params import Amount, ClientOrderId, Cursor, Id, Millis, Side, Symbol, UserParams
from chalicelib.domain.errors import MissingParameter
from chalicelib.services import catalog, orders


class SymbolChoice(UserParams):
    symbol_id: Optional[Symbol] = Field(None, description="e.g. BTCUSDT, any case")
    symbol: Optional[Symbol] = Field(None, description="another name for symbol_id")


class CreateOrder(SymbolChoice):
    """A market buy's `quantity` is the quote amount to spend; `client_order_id` makes a
    retry answer the first order."""

    side: Side
    type: str = Field("LIMIT", max_length=16, description="LIMIT, MARKET or LIMIT_MAKER, any case")
    price: Optional[Amount] = Field(None, description="limit price (a market order's is ignored)")
    quantity: Amount
    time_in_force: Optional[str] = Field(None, max_length=16, description="GTC (default), IOC or FOK")
    client_order_id: Optional[ClientOrderId] = Field(None, description="the caller's id of the order")


class OrderRef(UserParams):
    """One of the user's orders: by `order_id`, or by the `client_order_id` it was placed with."""

    order_id: Optional[Id] = None
    client_order_id: Optional[ClientOrderId] = None


class BatchCancel(SymbolChoice):
    side: Optional[Side] = None


class OrderPage(SymbolChoice):
    side: Optional[Side] = None
    from_order_id: Optional[Cursor] = Field(None, description="orders older than this id")
    from_id: Optional[Cursor] = Field(None, description="another name for from_order_id")
    limit: int = Field(20, ge=1, le=500)


class OrderHistoryPage(OrderPage):
    start_time: Optional[Millis] = None
    end_time: Optional[Millis] = None


class TradePage(SymbolChoice):
    from_id: Optional[Cursor] = Field(None, description="trades older than this trade id")
    end_id: Optional[Id] = Field(None, description="trades newer than this trade id")
    start_time: Optional[Millis] = None
    end_time: Optional[Millis] = None
    limit: int = Field(20, ge=1, le=500)


def _symbol(ctx: Context, required: bool = False):
    value = ctx.first("symbol_id", "symbol")
    if value is None and required:
        raise MissingParameter("symbol_id")
    return value.upper() if value else None


def _org(ctx: Context) -> catalog.OrgView:
    return catalog.org(ctx.org_id)


@endpoint("/api/order/create", params=CreateOrder, access=WRITE, summary="Place an order")
def create_order(ctx: Context):
    p: CreateOrder = ctx.args
    view = orders.place_order(ctx.trader(), symbol=_symbol(ctx, required=True), side=p.side, order_type=p.type,
                              quantity=ctx.decimal("quantity"), price=ctx.decimal("price"),
                              time_in_force=p.time_in_force, client_order_id=p.client_order_id, source="user_api")
    return wire.order(view, _org(ctx))


@endpoint("/api/order/cancel", params=OrderRef, access=WRITE, summary="Cancel one open order")
def cancel_order(ctx: Context):
    view = orders.cancel_order(ctx.trader(), order_id=ctx.text("order_id"), client_order_id=ctx.text("client_order_id"))
    return wire.order(view, _org(ctx))


@endpoint("/api/order/batch_cancel", params=BatchCancel, access=WRITE,
          summary="Cancel every open order, or those of a symbol and/or side")
def batch_cancel(ctx: Context):
    canceled = orders.cancel_all(ctx.trader(), symbol=_symbol(ctx), side=ctx.text("side"))
    return {"success": True, "canceled": [view["order_id"] for view in canceled]}


@endpoint("/api/order/get", params=OrderRef, access=READ, summary="One of the user's orders")
def get_order(ctx: Context):
    stored = orders.find_order(ctx.trader(), order_id=ctx.text("order_id"), client_order_id=ctx.text("client_order_id"))
    return wire.order(orders.order_view(stored), _org(ctx))


@endpoint("/api/order/open_orders", params=OrderPage, access=READ, summary="The user's open orders, newest first")
def open_orders(ctx: Context):
    p: OrderPage = ctx.args
    rows = orders.open_orders(ctx.trader(), symbol=_symbol(ctx), side=p.side, before_id=p.from_order_id or p.from_id,
                              limit=p.limit)
    org = _org(ctx)
    return [wire.order(view, org) for view in rows]


@endpoint("/api/order/trade_orders", params=OrderHistoryPage, access=READ,
          summary="The user's final orders (filled, canceled, rejected), newest first")
def history_orders(ctx: Context):
    p: OrderHistoryPage = ctx.args
    rows = orders.history_orders(ctx.trader(), symbol=_symbol(ctx), side=p.side, before_id=p.from_order_id or p.from_id,
                                 start_ms=p.start_time, end_ms=p.end_time, limit=p.limit)
    org = _org(ctx)
    return [wire.order(view, org) for view in rows]


@endpoint("/api/order/match_info", params=OrderRef, access=READ)
def match_info(ctx: Context):
    """One order's fills, oldest first."""
    trader = ctx.trader()
    stored = orders.find_order(trader, order_id=ctx.text("order_id"), client_order_id=ctx.text("client_order_id"))
    fills = orders.my_trades(trader, symbol=stored.order.symbol, order_id=stored.order.order_id, limit=1000)
    return [wire.trade(view) for view in sorted(fills, key=lambda v: int(v["trade_id"]))]


@endpoint("/api/order/my_trades", params=TradePage, access=READ, summary="The user's trades, newest first")
def my_trades(ctx: Context):
    p: TradePage = ctx.args
    rows = orders.my_trades(ctx.trader(), symbol=_symbol(ctx), before_id=p.from_id, after_id=p.end_id,
                            start_ms=p.start_time, end_ms=p.end_time, limit=p.limit)
    return [wire.trade(view) for view in rows]
