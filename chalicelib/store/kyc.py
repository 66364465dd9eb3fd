"""KYC applications: one current application per user, changed with a version check.

`KYC#<uid>` / `META` holds the latest application (its level, status, what was
submitted, the review outcome); gsi1 `KYCPENDING#<org_id>` / `<submitted_at:020d>#<uid>`
lists applications waiting for review, oldest first (the attribute is removed once
reviewed, so the index holds pending ones only). The card number is stored as KMS
ciphertext plus a masked form for display.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Iterator, Optional

from pynamodb.attributes import UnicodeAttribute

from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity, Gsi1, padded
from chalicelib.store.transaction import Transaction

NONE, PENDING, PASSED, REJECTED = 0, 1, 2, 3  # BHOP verify_status


class KycRecord(Entity):
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    uid = UnicodeAttribute()
    org_id = UnicodeAttribute()
    level = IntegerAttribute()
    status = IntegerAttribute()
    basic = UnicodeAttribute(default="{}")
    card_no_ciphertext = UnicodeAttribute(null=True)
    documents = UnicodeAttribute(default="{}")
    reason = UnicodeAttribute(null=True)
    reviewed_by = UnicodeAttribute(null=True)
    submitted_at = IntegerAttribute()
    reviewed_at = IntegerAttribute(null=True)
    version = IntegerAttribute()


@dataclass(frozen=True)
class Application:
    uid: str
    org_id: str
    level: int
    status: int
    basic: dict = field(default_factory=dict)
    card_no_ciphertext: Optional[str] = field(default=None, repr=False)
    documents: dict = field(default_factory=dict)
    reason: Optional[str] = None
    reviewed_by: Optional[str] = None
    submitted_at: int = 0
    reviewed_at: Optional[int] = None
    version: int = 0


def now_ms() -> int:
    return int(time.time() * 1000)


def _to_application(r: KycRecord) -> Application:
    return Application(r.uid, r.org_id, r.level, r.status, json.loads(r.basic or "{}"), r.card_no_ciphertext,
                       json.loads(r.documents or "{}"), r.reason, r.reviewed_by, r.submitted_at, r.reviewed_at,
                       r.version)


def get(uid: str) -> Optional[Application]:
    try:
        return _to_application(KycRecord.get(f"KYC#{uid}", "META", consistent_read=True))
    except KycRecord.DoesNotExist:
        return None


def stage_save(tx: Transaction, application: Application, expected_version: int) -> None:
    """Writes the application if its stored version is still `expected_version` (0: none)."""
    pending = application.status == PENDING
    record = KycRecord(
        f"KYC#{application.uid}", "META",
        gsi1pk=f"KYCPENDING#{application.org_id}" if pending else None,
        gsi1sk=f"{padded(application.submitted_at)}#{application.uid}" if pending else None,
        uid=application.uid, org_id=application.org_id, level=application.level, status=application.status,
        basic=json.dumps(application.basic, separators=(",", ":"), sort_keys=True),
        card_no_ciphertext=application.card_no_ciphertext,
        documents=json.dumps(application.documents, separators=(",", ":"), sort_keys=True),
        reason=application.reason, reviewed_by=application.reviewed_by, submitted_at=application.submitted_at,
        reviewed_at=application.reviewed_at, version=application.version)
    condition = KycRecord.pk.does_not_exist() if expected_version == 0 else KycRecord.version == expected_version
    tx.put(record, condition, on_condition_failed=ConcurrentUpdate)


def pending(org_id: str, *, after_sort_key: Optional[str] = None, limit: int = 100) -> Iterator[Application]:
    condition = KycRecord.gsi1sk > after_sort_key if after_sort_key else None
    for record in KycRecord.gsi1.query(f"KYCPENDING#{org_id}", condition, limit=limit):
        yield _to_application(record)
