"""An org's back-office admins: `ORGADMIN#<org_id>` / `<username>`.

One partition per org: the username is unique by being the sort key (conditional put),
and listing an org's few admins is one strongly consistent query.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

from pynamodb.attributes import BooleanAttribute, ListAttribute, UnicodeAttribute

from chalicelib.domain.errors import AdminUsernameTaken, NotFound
from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity
from chalicelib.store.transaction import Transaction


class AdminRecord(Entity):
    admin_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    username = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    roles = ListAttribute(of=UnicodeAttribute, default=list)
    totp_secret = UnicodeAttribute(null=True)  # KMS ciphertext, never the secret itself
    totp_pending = UnicodeAttribute(null=True)  # KMS ciphertext of a secret being bound, until confirmed
    totp_last_step = IntegerAttribute(null=True)  # a TOTP code works once: steps up to this are spent
    enabled = BooleanAttribute(default=True)
    created_at = IntegerAttribute()
    updated_at = IntegerAttribute()
    password_changed_at = IntegerAttribute()


@dataclass(frozen=True)
class Admin:
    admin_id: str
    org_id: str
    username: str
    roles: tuple[str, ...]
    enabled: bool
    created_at: int
    updated_at: int
    password_changed_at: int
    password_hash: str = field(default="", repr=False)
    totp_secret_ciphertext: Optional[str] = field(default=None, repr=False)
    totp_pending_ciphertext: Optional[str] = field(default=None, repr=False, compare=False)

    @property
    def has_totp(self) -> bool:
        return bool(self.totp_secret_ciphertext)


_FIELDS = {"password_hash": "password_hash", "roles": "roles", "enabled": "enabled",
           "totp_secret_ciphertext": "totp_secret", "password_changed_at": "password_changed_at",
           "totp_pending_ciphertext": "totp_pending", "totp_last_step": "totp_last_step"}


def now_ms() -> int:
    return int(time.time() * 1000)


def _partition(org_id: str) -> str:
    return f"ORGADMIN#{org_id}"


def _to_admin(record: AdminRecord) -> Admin:
    return Admin(record.admin_id, record.org_id, record.username, tuple(record.roles or ()), record.enabled,
                 record.created_at, record.updated_at, record.password_changed_at, record.password_hash,
                 record.totp_secret, record.totp_pending)


def stage_create(tx: Transaction, admin: Admin) -> None:
    tx.put(AdminRecord(
        _partition(admin.org_id), admin.username, admin_id=admin.admin_id, org_id=admin.org_id,
        username=admin.username, password_hash=admin.password_hash, roles=list(admin.roles),
        totp_secret=admin.totp_secret_ciphertext, enabled=admin.enabled, created_at=admin.created_at,
        updated_at=admin.updated_at, password_changed_at=admin.password_changed_at,
    ), AdminRecord.pk.does_not_exist(), on_condition_failed=AdminUsernameTaken)


def get(org_id: str, username: str) -> Optional[Admin]:
    try:
        return _to_admin(AdminRecord.get(_partition(org_id), username, consistent_read=True))
    except AdminRecord.DoesNotExist:
        return None


def for_org(org_id: str) -> list[Admin]:
    return [_to_admin(record) for record in AdminRecord.query(_partition(org_id), consistent_read=True)]


def spend_totp_step(org_id: str, username: str, step: int) -> bool:
    """Marks a TOTP step as used; False when it (or a later one) was used already."""
    record = AdminRecord(_partition(org_id), username)
    try:
        record.update(actions=[AdminRecord.totp_last_step.set(step)],
                      condition=AdminRecord.pk.exists() & (AdminRecord.totp_last_step.does_not_exist()
                                                           | (AdminRecord.totp_last_step < step)))
    except Exception as error:  # pynamodb UpdateError on a failed condition
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def update(org_id: str, username: str, **changes) -> Admin:
    """Sets the named fields (None removes one); NotFound if there is no such admin."""
    actions = [AdminRecord.updated_at.set(now_ms())]
    for name, value in changes.items():
        attribute = getattr(AdminRecord, _FIELDS[name])
        actions.append(attribute.remove() if value is None else attribute.set(value))
    record = AdminRecord(_partition(org_id), username)
    try:
        record.update(actions=actions, condition=AdminRecord.pk.exists())
    except Exception as error:  # pynamodb UpdateError on a failed condition
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise NotFound("Admin not found") from None
        raise
    return _to_admin(record)
