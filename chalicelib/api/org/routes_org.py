"""3.1 The org itself: its description, what it lists, its settings."""
from __future__ import annotations

import time

from chalicelib.api.org import shapes
from chalicelib.api.org.http import ASSET, OrgRequest, endpoint
from chalicelib.services import catalog, org_finance


@endpoint(["/getInfo"])
def org_get_info(request: OrgRequest):
    return shapes.org(catalog.org(request.org_id), org_finance.settings_view(request.org_id))


@endpoint(["/getTokens", "/basic/tokens"])
def org_get_tokens(request: OrgRequest):
    org = catalog.org(request.org_id)
    wanted = request.get("token_id")
    tokens = [t for name, t in sorted(org.tokens.items()) if not wanted or name == wanted]
    return shapes.listing(request.list_type(), tokens, lambda t: t.token_id, lambda t: shapes.token(org, t))


@endpoint(["/getSymbols", "/basic/symbols"])
def org_get_symbols(request: OrgRequest):
    org = catalog.org(request.org_id)
    wanted = request.get("symbol_id")
    symbols = [s for name, s in sorted(org.symbols.items()) if not wanted or name == wanted]
    return shapes.listing(request.list_type(), symbols, lambda s: s.symbol, lambda s: shapes.symbol(org, s))


@endpoint(["/basic/time"])
def org_server_time(request: OrgRequest):
    return {"time": str(int(time.time() * 1000))}


@endpoint(["/updateSettings"], level=ASSET)
def org_update_settings(request: OrgRequest):
    values = {name: request.params[name] for name in org_finance.SETTING_FIELDS if request.present(name)}
    org_finance.update_org_settings(request.org_id, values, token=request.get("token_id"),
                                    target_token=request.get("target_token_id"),
                                    operation_id=request.operation_id())
    return shapes.org(catalog.org(request.org_id), org_finance.settings_view(request.org_id))
