"""Back-office reports by day, hour or minute (UTC buckets, `time` = bucket start in ms).

Counts come from the Org API's statistics projector (services/statistics.py), which
already counts every org event once into buckets; nothing is counted twice here:

* users: registrations, logins, KYC submissions, passes and rejections;
* tokens: deposits credited and withdrawals that succeeded (count and amount), net
  balance change of users, holders and holdings;
* symbols: orders, cancels and executions of the org's users (count, quantity, amount),
  plus the fees the org earned on the symbol, read from its fee accounts' flows (the
  ledger is where fees are recorded; their flows name the symbol), per fee token.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Optional

from chalicelib.domain import money
from chalicelib.domain.errors import InvalidParameter
from chalicelib.services import admin_finance, statistics

SUBJECTS = ("users", "tokens", "symbols")


def report(org_id: str, subject: str, *, granularity: str, start_ms: Optional[int] = None,
           end_ms: Optional[int] = None, token: Optional[str] = None, symbol: Optional[str] = None,
           now_ms: int) -> list[dict]:
    window = {"granularity": granularity, "start_ms": start_ms, "end_ms": end_ms, "now_ms": now_ms}
    if subject == "users":
        return statistics.user_statistics(org_id, **window)
    if subject == "tokens":
        return statistics.token_statistics(org_id, token=token, **window)
    if subject == "symbols":
        rows = statistics.symbol_statistics(org_id, symbol=symbol, **window)
        return _with_fees(org_id, rows, **window)
    raise InvalidParameter("subject", f"subject is one of {', '.join(SUBJECTS)}")


def _with_fees(org_id: str, rows: list[dict], **window) -> list[dict]:
    fees: dict[tuple[int, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in admin_finance.fee_income(org_id, **window):
        fees[(row["time"], row["source"])][row["token_id"]] += Decimal(row["amount"])
    return [{**row, "fees": {tok: money.text(amount)
                             for tok, amount in sorted(fees.get((row["time"], row["symbol_id"]), {}).items())}}
            for row in rows]
