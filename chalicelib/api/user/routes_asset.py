"""Asset routes: balances, overview, balance flow, deposits, withdrawal quota, address book,
withdrawals. Everything acts on the session user's own main account; money-out (a
withdrawal, adding or removing a withdrawal address) needs the second factor.

Parameters are validated with one pydantic model per operation (the field types are
shared with the trading routes)."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Optional, Union

from pydantic import Field

from chalicelib.api.user import wire
from chalicelib.api.user.http import READ, WRITE, Context, endpoint
from chalicelib.api.user.params import (
    Amount, ClientOrderId, Cursor, Id, Millis, NoParams, SecondFactor, UserParams,
)
from chalicelib.domain import money
from chalicelib.domain.errors import InvalidParameter, MissingParameter
from chalicelib.domain.ledger import Subject
from chalicelib.services import catalog, deposits, ledger, market_data, verification, withdrawals

ZERO = Decimal(0)
TOKEN_PATTERN = r"^[A-Za-z0-9]{1,32}$"

Token = Annotated[str, Field(pattern=TOKEN_PATTERN)]
Chain = Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]{1,32}$",
                             description="e.g. ERC20; default the token's first chain")]
# Addresses and tags are checked per chain by the service (5003 when not valid for it).
Address = Annotated[str, Field(max_length=256)]
AddressTag = Annotated[str, Field(max_length=128, description="the address tag (memo) of chains that take one")]
# A comma-separated list, or a JSON list.
Names = Union[Annotated[str, Field(max_length=1024, pattern=r"^[A-Za-z0-9_,\s]+$")],
              Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=100)]]


class TokenChoice(UserParams):
    token_id: Optional[Token] = Field(None, description="e.g. USDT, any case")
    token: Optional[Token] = Field(None, description="another name for token_id")


class TokenOnChain(TokenChoice):
    chain_type: Optional[Chain] = None


class BalanceParams(UserParams):
    token_ids: Optional[Names] = Field(None, description="only these tokens (comma-separated)")


class AssetHistoryPage(TokenChoice):
    """Newest first; `from_id` keeps ids below it, `end_id` ids above it; time range in ms."""

    from_id: Optional[Cursor] = None
    end_id: Optional[Id] = None
    start_time: Optional[Millis] = None
    end_time: Optional[Millis] = None
    limit: int = Field(20, ge=1, le=500)


class FlowPage(AssetHistoryPage):
    flow_type: Optional[Names] = Field(None, description="subject names or numbers, comma-separated (e.g. DEPOSIT)")


class DepositRef(UserParams):
    order_id: Id = Field(description="the deposit's id")


class AddressCheck(TokenOnChain):
    address: Address
    address_ext: Optional[AddressTag] = None


class AddressAdd(AddressCheck, SecondFactor):
    remark: Optional[str] = Field(None, max_length=64, description="the address's label")
    label: Optional[str] = Field(None, max_length=64, description="another name for remark")


class AddressDelete(SecondFactor):
    address_id: Id


class WithdrawalCreate(AddressCheck, SecondFactor):
    """`client_order_id` is required: a retry answers the first withdrawal."""

    withdraw_quantity: Optional[Amount] = None
    quantity: Optional[Amount] = Field(None, description="another name for withdraw_quantity")
    client_order_id: ClientOrderId


class WithdrawalCancel(UserParams):
    order_id: Id = Field(description="the withdrawal's id")


class WithdrawalRef(UserParams):
    """One withdrawal: by `order_id`, or by the `client_order_id` it was created with."""

    order_id: Optional[Id] = Field(None, description="the withdrawal's id")
    client_order_id: Optional[ClientOrderId] = None


def _token(ctx: Context, required: bool = True):
    value = ctx.first("token_id", "token")
    if value is None and required:
        raise MissingParameter("token_id")
    return value.upper() if value else None


@endpoint(["/api/asset/get", "/api/account/get"], params=BalanceParams, access=READ)
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


@endpoint("/api/asset/info", params=NoParams, access=READ)
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


@endpoint("/api/asset/balance_flow", params=FlowPage, access=READ, summary="The user's balance flows, newest first")
def balance_flow(ctx: Context):
    """Newest first; `from_id` keeps ids below it, `end_id` ids above it; `flow_type` is a
    subject name or number (comma-separated for several); time range in ms."""
    p: FlowPage = ctx.args
    subjects = set()
    for name in ctx.listed("flow_type"):
        try:
            subjects.add(int(name) if name.isdigit() else int(Subject[name.upper()]))
        except (KeyError, ValueError):
            raise InvalidParameter("flow_type") from None
    rows = ledger.flows(ctx.account_id, token=_token(ctx, required=False), before_id=p.from_id, after_id=p.end_id,
                        start_ms=p.start_time, end_ms=p.end_time, subjects=subjects or None, limit=p.limit)
    return [wire.flow(f) for f in rows]


# --- deposits --------------------------------------------------------------------------------------

@endpoint("/api/asset/deposit/address", params=TokenOnChain, access=READ,
          summary="The user's deposit address of a token on a chain")
def deposit_address(ctx: Context):
    answer = deposits.deposit_address(ctx.holder(), _token(ctx), ctx.text("chain_type"))
    return wire.camel({**answer, "token_id": answer["token"], "chain_type": answer["chain"]})


@endpoint("/api/asset/deposit/order_list", params=AssetHistoryPage, access=READ,
          summary="The user's deposits, newest first")
def deposit_orders(ctx: Context):
    p: AssetHistoryPage = ctx.args
    rows = deposits.deposit_history(ctx.holder(), token=_token(ctx, required=False), from_id=p.from_id,
                                    to_id=p.end_id, start_ms=p.start_time, end_ms=p.end_time, limit=p.limit)
    return [wire.deposit(view) for view in rows]


@endpoint("/api/asset/deposit/order", params=DepositRef, access=READ, summary="One of the user's deposits")
def deposit_order(ctx: Context):
    return wire.deposit(deposits.deposit_detail(ctx.holder(), ctx.require("order_id")))


# --- withdrawals ------------------------------------------------------------------------------------

@endpoint("/api/asset/withdrawal/quota_info", params=TokenOnChain, access=READ,
          summary="Withdrawal fee, limits and what is left of today's quota")
def withdrawal_quota(ctx: Context):
    return wire.camel(withdrawals.withdrawal_quota(ctx.holder(), _token(ctx), ctx.text("chain_type")))


@endpoint("/api/asset/withdrawal/address_list", params=TokenChoice, access=READ,
          summary="The user's withdrawal address book")
def withdrawal_addresses(ctx: Context):
    return wire.camel(withdrawals.addresses(ctx.holder(), token=_token(ctx, required=False)))


@endpoint("/api/asset/withdrawal/address/check", params=AddressCheck, access=READ,
          summary="Whether an address is valid for a token's chain, and whether it is internal")
def withdrawal_address_check(ctx: Context):
    return wire.camel(withdrawals.check_address(ctx.org_id, token=_token(ctx), address=ctx.require("address"),
                                                address_tag=ctx.text("address_ext"), chain=ctx.text("chain_type")))


@endpoint("/api/asset/withdrawal/address/add", params=AddressAdd, access=WRITE,
          summary="Add an address to the withdrawal address book (second factor)")
def withdrawal_address_add(ctx: Context):
    verification.require_second_factor(ctx.user, "ADD_WITHDRAW_ADDRESS", **ctx.second_factor(),
                                       operation=f"address-add:{ctx.uid}:{ctx.text('order_id') or ctx.text('ga_code')}")
    return wire.camel(withdrawals.add_address(ctx.holder(), token=_token(ctx), address=ctx.require("address"),
                                              address_tag=ctx.text("address_ext"), chain=ctx.text("chain_type"),
                                              label=ctx.text("remark") or ctx.text("label") or ""))


@endpoint("/api/asset/withdrawal/address/delete", params=AddressDelete, access=WRITE,
          summary="Remove an address from the withdrawal address book (second factor)")
def withdrawal_address_delete(ctx: Context):
    address_id = ctx.require("address_id")
    verification.require_second_factor(ctx.user, "DELETE_WITHDRAW_ADDRESS", **ctx.second_factor(),
                                       operation=f"address-delete:{ctx.uid}:{address_id}")
    withdrawals.remove_address(ctx.holder(), address_id)
    return {"success": True}


@endpoint("/api/asset/withdrawal/create", params=WithdrawalCreate, access=WRITE,
          summary="Withdraw to an address (second factor)")
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


@endpoint("/api/asset/withdrawal/order/cancel", params=WithdrawalCancel, access=WRITE,
          summary="Cancel a withdrawal not yet handed to custody")
def withdrawal_cancel(ctx: Context):
    return wire.withdrawal(withdrawals.cancel_withdrawal(ctx.holder(), ctx.require("order_id")))


@endpoint("/api/asset/withdrawal/order", params=WithdrawalRef, access=READ, summary="One of the user's withdrawals")
def withdrawal_order(ctx: Context):
    return wire.withdrawal(withdrawals.withdrawal_detail(ctx.holder(), withdrawal_id=ctx.text("order_id"),
                                                        client_order_id=ctx.text("client_order_id")))


@endpoint("/api/asset/withdrawal/order_list", params=AssetHistoryPage, access=READ,
          summary="The user's withdrawals, newest first")
def withdrawal_orders(ctx: Context):
    p: AssetHistoryPage = ctx.args
    rows = withdrawals.withdrawal_history(ctx.holder(), token=_token(ctx, required=False), from_id=p.from_id,
                                          to_id=p.end_id, start_ms=p.start_time, end_ms=p.end_time, limit=p.limit)
    return [wire.withdrawal(view) for view in rows]
