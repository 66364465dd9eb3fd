"""3.6 Operating statistics by day, hour or minute (`granularity`, with `start_time` and
`end_time` in ms; the default range is the last 30 buckets)."""
from __future__ import annotations

from typing import Optional

from pydantic import Field

import time

from chalicelib.api.org.http import OrgRequest, endpoint
from chalicelib.api.org.params import OrgParams, TimeMs, named
from chalicelib.services import statistics


class Window(OrgParams):
    granularity: Optional[str] = named("granularity", "interval", default=None,
                                       description="day (default), hour or minute")
    start_time: Optional[TimeMs] = None
    end_time: Optional[TimeMs] = None


class TokenWindow(Window):
    token_id: Optional[str] = Field(None, description="only this token")


class SymbolWindow(Window):
    symbol_id: Optional[str] = Field(None, description="only this symbol")


def _window(request: OrgRequest) -> dict:
    return {"granularity": request.text("granularity", "interval", default="day").strip().lower(),
            "start_ms": request.integer("start_time"), "end_ms": request.integer("end_time"),
            "now_ms": int(time.time() * 1000)}


@endpoint(["/statistics/user"], params=Window, summary="Registrations, logins and KYC per bucket")
def org_statistics_user(request: OrgRequest):
    return statistics.user_statistics(request.org_id, **_window(request))


@endpoint(["/statistics/token"], params=TokenWindow, summary="Deposits, withdrawals and holdings per token and bucket")
def org_statistics_token(request: OrgRequest):
    return statistics.token_statistics(request.org_id, token=request.get("token_id"), **_window(request))


@endpoint(["/statistics/symbol"], params=SymbolWindow, summary="Orders, cancels and trades per symbol and bucket")
def org_statistics_symbol(request: OrgRequest):
    return statistics.symbol_statistics(request.org_id, symbol=request.get("symbol_id"), **_window(request))
