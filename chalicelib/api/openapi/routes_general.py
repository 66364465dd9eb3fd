"""General endpoints: ping, time, brokerInfo, pairs (public; the broker comes from the Host)."""
from __future__ import annotations

import time
from typing import Optional

from pydantic import Field

from chalicelib.api.openapi import wire
from chalicelib.api.openapi.auth import public_org
from chalicelib.api.openapi.http import BhexParams, NoParams, endpoint, request, request_params
from chalicelib.auth import rate_limits
from chalicelib.services import catalog

BROKER_INFO_TYPES = ("TOKEN", "OPTIONS", "CONTRACTS", "MARGIN")


class BrokerInfoQuery(BhexParams):
    # free text checked by the view: the accepted names in any case
    type: Optional[str] = Field(None, max_length=16,
                                description="only this list (and the tokens): TOKEN, OPTIONS, CONTRACTS or MARGIN")


@endpoint(["/openapi/v1/ping", "/openapi/ping", "/ping", "/openapi/quote/v1/ping"], params=NoParams,
          summary="Check the server answers")
def ping():
    return {}


@endpoint(["/openapi/v1/time", "/openapi/time", "/time", "/openapi/quote/v1/time"], params=NoParams,
          summary="The server's time")
def server_time():
    # The only place BHEX writes a time as a JSON number on the OpenAPI server.
    return {"serverTime": int(time.time() * 1000)}


@endpoint(["/openapi/v1/brokerInfo", "/openapi/brokerInfo"], params=BrokerInfoQuery,
          summary="The broker's symbols, tokens, filters and rate limits")
def broker_info():
    params = request_params()
    kind = params.text("type").upper()
    if kind and kind not in BROKER_INFO_TYPES:
        raise wire.invalid("type")
    org = catalog.org(public_org(request()))
    listed = [listing for listing in org.symbols.values() if not listing.hide_from_openapi]
    body = {
        "timezone": "UTC",
        "serverTime": str(int(time.time() * 1000)),
        "brokerFilters": [],
        "rateLimits": rate_limits.advertised(rate_limits.level_of(org.settings)),
    }
    if kind in ("", "TOKEN"):
        body["symbols"] = [wire.symbol_info(listing) for listing in sorted(listed, key=lambda l: l.symbol)]
    if kind in ("", "OPTIONS"):
        body["options"] = []
    if kind in ("", "CONTRACTS"):
        body["contracts"] = []
    if kind == "MARGIN":
        body["symbols"] = []  # no margin trading: no symbol allows it
    body["tokens"] = [wire.token_info(org.org_id, token) for _, token in sorted(org.tokens.items())]
    return body


@endpoint(["/openapi/v1/pairs", "/openapi/pairs"], params=NoParams, summary="The broker's trading pairs")
def pairs():
    org = catalog.org(public_org(request()))
    return [{"symbol": listing.symbol, "quoteToken": listing.rules.quote_asset, "baseToken": listing.rules.base_asset}
            for _, listing in sorted(org.symbols.items()) if not listing.hide_from_openapi]
