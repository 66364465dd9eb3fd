"""The admin audit log: append-only rows, one per successful mutating admin call.

* row: `ADMINAUDIT#<org_id>` / `<id:020d>` (id time-ordered, so the sort key is time order);
  gsi1 `ADMINAUDIT#<org_id>#A#<admin_id>` / `<id:020d>` (by admin),
  gsi2 `ADMINAUDIT#<org_id>#N#<action>` / `<id:020d>` (by action).
* replay marker: `ADMINAUDITOP#<org_id>#<action>#<operation_id>` / `META`, written with the
  row when the call carried an operation id, so a replayed call adds no second row.

This module has no update and no delete: rows are put once with `attribute_not_exists`
and expire only by TTL (`AUDIT_RETENTION_DAYS`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Optional

from pynamodb.attributes import UnicodeAttribute

from chalicelib.domain.ids import first_id_at, new_id
from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity, Gsi1, Gsi2, padded
from chalicelib.store.transaction import Transaction

AUDIT_RETENTION_DAYS = 5 * 365
MAX_JSON = 64_000  # a row stays far below DynamoDB's 400 KB item limit


class AuditRecord(Entity):
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2 = Gsi2()
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    audit_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    admin_id = UnicodeAttribute()
    username = UnicodeAttribute(default="")
    action = UnicodeAttribute()
    source_ip = UnicodeAttribute(default="")
    target = UnicodeAttribute(default="")
    params = UnicodeAttribute(default="{}")
    before = UnicodeAttribute(default="null")
    after = UnicodeAttribute(default="null")
    operation_id = UnicodeAttribute(null=True)
    created_at = IntegerAttribute()


class AuditReplayMarker(Entity):
    audit_id = UnicodeAttribute()


@dataclass(frozen=True)
class AuditEntry:
    org_id: str
    admin_id: str
    username: str
    action: str
    source_ip: str
    target: str
    params: Any
    before: Any
    after: Any
    operation_id: Optional[str] = None


class AlreadyAudited(Exception):
    """The call with this operation id was audited before (a replay)."""


def _json_default(value: Any):
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _text(value: Any) -> str:
    text = json.dumps(value, default=_json_default, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return text if len(text) <= MAX_JSON else json.dumps({"truncated": text[:MAX_JSON]})


def stage(tx: Transaction, entry: AuditEntry, now_ms: int) -> str:
    """Stages the row (and its replay marker) on `tx`; answers the row's id."""
    audit_id = new_id()
    sk = padded(audit_id)
    if entry.operation_id:
        tx.put(AuditReplayMarker(f"ADMINAUDITOP#{entry.org_id}#{entry.action}#{entry.operation_id}", "META",
                                 audit_id=str(audit_id), expires_at=now_ms // 1000 + AUDIT_RETENTION_DAYS * 86400),
               AuditReplayMarker.pk.does_not_exist(), on_condition_failed=AlreadyAudited)
    tx.put(AuditRecord(
        f"ADMINAUDIT#{entry.org_id}", sk,
        gsi1pk=f"ADMINAUDIT#{entry.org_id}#A#{entry.admin_id}", gsi1sk=sk,
        gsi2pk=f"ADMINAUDIT#{entry.org_id}#N#{entry.action}", gsi2sk=sk,
        audit_id=str(audit_id), org_id=entry.org_id, admin_id=entry.admin_id, username=entry.username,
        action=entry.action, source_ip=entry.source_ip, target=str(entry.target or ""),
        params=_text(entry.params), before=_text(entry.before), after=_text(entry.after),
        operation_id=entry.operation_id, created_at=now_ms,
        expires_at=now_ms // 1000 + AUDIT_RETENTION_DAYS * 86400,
    ), AuditRecord.pk.does_not_exist())
    return str(audit_id)


def append(entry: AuditEntry, now_ms: int) -> Optional[str]:
    """Writes one row on its own; None when a replay of an audited operation id."""
    tx = Transaction()
    audit_id = stage(tx, entry, now_ms)
    try:
        tx.commit()
    except AlreadyAudited:
        return None
    return audit_id


def _view(record: AuditRecord) -> dict:
    return {"id": record.audit_id, "time": record.created_at, "admin_id": record.admin_id,
            "username": record.username, "action": record.action, "source_ip": record.source_ip,
            "target": record.target, "params": json.loads(record.params), "before": json.loads(record.before),
            "after": json.loads(record.after), "operation_id": record.operation_id}


def search(org_id: str, *, admin_id: Optional[str] = None, action: Optional[str] = None,
           start_ms: Optional[int] = None, end_ms: Optional[int] = None, before_id: Optional[int] = None,
           limit: int = 50) -> list[dict]:
    """Rows newest first; one filter key picks the partition, the other filters."""
    low = padded(first_id_at(start_ms)) if start_ms is not None else None
    high_ids = [i for i in (first_id_at(end_ms + 1) if end_ms is not None else None, before_id) if i is not None]
    high = padded(min(high_ids) - 1) if high_ids else None
    if admin_id:
        model, key, sk_attr = AuditRecord.gsi1, f"ADMINAUDIT#{org_id}#A#{admin_id}", AuditRecord.gsi1sk
    elif action:
        model, key, sk_attr = AuditRecord.gsi2, f"ADMINAUDIT#{org_id}#N#{action}", AuditRecord.gsi2sk
    else:
        model, key, sk_attr = AuditRecord, f"ADMINAUDIT#{org_id}", AuditRecord.sk
    if low and high:
        if low > high:
            return []
        condition = sk_attr.between(low, high)
    else:
        condition = (sk_attr >= low) if low else (sk_attr <= high) if high else None
    filter_condition = AuditRecord.action == action if admin_id and action else None
    kwargs = {"consistent_read": True} if model is AuditRecord else {}
    found: list[dict] = []
    for record in model.query(key, condition, filter_condition=filter_condition, scan_index_forward=False,
                              page_size=max(limit, 25), **kwargs):
        found.append(_view(record))
        if len(found) >= limit:
            break
    return found
