"""An org's admin IP whitelist: `ADMINIPWL#<org_id>` / `<address or CIDR>`.

One small partition per org, read with one strongly consistent query per admin call.
"""
from __future__ import annotations

import time
from typing import Optional

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import DeleteError

from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity


class WhitelistRecord(Entity):
    network = UnicodeAttribute()
    note = UnicodeAttribute(default="")
    created_by = UnicodeAttribute(default="")
    created_at = IntegerAttribute()


def _partition(org_id: str) -> str:
    return f"ADMINIPWL#{org_id}"


def entries(org_id: str) -> list[dict]:
    return [{"network": r.network, "note": r.note, "created_by": r.created_by, "created_at": r.created_at}
            for r in WhitelistRecord.query(_partition(org_id), consistent_read=True)]


def add(org_id: str, network: str, note: str, created_by: str) -> dict:
    now = int(time.time() * 1000)
    WhitelistRecord(_partition(org_id), network, network=network, note=note, created_by=created_by,
                    created_at=now).save()
    return {"network": network, "note": note, "created_by": created_by, "created_at": now}


def get(org_id: str, network: str) -> Optional[dict]:
    try:
        r = WhitelistRecord.get(_partition(org_id), network, consistent_read=True)
    except WhitelistRecord.DoesNotExist:
        return None
    return {"network": r.network, "note": r.note, "created_by": r.created_by, "created_at": r.created_at}


def remove(org_id: str, network: str) -> bool:
    try:
        WhitelistRecord(_partition(org_id), network).delete(condition=WhitelistRecord.pk.exists())
    except DeleteError as error:
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True
