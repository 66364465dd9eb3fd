"""3.4 Spot trading as a user of the org (through `services.orders`), and trade freezes."""
from __future__ import annotations

from typing import Optional

from pydantic import Field, model_validator

from chalicelib.api.org import shapes
from chalicelib.api.org.http import ASSET, OrgRequest, endpoint
from chalicelib.api.org.params import (
    Amount, Flag, Id, OrgParams, TimeMs, Uid, Uplink, UserListing, missing, named, page_size,
)
from chalicelib.domain.errors import MissingParameter, OrderAlreadyCanceled
from chalicelib.domain.orders import OrderStatus
from chalicelib.services import org_users, orders


class TradeFreeze(Uplink):
    frozen: Flag
    uid: Uid = named("uid", "user_id")
    symbol_id: Optional[str] = Field(None, description="absent: every symbol")


class NewOrder(Uplink):
    """`client_order_id` is unique per user."""

    symbol_id: str
    uid: Uid = named("uid", "user_id")
    side: str = Field(description="BUY or SELL")
    type: Optional[str] = Field(None, description="LIMIT (default), MARKET or LIMIT_MAKER")
    quantity: Amount = Field(description="the base quantity; a market buy's quote amount")
    price: Optional[Amount] = None
    time_in_force: Optional[str] = Field(None, description="GTC, IOC or FOK")


class Cancel(OrgParams):
    """The order by `order_id` or by its `client_order_id`; a cancelled order answers again."""

    uid: Uid = named("uid", "user_id")
    order_id: Optional[str] = None
    client_order_id: Optional[str] = named("client_order_id", "clientOrderId", default=None)

    @model_validator(mode="after")
    def _one_order(self):
        if not self.order_id and not self.client_order_id:
            raise missing("order_id", "Either order_id or client_order_id is required")
        return self


class OpenOrders(UserListing):
    symbol_id: Optional[str] = None
    side: Optional[str] = Field(None, description="BUY or SELL")
    from_id: Optional[Id] = Field(None, description="only orders older than this id")
    limit: Optional[page_size(20, 500)] = None


class HistoryOrders(OpenOrders):
    start_time: Optional[TimeMs] = None
    end_time: Optional[TimeMs] = None


class Trades(UserListing):
    symbol_id: Optional[str] = None
    from_id: Optional[Id] = Field(None, description="only trades older than this id")
    to_id: Optional[Id] = Field(None, description="only trades newer than this id")
    start_time: Optional[TimeMs] = None
    end_time: Optional[TimeMs] = None
    order_id: Optional[Id] = Field(None, description="only this order's trades")
    limit: Optional[page_size(20, 500)] = None


def _trader(request: OrgRequest, symbol: str = "") -> orders.Trader:
    holder = org_users.holder(request.org_id, request.uid())
    may_trade = org_users.may_trade(request.org_id, holder.uid, symbol) if symbol else True
    return orders.Trader(request.org_id, holder.uid, holder.account_id, may_trade=may_trade)


@endpoint(["/trade/frozenUser"], level=ASSET, params=TradeFreeze, summary="Freeze or unfreeze a user's trading")
def org_trade_frozen(request: OrgRequest):
    frozen = request.flag("frozen")
    if frozen is None:
        raise MissingParameter("frozen")
    return org_users.set_trade_frozen(request.org_id, request.uid(), frozen=frozen, symbol=request.get("symbol_id"),
                                      operation_id=request.operation_id())


@endpoint(["/trade/spot/createOrder", "/order/create"], level=ASSET, params=NewOrder,
          summary="Place a spot order for a user")
def org_trade_create_order(request: OrgRequest):
    symbol = request.require("symbol_id")
    view = orders.place_order(
        _trader(request, symbol), symbol=symbol, side=request.require("side"),
        order_type=request.text("type", default="LIMIT"), quantity=request.required_decimal("quantity"),
        price=request.decimal("price"), time_in_force=request.get("time_in_force"),
        client_order_id=request.operation_id(), source="org")
    return shapes.order(view)


@endpoint(["/trade/spot/cancelOrder", "/order/cancel"], level=ASSET, params=Cancel,
          summary="Cancel a user's order")
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


@endpoint(["/trade/spot/getOpenOrderList", "/order/open_orders"], params=OpenOrders,
          summary="A user's open orders")
def org_trade_open_orders(request: OrgRequest):
    found = orders.open_orders(_trader(request), symbol=request.get("symbol_id"), side=request.get("side"),
                               before_id=request.id_param("from_id"), limit=request.limit(20, 500))
    return shapes.listing(request.list_type(), found, lambda o: o["order_id"], shapes.order)


@endpoint(["/trade/spot/getHistoryOrderList", "/order/trade_orders"], params=HistoryOrders,
          summary="A user's finished orders")
def org_trade_history_orders(request: OrgRequest):
    found = orders.history_orders(_trader(request), symbol=request.get("symbol_id"), side=request.get("side"),
                                  before_id=request.id_param("from_id"), start_ms=request.integer("start_time"),
                                  end_ms=request.integer("end_time"), limit=request.limit(20, 500))
    return shapes.listing(request.list_type(), found, lambda o: o["order_id"], shapes.order)


@endpoint(["/trade/spot/getTradeDetailList", "/order/my_trades"], params=Trades,
          summary="A user's trades")
def org_trade_details(request: OrgRequest):
    trader = _trader(request)
    found = orders.my_trades(trader, symbol=request.get("symbol_id"), before_id=request.id_param("from_id"),
                             after_id=request.id_param("to_id"), start_ms=request.integer("start_time"),
                             end_ms=request.integer("end_time"), order_id=request.id_param("order_id"),
                             limit=request.limit(20, 500))
    visible = org_users.same_org_orders(request.org_id, [t["match_order_id"] for t in found])
    return shapes.listing(request.list_type(), found, lambda t: t["trade_id"],
                          lambda t: shapes.trade(t, trader.uid, visible))
