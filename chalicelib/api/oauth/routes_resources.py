"""The seed's resource calls, each behind its scope. The user and account come from the
bearer token only (a parameter naming a user does not exist here); answers use the
BHOP camelCase shapes of the User API (`api.user.wire`), which the real OAuth service
shared (`get_balance_info` rows are User API balance rows)."""
from __future__ import annotations

from chalicelib.api.oauth import models as m
from chalicelib.api.oauth.http import operation
from chalicelib.api.user import wire
from chalicelib.domain import money
from chalicelib.domain import oauth as scopes
from chalicelib.services import catalog, deposits, ledger, orders, withdrawals
from chalicelib.services.oauth_tokens import Bearer
from chalicelib.services.users import REGISTER_EMAIL, REGISTER_MOBILE

READ = ("GET", "POST")   # the seed lists GET; the real service's clients POST: reads change nothing
WRITE = ("POST",)


@operation("user/getInfo", methods=READ, model=m.NoParams, scope=scopes.USER_INFO)
def user_info(bearer: Bearer, _):
    """The user's profile: ids, e-mail, mobile, KYC level, security settings."""
    u = bearer.user
    return {"userId": u.uid, "openId": bearer.open_id,
            "registerType": REGISTER_MOBILE if u.mobile and not u.email else REGISTER_EMAIL,
            "email": u.email or "", "nationalCode": u.national_code or "", "mobile": u.mobile or "",
            "bindGA": u.has_ga, "bindTradePwd": u.has_trade_password, "verifyStatus": u.kyc_level,
            "kycLevel": u.kyc_level, "registerDate": str(u.created_at)}


@operation("account/getInfo", methods=READ, model=m.NoParams, scope=scopes.ACCOUNT_INFO)
def account_info(bearer: Bearer, _):
    """The user's main spot account and what it may do."""
    u = bearer.user
    return {"accountId": u.main_account_id, "accountType": "SPOT", "userId": u.uid, "openId": bearer.open_id,
            "canTrade": not u.trade_frozen, "canWithdraw": not u.withdraw_frozen, "canDeposit": True,
            "createTime": str(u.created_at)}


@operation("account/getAsset", methods=READ, model=m.AssetQuery, scope=scopes.ACCOUNT_INFO)
def account_asset(bearer: Bearer, query: m.AssetQuery):
    """Balances of every token the broker lists (zeros included), or of `tokenId`."""
    held = {b.token: b for b in ledger.balances(bearer.account_id)}
    tokens = sorted(set(catalog.org(bearer.org_id).tokens) | set(held))
    if query.token_id:
        catalog.org(bearer.org_id).token(query.token_id)
        tokens = [query.token_id]
    return [wire.balance(held.get(t) or ledger.balance(bearer.account_id, t)) for t in tokens]


@operation("account/getDepositAddress", methods=READ, model=m.DepositAddressQuery, scope=scopes.ACCOUNT_INFO)
def deposit_address(bearer: Bearer, query: m.DepositAddressQuery):
    """The user's deposit address of a token (on `chainType`, else the token's first chain)."""
    answer = deposits.deposit_address(bearer.holder(), query.token_id, query.chain_type)
    return wire.camel({**answer, "token_id": answer["token"], "chain_type": answer["chain"]})


@operation("account/getBalanceFlow", methods=READ, model=m.HistoryQuery, scope=scopes.ACCOUNT_DETAIL)
def balance_flow(bearer: Bearer, query: m.HistoryQuery):
    """Balance changes, newest first."""
    rows = ledger.flows(bearer.account_id, token=query.token_id, before_id=query.from_id, after_id=query.end_id,
                        start_ms=query.start_time, end_ms=query.end_time, limit=query.limit)
    return [wire.flow(f) for f in rows]


@operation("account/getDepositHistory", methods=READ, model=m.HistoryQuery, scope=scopes.ACCOUNT_DETAIL)
def deposit_history(bearer: Bearer, query: m.HistoryQuery):
    """Deposits, newest first."""
    rows = deposits.deposit_history(bearer.holder(), token=query.token_id, from_id=query.from_id, to_id=query.end_id,
                                    start_ms=query.start_time, end_ms=query.end_time, limit=query.limit)
    return [wire.deposit(view) for view in rows]


@operation("account/getWithdrawHistory", methods=READ, model=m.HistoryQuery, scope=scopes.ACCOUNT_DETAIL)
def withdraw_history(bearer: Bearer, query: m.HistoryQuery):
    """Withdrawals (internal transfers included), newest first."""
    rows = withdrawals.withdrawal_history(bearer.holder(), token=query.token_id, from_id=query.from_id,
                                          to_id=query.end_id, start_ms=query.start_time, end_ms=query.end_time,
                                          limit=query.limit)
    return [wire.withdrawal(view) for view in rows]


def _orders(bearer: Bearer, views: list[dict]) -> list[dict]:
    org = catalog.org(bearer.org_id)
    return [wire.order(view, org) for view in views]


@operation("trade/spot/getOpenOrderList", methods=READ, model=m.OpenOrdersQuery, scope=scopes.TRADE_INFO)
def open_orders(bearer: Bearer, query: m.OpenOrdersQuery):
    """Open spot orders, newest first."""
    return _orders(bearer, orders.open_orders(bearer.trader(), symbol=query.symbol, side=query.side,
                                              before_id=query.from_order_id, limit=query.limit))


@operation("trade/spot/getHistoryOrderList", methods=READ, model=m.HistoryOrdersQuery, scope=scopes.TRADE_INFO)
def history_orders(bearer: Bearer, query: m.HistoryOrdersQuery):
    """Filled, canceled and rejected spot orders, newest first."""
    return _orders(bearer, orders.history_orders(bearer.trader(), symbol=query.symbol, side=query.side,
                                                 before_id=query.from_order_id, start_ms=query.start_time,
                                                 end_ms=query.end_time, limit=query.limit))


@operation("trade/spot/getTradeDetailList", methods=READ, model=m.TradesQuery, scope=scopes.TRADE_INFO)
def trade_details(bearer: Bearer, query: m.TradesQuery):
    """The user's side of each trade, newest first (the counterparty is never named)."""
    rows = orders.my_trades(bearer.trader(), symbol=query.symbol, before_id=query.from_id, after_id=query.end_id,
                            start_ms=query.start_time, end_ms=query.end_time, order_id=query.order_id,
                            limit=query.limit)
    return [wire.trade(view) for view in rows]


@operation("trade/spot/placeOrder", methods=WRITE, model=m.PlaceOrderForm, scope=scopes.TRADE)
def place_order(bearer: Bearer, form: m.PlaceOrderForm):
    """A spot order; `clientOrderId` makes a retry answer the first order."""
    view = orders.place_order(bearer.trader(), symbol=form.symbol, side=form.side, order_type=form.type,
                              quantity=money.parse(form.quantity, "quantity"),
                              price=money.parse(form.price, "price") if form.price else None,
                              time_in_force=form.time_in_force, client_order_id=form.client_order_id,
                              source="oauth")
    return wire.order(view, catalog.org(bearer.org_id))


@operation("trade/spot/cancelOrder", methods=WRITE, model=m.CancelOrderForm, scope=scopes.TRADE)
def cancel_order(bearer: Bearer, form: m.CancelOrderForm):
    """Cancels an open order of the user by `orderId` or `clientOrderId`."""
    view = orders.cancel_order(bearer.trader(), order_id=str(form.order_id) if form.order_id else None,
                               client_order_id=form.client_order_id)
    return wire.order(view, catalog.org(bearer.org_id))
