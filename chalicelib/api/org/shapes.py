"""The seed's object shapes (§2.1-2.8) and `listType` rendering.

`listType=simple` answers the ids of a list's objects; `full` (the default) the objects.
Amounts are decimal strings; the seed objects' `created_at` / `updated_at` are epoch
seconds, as in the seed's examples; event times are epoch milliseconds.
"""
from __future__ import annotations

from typing import Callable, Iterable, Optional

from chalicelib.domain import money
from chalicelib.domain.ledger import Balance, Subject
from chalicelib.services import catalog, users

NO_ACCOUNT = "0"


def seconds(ms: Optional[int]) -> Optional[int]:
    return None if ms is None else int(ms) // 1000


def listing(list_type: str, items: Iterable, id_of: Callable, full: Callable) -> list:
    items = list(items)
    if list_type == "simple":
        return [str(id_of(item)) for item in items]
    return [full(item) for item in items]


# --- 2.1 token, 2.2 symbol, 2.3 org -----------------------------------------------------------------

def token(org: catalog.OrgView, t: catalog.TokenListing) -> dict:
    return {
        "org_id": org.org_id, "org_name": org.name, "exchange_id": org.exchange_id, "exchange_name": "",
        "token_id": t.token_id, "token_name": t.name, "token_full_name": t.full_name, "icon_url": t.icon_url,
        "allow_withdraw": t.allow_withdraw, "allow_deposit": t.allow_deposit,
        "min_deposit_quantity": money.text(t.min_deposit), "precision": money.text(t.precision),
        "withdraw_fee": money.text(t.withdraw_fee), "min_withdraw_quantity": money.text(t.min_withdraw),
        "max_withdraw_daily": money.text(t.max_withdraw_daily), "updated_at": seconds(t.updated_at),
    }


def symbol(org: catalog.OrgView, s: catalog.SymbolListing) -> dict:
    r = s.rules
    base, quote = org.tokens.get(r.base_asset), org.tokens.get(r.quote_asset)
    return {
        "org_id": org.org_id, "org_name": org.name, "exchange_id": s.exchange_id, "exchange_name": "",
        "symbol_id": r.symbol, "symbol_name": r.symbol, "base_token_id": r.base_asset,
        "base_token_name": base.name if base else r.base_asset, "quote_token_id": r.quote_asset,
        "quote_token_name": quote.name if quote else r.quote_asset,
        "base_precision": money.text(r.step_size), "quote_precision": money.text(r.tick_size),
        "min_trade_quantity": money.text(r.min_qty), "max_trade_quantity": money.text(r.max_qty),
        "min_trade_amount": money.text(r.min_notional), "min_price_precision": money.text(r.tick_size),
        "digit_merge": money.text(r.tick_size), "maker_fee_rate": money.text(s.fees.maker),
        "taker_fee_rate": money.text(s.fees.taker), "can_trade": s.can_trade and r.trading,
        "can_buy": s.can_buy, "can_sell": s.can_sell, "updated_at": seconds(s.updated_at),
    }


def org(view: catalog.OrgView, settings: dict) -> dict:
    return {"org_id": view.org_id, "org_name": view.name, "org_type": view.org_type,
            "exchange_id": view.exchange_id, "settings": settings, "updated_at": seconds(view.updated_at)}


# --- 2.4 user, 2.5 balance --------------------------------------------------------------------------------

def user(u: users.User, *, kyc: Optional[dict] = None, inviter: Optional[users.User] = None) -> dict:
    view = {
        "uid": u.uid, "email": u.email or "", "phone": u.phone or "", "national_code": u.national_code or "",
        "mobile": u.mobile or "", "register_type": 2 if u.email else 1, "kyc_level": u.kyc_level,
        "main_account_id": u.main_account_id, "option_account_id": NO_ACCOUNT, "future_account_id": NO_ACCOUNT,
        "margin_account_id": NO_ACCOUNT, "login_frozen": u.login_frozen, "trade_frozen": u.trade_frozen,
        "withdraw_frozen": u.withdraw_frozen, "bind_ga": u.has_ga, "bind_trade_pwd": u.has_trade_password,
        "invite_code": u.invite_code, "inviter_uid": u.inviter_uid or "",
        "created_at": seconds(u.created_at), "updated_at": seconds(u.updated_at),
    }
    if kyc is not None:
        view["verify_status"] = kyc.get("verify_status", 0)
        view["kyc"] = kyc
    if inviter is not None:
        view["inviter"] = {"uid": inviter.uid, "email": inviter.email or "", "phone": inviter.phone or "",
                           "invite_code": inviter.invite_code}
    elif u.inviter_uid is None:
        view["inviter"] = None
    return view


def balance(b: Balance) -> dict:
    return {"balance_id": f"{b.account_id}:{b.token}", "account_id": b.account_id, "token_id": b.token,
            "total": money.text(b.total), "available": money.text(b.available), "locked": money.text(b.locked),
            "position": money.text(b.position)}


def flow(f) -> dict:
    try:
        subject = Subject(f.subject).name
    except ValueError:
        subject = str(f.subject)
    return {"id": str(f.flow_id), "account_id": f.account_id, "token_id": f.token, "flow_type": subject,
            "flow_subject": f.subject, "change": money.text(f.change), "available_change": money.text(
                f.available_change), "locked_change": money.text(f.locked_change),
            "position_change": money.text(f.position_change), "total": money.text(f.total_after),
            "reference": f.reference, "created_at": seconds(f.created_at)}


# --- 2.6 order, 2.7 trade, 2.8 event --------------------------------------------------------------------

def order(view: dict) -> dict:
    return {
        "order_id": view["order_id"], "client_order_id": view["client_order_id"], "uid": view["uid"],
        "account_id": view["account_id"], "exchange_id": view["exchange_id"], "symbol_id": view["symbol"],
        "side": view["side"], "type": view["type"], "time_in_force": view["time_in_force"],
        "price": view["price"] or "0", "orig_qty": view["quantity"], "quote_amount": view["quote_amount"] or "0",
        "executed_qty": view["executed_qty"], "executed_amount": view["executed_quote"],
        "avg_price": view["average_price"] or "0", "fee": view["fee_paid"], "fee_token_id": view["fee_asset"] or "",
        "status": view["status"], "created_at": seconds(view["created_at"]),
        "updated_at": seconds(view["updated_at"]),
    }


def trade(view: dict, uid: str, visible_orders: set[str]) -> dict:
    """A trade as one side sees it; the other side's order is named only when it is an
    order of the same org."""
    return {
        "trade_id": view["trade_id"], "order_id": view["order_id"],
        "match_order_id": view["match_order_id"] if view["match_order_id"] in visible_orders else "",
        "uid": uid, "symbol_id": view["symbol"], "price": view["price"], "qty": view["qty"],
        "quote_qty": view["quote_qty"], "side": "BUY" if view["is_buyer"] else "SELL",
        "is_maker": view["is_maker"], "fee": view["fee"], "fee_token_id": view["fee_asset"] or "",
        "time": view["time"], "updated_at": seconds(view["time"]),
    }
