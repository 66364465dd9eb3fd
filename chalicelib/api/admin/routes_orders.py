"""Orders and trades of the org's users: search, detail, cancel."""
from __future__ import annotations

from typing import Optional

from pydantic import Field

from chalicelib.api.admin.http import AdminContext, action
from chalicelib.api.admin.shapes import CsvList, CursorParams, Params, cursor_page
from chalicelib.domain.errors import InvalidParameter
from chalicelib.services import admin_orders

STATUSES = {"NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "PENDING_CANCEL", "REJECTED"}


class OrderSearchParams(CursorParams):
    uid: Optional[str] = Field(None, max_length=32, pattern=r"^\d+$")
    symbol: Optional[str] = Field(None, max_length=32)
    status: Optional[CsvList] = Field(None, description="comma-separated: NEW, PARTIALLY_FILLED, FILLED, ...")
    start_time: Optional[int] = Field(None, ge=0)
    end_time: Optional[int] = Field(None, ge=0)


class TradeSearchParams(CursorParams):
    uid: str = Field(min_length=1, max_length=32, pattern=r"^\d+$")
    symbol: Optional[str] = Field(None, max_length=32)
    start_time: Optional[int] = Field(None, ge=0)
    end_time: Optional[int] = Field(None, ge=0)


class OrderParams(Params):
    order_id: str = Field(min_length=1, max_length=20, pattern=r"^\d+$")


@action("orders/search", permission="orders.read", params=OrderSearchParams, mutating=False,
        summary="Orders by user, symbol, status and time, newest first (cursor: before_id)")
def search(ctx: AdminContext, p: OrderSearchParams):
    statuses = {s.upper() for s in p.status or ()}
    if statuses - STATUSES:
        raise InvalidParameter("status", f"Unknown status: {', '.join(sorted(statuses - STATUSES))}")
    rows = admin_orders.search(ctx.org_id, uid=p.uid, symbol=p.symbol, statuses=statuses or None,
                               start_ms=p.start_time, end_ms=p.end_time,
                               before_id=int(p.before_id) if p.before_id else None, limit=p.limit)
    return cursor_page(rows, p.limit, "order_id")


@action("orders/detail", permission="orders.read", params=OrderParams, mutating=False, summary="One order")
def detail(ctx: AdminContext, p: OrderParams):
    return admin_orders.get(ctx.org_id, int(p.order_id))


@action("orders/trades", permission="orders.read", params=TradeSearchParams, mutating=False,
        summary="A user's trades by symbol and time, newest first (cursor: before_id)")
def trades(ctx: AdminContext, p: TradeSearchParams):
    rows = admin_orders.trades(ctx.org_id, p.uid, symbol=p.symbol, start_ms=p.start_time, end_ms=p.end_time,
                               before_id=int(p.before_id) if p.before_id else None, limit=p.limit)
    return cursor_page(rows, p.limit, "trade_id")


@action("orders/cancel", permission="orders.write", params=OrderParams,
        summary="Cancel a user's open order (funds unlock at once; the matcher takes it off the book)")
def cancel(ctx: AdminContext, p: OrderParams):
    before = admin_orders.get(ctx.org_id, int(p.order_id))
    after = admin_orders.cancel(ctx.org_id, int(p.order_id))
    ctx.audit(target=f"order:{p.order_id}", before=before, after=after)
    return after
