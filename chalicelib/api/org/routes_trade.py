"""3.4 Spot trading as a user of the org (through `services.orders`), and trade freezes."""
from __future__ import annotations

from chalicelib.api.org import shapes
from chalicelib.api.org.http import ASSET, OrgRequest, endpoint
from chalicelib.domain.errors import MissingParameter, OrderAlreadyCanceled
from chalicelib.domain.orders import OrderStatus
from chalicelib.services import org_users, orders


def _trader(request: OrgRequest, symbol: str = "") -> orders.Trader:
    holder = org_users.holder(request.org_id, request.uid())
    may_trade = org_users.may_trade(request.org_id, holder.uid, symbol) if symbol else True
    return orders.Trader(request.org_id, holder.uid, holder.account_id, may_trade=may_trade)


@endpoint(["/trade/frozenUser"], level=ASSET)
def org_trade_frozen(request: OrgRequest):
    frozen = request.flag("frozen")
    if frozen is None:
        raise MissingParameter("frozen")
    return org_users.set_trade_frozen(request.org_id, request.uid(), frozen=frozen, symbol=request.get("symbol_id"),
                                      operation_id=request.operation_id())


@endpoint(["/trade/spot/createOrder", "/order/create"], level=ASSET)
def org_trade_create_order(request: OrgRequest):
    symbol = request.require("symbol_id")
    view = orders.place_order(
        _trader(request, symbol), symbol=symbol, side=request.require("side"),
        order_type=request.text("type", default="LIMIT"), quantity=request.required_decimal("quantity"),
        price=request.decimal("price"), time_in_force=request.get("time_in_force"),
        client_order_id=request.operation_id(), source="org")
    return shapes.order(view)


@endpoint(["/trade/spot/cancelOrder", "/order/cancel"], level=ASSET)
def org_trade_cancel_order(request: OrgRequest):
    """Cancels by `order_id` or by the order's `client_order_id`; cancelling a cancelled
    order answers it again, so a retried cancel is safe."""
    trader = _trader(request)
    order_id, client_order_id = request.get("order_id"), request.get("client_order_id", "clientOrderId")
    if not order_id and not client_order_id:
        raise MissingParameter("order_id", "Either order_id or client_order_id is required")
    try:
        view = orders.cancel_order(trader, order_id=order_id, client_order_id=client_order_id)
    except OrderAlreadyCanceled:
        stored = orders.find_order(trader, order_id=order_id, client_order_id=client_order_id)
        if stored.order.status is not OrderStatus.CANCELED:
            raise
        view = orders.order_view(stored)
    return shapes.order(view)


@endpoint(["/trade/spot/getOpenOrderList", "/order/open_orders"])
def org_trade_open_orders(request: OrgRequest):
    found = orders.open_orders(_trader(request), symbol=request.get("symbol_id"), side=request.get("side"),
                               before_id=request.id_param("from_id"), limit=request.limit(20, 500))
    return shapes.listing(request.list_type(), found, lambda o: o["order_id"], shapes.order)


@endpoint(["/trade/spot/getHistoryOrderList", "/order/trade_orders"])
def org_trade_history_orders(request: OrgRequest):
    found = orders.history_orders(_trader(request), symbol=request.get("symbol_id"), side=request.get("side"),
                                  before_id=request.id_param("from_id"), start_ms=request.integer("start_time"),
                                  end_ms=request.integer("end_time"), limit=request.limit(20, 500))
    return shapes.listing(request.list_type(), found, lambda o: o["order_id"], shapes.order)


@endpoint(["/trade/spot/getTradeDetailList", "/order/my_trades"])
def org_trade_details(request: OrgRequest):
    trader = _trader(request)
    found = orders.my_trades(trader, symbol=request.get("symbol_id"), before_id=request.id_param("from_id"),
                             after_id=request.id_param("to_id"), start_ms=request.integer("start_time"),
                             end_ms=request.integer("end_time"), order_id=request.id_param("order_id"),
                             limit=request.limit(20, 500))
    visible = org_users.same_org_orders(request.org_id, [t["match_order_id"] for t in found])
    return shapes.listing(request.list_type(), found, lambda t: t["trade_id"],
                          lambda t: shapes.trade(t, trader.uid, visible))
