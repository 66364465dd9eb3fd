"""Proof of liabilities for operators: the published roots with what to compare them to
(system accounts, what custody should hold, how far the snapshot was from a cut), their
history, and an unscheduled recompute (docs/PROOF_OF_LIABILITIES.md).

A recompute takes no operation id: its only effect is one more snapshot root, and a
repeated call publishing another root is the intended outcome, not a double effect.
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from chalicelib.api.admin.http import AdminContext, action
from chalicelib.api.admin.shapes import Params
from chalicelib.domain import merkle
from chalicelib.services import liabilities


class RootsParams(Params):
    scope: Literal["latest", "history"] = Field("latest", description="latest root per token, or every root")
    token_id: Optional[str] = Field(None, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_]+$")
    before_id: Optional[int] = Field(None, ge=1, description="history: roots older than this root id")
    limit: int = Field(50, ge=1, le=200)


def report_row(report: liabilities.Report) -> dict:
    root = report.root
    return {
        "root_id": str(root.root_id), "token_id": root.token, "root_hash": root.root_hash,
        "user_liabilities": merkle.amount_text(root.total), "leaf_count": root.leaf_count,
        "created_at": root.created_at, "snapshot_started_at": root.scan_started_at,
        "snapshot_finished_at": root.scan_finished_at, "system_accounts": root.system_totals,
        "custody_should_hold": liabilities.signed_text(report.custody_should_hold),
        "scan_drift": liabilities.signed_text(report.scan_drift), "excluded_negative": root.excluded,
    }


@action("liabilities/roots", permission="finance.read", params=RootsParams, mutating=False,
        summary="Proof-of-liabilities roots with system-account totals, latest per token or the history")
def roots(ctx: AdminContext, p: RootsParams):
    token = p.token_id.upper() if p.token_id else None
    if p.scope == "latest":
        found = [r for r in liabilities.latest_roots(ctx.org_id) if token is None or r.token == token]
        return {"list": [report_row(r) for r in liabilities.reports(ctx.org_id, found)], "next_before_id": None}
    found = liabilities.history(ctx.org_id, token=token, before_id=p.before_id, limit=p.limit)
    rows = [report_row(r) for r in liabilities.reports(ctx.org_id, found)]
    return {"list": rows, "next_before_id": rows[-1]["root_id"] if len(rows) >= p.limit else None}


@action("liabilities/recompute", permission="finance.write", mutating=True,
        summary="Snapshot the org's balances now and publish a fresh root per token")
def recompute(ctx: AdminContext, p: None):
    published = liabilities.recompute(ctx.org_id)
    ctx.audit(target="liabilities", before=None,
              after={root.token: str(root.root_id) for root in published})
    return {"list": [report_row(r) for r in liabilities.reports(ctx.org_id, published)]}
