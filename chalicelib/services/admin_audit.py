"""The admin audit log: one row per successful mutating admin call, searchable, never edited.

Rows are written either inside the effect's own transaction (`stage`, `run_once`), so the
effect and its row commit together, or right after the effect (`append`) when the service
does its own writes. docs/ADMIN_API.md lists which actions are which. Secrets in the
parameters (passwords, TOTP codes, secrets) are replaced by "***" before they are stored.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Optional

from chalicelib.domain.errors import InvalidParameter
from chalicelib.services import idempotency
from chalicelib.store import audit as store
from chalicelib.store.transaction import Transaction

_SECRET_WORDS = ("password", "secret", "totp", "ga_code", "csrf", "private")
REDACTED = "***"


# What one audit row records (the store's shape: nothing to translate).
Entry = store.AuditEntry


def now_ms() -> int:
    return int(time.time() * 1000)


def is_secret(name: str) -> bool:
    lowered = str(name).lower()
    return any(word in lowered for word in _SECRET_WORDS) or lowered in ("code", "pin")


def redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: (REDACTED if is_secret(k) and v not in (None, "") else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


def stage(tx: Transaction, entry: Entry) -> str:
    return store.stage(tx, entry, now_ms())


def append(entry: Entry) -> Optional[str]:
    return store.append(entry, now_ms())


def run_once(ctx, build: Callable[[Transaction], dict], payload: Optional[dict] = None) -> dict:
    """`build(tx)` and the call's audit row in one transaction, once per operation id."""
    def staged(tx: Transaction) -> dict:
        response = build(tx)
        stage(tx, ctx._entry(response))
        return response

    if not ctx.operation_id:
        tx = Transaction()
        response = staged(tx)
        tx.commit()
        return response
    if payload is None:
        payload = {k: v for k, v in redact(ctx.raw_params).items() if k != "operation_id"}
    return idempotency.run(f"admin:{ctx.org_id}:{ctx.action}", ctx.operation_id, payload, staged)


def search(org_id: str, *, admin_id: Optional[str] = None, action: Optional[str] = None,
           start_ms: Optional[int] = None, end_ms: Optional[int] = None, before_id: Optional[str] = None,
           limit: int = 50) -> dict:
    """Rows newest first with a cursor (`next_before_id`): a total would cost a full count."""
    try:
        cursor = int(before_id) if before_id else None
    except ValueError:
        raise InvalidParameter("before_id") from None
    limit = max(1, min(int(limit), 200))
    rows = store.search(org_id, admin_id=admin_id, action=action, start_ms=start_ms, end_ms=end_ms,
                        before_id=cursor, limit=limit)
    return {"list": rows, "next_before_id": rows[-1]["id"] if len(rows) == limit else None}
