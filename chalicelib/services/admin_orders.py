"""Orders and trades of an org's users for the back office; cancelling a user's order.

The order store is indexed by account (all, open) and by symbol (resting on the book),
not by org, so: a search with a user reads that user's orders; a search for open orders
on a symbol reads the book; any other search walks the org's users (at most MAX_USERS
accounts) newest order first. Results are newest first with a cursor (`before_id`).
"""
from __future__ import annotations

from typing import Optional

from chalicelib.domain.errors import OrderNotFound
from chalicelib.services import orders, users
from chalicelib.store import orders as store

MAX_USERS = 2000
OPEN = {"NEW", "PARTIALLY_FILLED", "PENDING_CANCEL"}


def _accounts(org_id: str, uid: Optional[str]) -> list[users.User]:
    if uid:
        return [users.get_user(org_id, uid)]
    found, before = [], None
    while len(found) < MAX_USERS:
        page = users.list_users(org_id, limit=500, before_uid=before)
        if not page:
            break
        found += page
        before = page[-1].uid
    return found


def _matches(order, *, symbol, statuses, start_ms, end_ms) -> bool:
    return ((not symbol or order.symbol == symbol) and (not statuses or order.status.value in statuses)
            and (start_ms is None or order.created_at >= start_ms) and (end_ms is None or order.created_at <= end_ms))


def search(org_id: str, *, uid: Optional[str] = None, symbol: Optional[str] = None,
           statuses: Optional[set[str]] = None, start_ms: Optional[int] = None, end_ms: Optional[int] = None,
           before_id: Optional[int] = None, limit: int = 50) -> list[dict]:
    if not uid and symbol and statuses and statuses <= OPEN:
        candidates = [s for s in store.resting_on(symbol) if s.order.org_id == org_id]
    else:
        candidates = []
        for user in _accounts(org_id, uid):
            for stored in store.of_account(user.main_account_id, before_id=before_id, limit=limit):
                if start_ms is not None and stored.order.created_at < start_ms:
                    break
                candidates.append(stored)
                if len(candidates) >= limit * 20 and uid:
                    break
    chosen = [s for s in candidates if s.order.org_id == org_id
              and (before_id is None or s.order.order_id < before_id)
              and _matches(s.order, symbol=symbol, statuses=statuses, start_ms=start_ms, end_ms=end_ms)]
    chosen.sort(key=lambda s: s.order.order_id, reverse=True)
    return [orders.order_view(s) for s in chosen[:limit]]


def trades(org_id: str, uid: str, *, symbol: Optional[str] = None, start_ms: Optional[int] = None,
           end_ms: Optional[int] = None, before_id: Optional[int] = None, limit: int = 50) -> list[dict]:
    """A user's trades as that user sees them (the other side is never named)."""
    user = users.get_user(org_id, uid)
    return orders.my_trades(orders.Trader(org_id, uid, user.main_account_id), symbol=symbol, before_id=before_id,
                            start_ms=start_ms, end_ms=end_ms, limit=limit)


def get(org_id: str, order_id: int) -> dict:
    stored = store.get(order_id)
    if stored is None or stored.order.org_id != org_id:
        raise OrderNotFound()
    return orders.order_view(stored)


def cancel(org_id: str, order_id: int) -> dict:
    """Cancels through the owner's normal cancel path (unlock + matcher work)."""
    stored = store.get(order_id)
    if stored is None or stored.order.org_id != org_id:
        raise OrderNotFound()
    order = stored.order
    return orders.cancel_order(orders.Trader(org_id, order.user_id, order.account_id), order_id=str(order_id))
