"""3.6 Operating statistics by day, hour or minute (`granularity`, with `start_time` and
`end_time` in ms; the default range is the last 30 buckets)."""
from __future__ import annotations

import time

from chalicelib.api.org.http import OrgRequest, endpoint
from chalicelib.services import statistics


def _window(request: OrgRequest) -> dict:
    return {"granularity": request.text("granularity", "interval", default="day").strip().lower(),
            "start_ms": request.integer("start_time"), "end_ms": request.integer("end_time"),
            "now_ms": int(time.time() * 1000)}


@endpoint(["/statistics/user"])
def org_statistics_user(request: OrgRequest):
    return statistics.user_statistics(request.org_id, **_window(request))


@endpoint(["/statistics/token"])
def org_statistics_token(request: OrgRequest):
    return statistics.token_statistics(request.org_id, token=request.get("token_id"), **_window(request))


@endpoint(["/statistics/symbol"])
def org_statistics_symbol(request: OrgRequest):
    return statistics.symbol_statistics(request.org_id, symbol=request.get("symbol_id"), **_window(request))
