"""Listing: which exchange tokens and symbols the org lists, and on which terms."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from pydantic import Field

from chalicelib.api.admin.http import AdminContext, action
from chalicelib.api.admin.shapes import Params
from chalicelib.services import listing

TOKEN_ID = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")
SYMBOL = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")


class TokenParams(Params):
    token_id: str = TOKEN_ID


class TokenTerms(TokenParams):
    name: Optional[str] = Field(None, max_length=32)
    full_name: Optional[str] = Field(None, max_length=128)
    icon_url: Optional[str] = Field(None, max_length=512, pattern=r"^(https://\S+)?$")
    allow_deposit: Optional[bool] = None
    allow_withdraw: Optional[bool] = None
    min_deposit: Optional[Decimal] = Field(None, ge=0)
    withdraw_fee: Optional[Decimal] = Field(None, ge=0)
    min_withdraw: Optional[Decimal] = Field(None, ge=0)
    max_withdraw: Optional[Decimal] = Field(None, ge=0, description="per withdrawal")
    max_withdraw_daily: Optional[Decimal] = Field(None, ge=0, description="per user and day; 0 = no limit")


class SymbolParams(Params):
    symbol: str = SYMBOL


class SymbolTerms(SymbolParams):
    can_trade: Optional[bool] = None
    can_buy: Optional[bool] = None
    can_sell: Optional[bool] = None
    hide_from_openapi: Optional[bool] = None
    maker_fee: Optional[Decimal] = None
    taker_fee: Optional[Decimal] = None
    tick_size: Optional[Decimal] = Field(None, gt=0, description="price precision; a multiple of the exchange's")
    step_size: Optional[Decimal] = Field(None, gt=0, description="quantity precision; a multiple of the exchange's")
    min_qty: Optional[Decimal] = Field(None, ge=0)
    max_qty: Optional[Decimal] = Field(None, gt=0)
    min_notional: Optional[Decimal] = Field(None, ge=0, description="minimum trade amount (quote)")
    min_price: Optional[Decimal] = Field(None, gt=0, description="price band, low end")
    max_price: Optional[Decimal] = Field(None, gt=0, description="price band, high end")


def _changes(p: Params, key: str) -> dict:
    return {k: v for k, v in p.model_dump(exclude_unset=True).items() if k != key and v is not None}


def _token_change(ctx: AdminContext, token_id: str, change) -> dict:
    before = listing.token(ctx.org_id, token_id)
    after = change()
    ctx.audit(target=f"token:{token_id}", before=before, after=after)
    return after


def _symbol_change(ctx: AdminContext, symbol: str, change) -> dict:
    before = listing.symbol(ctx.org_id, symbol)
    after = change()
    ctx.audit(target=f"symbol:{symbol}", before=before, after=after)
    return after


@action("listing/tokens", permission="listing.read", mutating=False,
        summary="Every token of the org's exchange, with the org's listing and terms")
def tokens(ctx: AdminContext, p: None):
    return {"list": listing.tokens(ctx.org_id)}


@action("listing/symbols", permission="listing.read", mutating=False,
        summary="Every symbol of the org's exchange, with the org's listing, flags, fees and filters")
def symbols(ctx: AdminContext, p: None):
    return {"list": listing.symbols(ctx.org_id)}


@action("listing/token_list", permission="listing.write", params=TokenTerms,
        summary="List a token (terms default to zero), optionally with its terms")
def token_list(ctx: AdminContext, p: TokenTerms):
    return _token_change(ctx, p.token_id, lambda: listing.set_token(ctx.org_id, p.token_id, _changes(p, "token_id"),
                                                                    list_it=True))


@action("listing/token_update", permission="listing.write", params=TokenTerms,
        summary="Change a listed token's name, icon, deposit/withdraw switches, fee, minimums and quotas")
def token_update(ctx: AdminContext, p: TokenTerms):
    return _token_change(ctx, p.token_id, lambda: listing.set_token(ctx.org_id, p.token_id, _changes(p, "token_id")))


@action("listing/token_delist", permission="listing.write", params=TokenParams,
        summary="Delist a token (refused while a listed symbol trades it)")
def token_delist(ctx: AdminContext, p: TokenParams):
    return _token_change(ctx, p.token_id, lambda: listing.set_token(ctx.org_id, p.token_id, {}, list_it=False))


@action("listing/symbol_list", permission="listing.write", params=SymbolTerms,
        summary="List a symbol (its base and quote must be listed), optionally with its terms")
def symbol_list(ctx: AdminContext, p: SymbolTerms):
    return _symbol_change(ctx, p.symbol, lambda: listing.set_symbol(ctx.org_id, p.symbol, _changes(p, "symbol"),
                                                                    list_it=True))


@action("listing/symbol_update", permission="listing.write", params=SymbolTerms,
        summary="Change a symbol's flags, maker/taker fees, precisions, minimums and price band")
def symbol_update(ctx: AdminContext, p: SymbolTerms):
    return _symbol_change(ctx, p.symbol, lambda: listing.set_symbol(ctx.org_id, p.symbol, _changes(p, "symbol")))


@action("listing/symbol_halt", permission="listing.write", params=SymbolParams,
        summary="Halt trading: new orders are refused, open orders stay and may be cancelled")
def symbol_halt(ctx: AdminContext, p: SymbolParams):
    return _symbol_change(ctx, p.symbol, lambda: listing.set_symbol(ctx.org_id, p.symbol, {"can_trade": False}))


@action("listing/symbol_resume", permission="listing.write", params=SymbolParams,
        summary="Resume trading on a halted symbol")
def symbol_resume(ctx: AdminContext, p: SymbolParams):
    return _symbol_change(ctx, p.symbol, lambda: listing.set_symbol(ctx.org_id, p.symbol, {"can_trade": True}))


@action("listing/symbol_delist", permission="listing.write", params=SymbolParams,
        summary="Delist a symbol: halt it, cancel every open order of the org on it, then hide it")
def symbol_delist(ctx: AdminContext, p: SymbolParams):
    return _symbol_change(ctx, p.symbol, lambda: listing.delist_symbol(ctx.org_id, p.symbol))
