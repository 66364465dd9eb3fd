"""Trading routes: create, cancel, batch cancel, open and history orders, one order, its
fills (`match_info`) and the user's trades. The trader is always the session user's main
account; another account's order does not exist here."""
from __future__ import annotations

from chalicelib.api.user import wire
from chalicelib.api.user.http import READ, WRITE, Context, endpoint
from chalicelib.domain.errors import MissingParameter
from chalicelib.services import catalog, orders


def _symbol(ctx: Context, required: bool = False):
    value = ctx.first("symbol_id", "symbol")
    if value is None and required:
        raise MissingParameter("symbol_id")
    return value.upper() if value else None


def _org(ctx: Context) -> catalog.OrgView:
    return catalog.org(ctx.org_id)


@endpoint("/api/order/create", access=WRITE)
def create_order(ctx: Context):
    """`symbol_id`, `side` buy|sell, `type` limit|market|limit_maker, `price`, `quantity`
    (a market buy's quantity is the quote amount to spend), `time_in_force` GTC|IOC|FOK and
    `client_order_id` (a retry answers the first order)."""
    quantity = ctx.decimal("quantity")
    if quantity is None:
        raise MissingParameter("quantity")
    view = orders.place_order(ctx.trader(), symbol=_symbol(ctx, required=True), side=ctx.require("side"),
                              order_type=ctx.text("type") or "LIMIT", quantity=quantity, price=ctx.decimal("price"),
                              time_in_force=ctx.text("time_in_force"), client_order_id=ctx.text("client_order_id"),
                              source="user_api")
    return wire.order(view, _org(ctx))


@endpoint("/api/order/cancel", access=WRITE)
def cancel_order(ctx: Context):
    view = orders.cancel_order(ctx.trader(), order_id=ctx.text("order_id"), client_order_id=ctx.text("client_order_id"))
    return wire.order(view, _org(ctx))


@endpoint("/api/order/batch_cancel", access=WRITE)
def batch_cancel(ctx: Context):
    """Cancels every open order, or those of `symbol_id` and/or `side`."""
    canceled = orders.cancel_all(ctx.trader(), symbol=_symbol(ctx), side=ctx.text("side"))
    return {"success": True, "canceled": [view["order_id"] for view in canceled]}


@endpoint("/api/order/get", access=READ)
def get_order(ctx: Context):
    stored = orders.find_order(ctx.trader(), order_id=ctx.text("order_id"), client_order_id=ctx.text("client_order_id"))
    return wire.order(orders.order_view(stored), _org(ctx))


@endpoint("/api/order/open_orders", access=READ)
def open_orders(ctx: Context):
    rows = orders.open_orders(ctx.trader(), symbol=_symbol(ctx), side=ctx.text("side"),
                              before_id=ctx.integer("from_order_id", low=1) or ctx.integer("from_id", low=1),
                              limit=ctx.limit(20, 500))
    org = _org(ctx)
    return [wire.order(view, org) for view in rows]


@endpoint("/api/order/trade_orders", access=READ)
def history_orders(ctx: Context):
    rows = orders.history_orders(ctx.trader(), symbol=_symbol(ctx), side=ctx.text("side"),
                                 before_id=ctx.integer("from_order_id", low=1) or ctx.integer("from_id", low=1),
                                 start_ms=ctx.integer("start_time", low=0), end_ms=ctx.integer("end_time", low=0),
                                 limit=ctx.limit(20, 500))
    org = _org(ctx)
    return [wire.order(view, org) for view in rows]


@endpoint("/api/order/match_info", access=READ)
def match_info(ctx: Context):
    """One order's fills, oldest first."""
    trader = ctx.trader()
    stored = orders.find_order(trader, order_id=ctx.text("order_id"), client_order_id=ctx.text("client_order_id"))
    fills = orders.my_trades(trader, symbol=stored.order.symbol, order_id=stored.order.order_id, limit=1000)
    return [wire.trade(view) for view in sorted(fills, key=lambda v: int(v["trade_id"]))]


@endpoint("/api/order/my_trades", access=READ)
def my_trades(ctx: Context):
    rows = orders.my_trades(ctx.trader(), symbol=_symbol(ctx), before_id=ctx.integer("from_id", low=1),
                            after_id=ctx.integer("end_id", low=0), start_ms=ctx.integer("start_time", low=0),
                            end_ms=ctx.integer("end_time", low=0), limit=ctx.limit(20, 500))
    return [wire.trade(view) for view in rows]
