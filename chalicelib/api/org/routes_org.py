"""3.1 The org itself: its description, what it lists, its settings."""
from __future__ import annotations

import time
from typing import Optional

from pydantic import Field

from chalicelib.api.org import shapes
from chalicelib.api.org.http import ASSET, OrgRequest, endpoint
from chalicelib.api.org.params import Amount, ClearableAmount, Flag, Integer, Listing, OrgParams, Uplink
from chalicelib.services import catalog, org_finance


class TokenList(Listing):
    token_id: Optional[str] = Field(None, description="only this token")


class SymbolList(Listing):
    symbol_id: Optional[str] = Field(None, description="only this symbol")


_PER_TOKEN = "per `token_id`"
_CLEARS = "; an empty value removes it"


class SettingsUpdate(Uplink):
    """Any of the settings; the service refuses a call that names none."""

    token_id: Optional[str] = Field(None, description="the token a per-token value is for (`*`: every token)")
    target_token_id: Optional[str] = Field(None, description="the target token of `mapping_rate`")
    withdraw_fee: Optional[Amount] = Field(None, description=_PER_TOKEN)
    min_withdraw: Optional[Amount] = Field(None, description=_PER_TOKEN)
    max_withdraw_daily: Optional[Amount] = Field(None, description=_PER_TOKEN)
    withdraw_review_threshold: Optional[ClearableAmount] = Field(None, description=_PER_TOKEN + _CLEARS)
    withdraw_four_eyes_threshold: Optional[ClearableAmount] = Field(None, description=_PER_TOKEN + _CLEARS)
    notify_place_order: Optional[Flag] = None
    notify_cancel_order: Optional[Flag] = None
    second_factor_withdraw: Optional[Flag] = None
    second_factor_api_key: Optional[Flag] = None
    login_lock_minutes: Optional[Integer] = Field(None, json_schema_extra={"minimum": 1, "maximum": 24 * 60})
    session_hours: Optional[Integer] = Field(None, json_schema_extra={"minimum": 1, "maximum": 24 * 30})
    session_idle_minutes: Optional[Integer] = Field(None, json_schema_extra={"minimum": 5, "maximum": 24 * 60 * 30})
    mapping_rate: Optional[ClearableAmount] = Field(
        None, description="units of `target_token_id` per unit of `token_id`" + _CLEARS)


@endpoint(["/getInfo"], params=OrgParams, summary="The org: its description and settings")
def org_get_info(request: OrgRequest):
    return shapes.org(catalog.org(request.org_id), org_finance.settings_view(request.org_id))


@endpoint(["/getTokens", "/basic/tokens"], params=TokenList, summary="The tokens the org lists")
def org_get_tokens(request: OrgRequest):
    org = catalog.org(request.org_id)
    wanted = request.get("token_id")
    tokens = [t for name, t in sorted(org.tokens.items()) if not wanted or name == wanted]
    return shapes.listing(request.list_type(), tokens, lambda t: t.token_id, lambda t: shapes.token(org, t))


@endpoint(["/getSymbols", "/basic/symbols"], params=SymbolList, summary="The symbols the org lists")
def org_get_symbols(request: OrgRequest):
    org = catalog.org(request.org_id)
    wanted = request.get("symbol_id")
    symbols = [s for name, s in sorted(org.symbols.items()) if not wanted or name == wanted]
    return shapes.listing(request.list_type(), symbols, lambda s: s.symbol, lambda s: shapes.symbol(org, s))


@endpoint(["/basic/time"], params=OrgParams, summary="The server's time (epoch ms)")
def org_server_time(request: OrgRequest):
    return {"time": str(int(time.time() * 1000))}


@endpoint(["/updateSettings"], level=ASSET, params=SettingsUpdate, summary="Change the org's settings")
def org_update_settings(request: OrgRequest):
    values = {name: request.params[name] for name in org_finance.SETTING_FIELDS if request.present(name)}
    org_finance.update_org_settings(request.org_id, values, token=request.get("token_id"),
                                    target_token=request.get("target_token_id"),
                                    operation_id=request.operation_id())
    return shapes.org(catalog.org(request.org_id), org_finance.settings_view(request.org_id))
