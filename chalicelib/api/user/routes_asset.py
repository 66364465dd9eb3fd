"""Asset routes: balances, overview, balance flow, deposits, withdrawal quota, address book,
withdrawals. Everything acts on the session user's own main account; money-out (a
withdrawal, adding or removing a withdrawal address) needs the second factor."""
from __future__ import annotations

from decimal import Decimal

from chalicelib.api.user import wire
from chalicelib.api.user.http import READ, WRITE, Context, endpoint
from chalicelib.domain import money
from chalicelib.domain.errors import InvalidParameter, MissingParameter
from chalicelib.domain.ledger import Subject
from chalicelib.services import catalog, deposits, ledger, market_data, verification, withdrawals

ZERO = Decimal(0)


def _token(ctx: Context, required: bool = True):
    value = ctx.first("token_id", "token")
    if value is None and required:
        raise MissingParameter("token_id")
    return value.upper() if value else None


@endpoint(["/api/asset/get", "/api/account/get"], access=READ)
def balances(ctx: Context):
    """Every token the org lists, with zeros where the user holds nothing."""
    held = {b.token: b for b in ledger.balances(ctx.account_id)}
    wanted = set(ctx.listed("token_ids")) or None
    answer = []
    for token in sorted(set(catalog.org(ctx.org_id).tokens) | set(held)):
        if wanted and token not in wanted:
            continue
        balance = held.get(token) or ledger.balance(ctx.account_id, token)
        answer.append(wire.balance(balance))
    return answer


def _price_in(org: catalog.OrgView, token: str, quote: str) -> Decimal:
    if token == quote:
        return Decimal(1)
    if f"{token}{quote}" in org.symbols:
        return market_data.last_price(f"{token}{quote}")
    if f"{quote}{token}" in org.symbols:
        price = market_data.last_price(f"{quote}{token}")
        return Decimal(1) / price if price else ZERO
    return ZERO


@endpoint("/api/asset/info", access=READ)
def asset_overview(ctx: Context):
    """Totals valued in USDT and BTC at the last traded prices (0 where none)."""
    org = catalog.org(ctx.org_id)
    usdt_per_btc = _price_in(org, "BTC", "USDT")
    total_usdt, rows = ZERO, []
    for balance in ledger.balances(ctx.account_id):
        if balance.total == 0:
            continue
        value = (balance.total * _price_in(org, balance.token, "USDT")).quantize(Decimal("0.00000001"))
        total_usdt += value
        rows.append({**wire.balance(balance), "usdtValue": money.text(value),
                     "btcValue": money.text((value / usdt_per_btc).quantize(Decimal("0.00000001")))
                     if usdt_per_btc else "0"})
    total_btc = (total_usdt / usdt_per_btc).quantize(Decimal("0.00000001")) if usdt_per_btc else ZERO
    return {"totalAsset": money.text(total_usdt), "unit": "USDT", "usdtValue": money.text(total_usdt),
            "btcValue": money.text(total_btc), "balances": rows}


@endpoint("/api/asset/balance_flow", access=READ)
def balance_flow(ctx: Context):
    """Newest first; `from_id` keeps ids below it, `end_id` ids above it; `flow_type` is a
    subject name or number (comma-separated for several); time range in ms."""
    subjects = set()
    for name in ctx.listed("flow_type"):
        try:
            subjects.add(int(name) if name.isdigit() else int(Subject[name.upper()]))
        except (KeyError, ValueError):
            raise InvalidParameter("flow_type") from None
    rows = ledger.flows(ctx.account_id, token=_token(ctx, required=False), before_id=ctx.integer("from_id", low=1),
                        after_id=ctx.integer("end_id", low=0), start_ms=ctx.integer("start_time", low=0),
                        end_ms=ctx.integer("end_time", low=0), subjects=subjects or None, limit=ctx.limit(20, 500))
    return [wire.flow(f) for f in rows]


# --- deposits --------------------------------------------------------------------------------------

@endpoint("/api/asset/deposit/address", access=READ)
def deposit_address(ctx: Context):
    answer = deposits.deposit_address(ctx.holder(), _token(ctx), ctx.text("chain_type"))
    return wire.camel({**answer, "token_id": answer["token"], "chain_type": answer["chain"]})


@endpoint("/api/asset/deposit/order_list", access=READ)
def deposit_orders(ctx: Context):
    rows = deposits.deposit_history(ctx.holder(), token=_token(ctx, required=False),
                                    from_id=ctx.integer("from_id", low=1), to_id=ctx.integer("end_id", low=0),
                                    start_ms=ctx.integer("start_time", low=0), end_ms=ctx.integer("end_time", low=0),
                                    limit=ctx.limit(20, 500))
    return [wire.deposit(view) for view in rows]


@endpoint("/api/asset/deposit/order", access=READ)
def deposit_order(ctx: Context):
    return wire.deposit(deposits.deposit_detail(ctx.holder(), ctx.require("order_id")))


# --- withdrawals ------------------------------------------------------------------------------------

@endpoint("/api/asset/withdrawal/quota_info", access=READ)
def withdrawal_quota(ctx: Context):
    return wire.camel(withdrawals.withdrawal_quota(ctx.holder(), _token(ctx), ctx.text("chain_type")))


@endpoint("/api/asset/withdrawal/address_list", access=READ)
def withdrawal_addresses(ctx: Context):
    return wire.camel(withdrawals.addresses(ctx.holder(), token=_token(ctx, required=False)))


@endpoint("/api/asset/withdrawal/address/check", access=READ)
def withdrawal_address_check(ctx: Context):
    return wire.camel(withdrawals.check_address(ctx.org_id, token=_token(ctx), address=ctx.require("address"),
                                                address_tag=ctx.text("address_ext"), chain=ctx.text("chain_type")))


@endpoint("/api/asset/withdrawal/address/add", access=WRITE)
def withdrawal_address_add(ctx: Context):
    verification.require_second_factor(ctx.user, "ADD_WITHDRAW_ADDRESS", **ctx.second_factor(),
                                       operation=f"address-add:{ctx.uid}:{ctx.text('order_id') or ctx.text('ga_code')}")
    return wire.camel(withdrawals.add_address(ctx.holder(), token=_token(ctx), address=ctx.require("address"),
                                              address_tag=ctx.text("address_ext"), chain=ctx.text("chain_type"),
                                              label=ctx.text("remark") or ctx.text("label") or ""))


@endpoint("/api/asset/withdrawal/address/delete", access=WRITE)
def withdrawal_address_delete(ctx: Context):
    address_id = ctx.require("address_id")
    verification.require_second_factor(ctx.user, "DELETE_WITHDRAW_ADDRESS", **ctx.second_factor(),
                                       operation=f"address-delete:{ctx.uid}:{address_id}")
    withdrawals.remove_address(ctx.holder(), address_id)
    return {"success": True}


@endpoint("/api/asset/withdrawal/create", access=WRITE)
def withdrawal_create(ctx: Context):
    """`token_id`, `chain_type`, `address`, `address_ext` (tag), `withdraw_quantity`,
    `client_order_id` (required: a retry answers the first withdrawal) and the second factor
    (`ga_code`, or `verify_code` + `order_id` of type WITHDRAW). With the org setting
    `withdraw_saved_address_only`, only address-book addresses are accepted."""
    client_order_id = ctx.require("client_order_id")
    amount = ctx.decimal("withdraw_quantity") if ctx.text("withdraw_quantity") else ctx.decimal("quantity")
    if amount is None:
        raise MissingParameter("withdraw_quantity")
    token, address = _token(ctx), ctx.require("address")
    verification.require_second_factor(ctx.user, "WITHDRAW", **ctx.second_factor(),
                                       operation=f"withdraw:{ctx.account_id}:{client_order_id}")
    saved_only = bool(catalog.org(ctx.org_id).settings.get("withdraw_saved_address_only"))
    view = withdrawals.create_withdrawal(ctx.holder(), token=token, amount=amount, address=address,
                                         address_tag=ctx.text("address_ext"), chain=ctx.text("chain_type"),
                                         client_order_id=client_order_id, require_saved_address=saved_only)
    return wire.withdrawal(view)


@endpoint("/api/asset/withdrawal/order/cancel", access=WRITE)
def withdrawal_cancel(ctx: Context):
    return wire.withdrawal(withdrawals.cancel_withdrawal(ctx.holder(), ctx.require("order_id")))


@endpoint("/api/asset/withdrawal/order", access=READ)
def withdrawal_order(ctx: Context):
    return wire.withdrawal(withdrawals.withdrawal_detail(ctx.holder(), withdrawal_id=ctx.text("order_id"),
                                                        client_order_id=ctx.text("client_order_id")))


@endpoint("/api/asset/withdrawal/order_list", access=READ)
def withdrawal_orders(ctx: Context):
    rows = withdrawals.withdrawal_history(ctx.holder(), token=_token(ctx, required=False),
                                          from_id=ctx.integer("from_id", low=1), to_id=ctx.integer("end_id", low=0),
                                          start_ms=ctx.integer("start_time", low=0),
                                          end_ms=ctx.integer("end_time", low=0), limit=ctx.limit(20, 500))
    return [wire.withdrawal(view) for view in rows]
