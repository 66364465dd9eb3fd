"""Reports by day, hour or minute: users (registrations, logins, KYC), tokens (deposits,
withdrawals, holdings) and symbols (orders, volume, fees)."""
from __future__ import annotations

import time
from typing import Optional

from pydantic import Field

from chalicelib.api.admin.http import AdminContext, action
from chalicelib.api.admin.shapes import Window, token_field
from chalicelib.services import admin_reports


class TokenWindow(Window):
    token_id: Optional[str] = token_field(None)


class SymbolWindow(Window):
    symbol_id: Optional[str] = Field(None, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_]+$")


def _now() -> int:
    return int(time.time() * 1000)


@action("reports/users", permission="reports.read", params=Window, mutating=False,
        summary="Registrations, logins, KYC submissions, passes and rejections per bucket")
def users_report(ctx: AdminContext, p: Window):
    return {"list": admin_reports.report(ctx.org_id, "users", granularity=p.granularity, start_ms=p.start_time,
                                         end_ms=p.end_time, now_ms=_now())}


@action("reports/tokens", permission="reports.read", params=TokenWindow, mutating=False,
        summary="Deposits and withdrawals (count, amount), holders and holdings per token and bucket")
def tokens_report(ctx: AdminContext, p: TokenWindow):
    return {"list": admin_reports.report(ctx.org_id, "tokens", granularity=p.granularity, start_ms=p.start_time,
                                         end_ms=p.end_time, token=p.token_id, now_ms=_now())}


@action("reports/symbols", permission="reports.read", params=SymbolWindow, mutating=False,
        summary="Orders, cancels, executions (count, quantity, amount) and fees per symbol and bucket")
def symbols_report(ctx: AdminContext, p: SymbolWindow):
    return {"list": admin_reports.report(ctx.org_id, "symbols", granularity=p.granularity, start_ms=p.start_time,
                                         end_ms=p.end_time, symbol=p.symbol_id, now_ms=_now())}
