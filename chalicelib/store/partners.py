"""Klip partners (card-minting accounts), their e-mail look-up, small numeric ids, and
the partner-token signing secret.

`PARTNER#<id>` / `META` (gsi1 `ORGPARTNERS#<org_id>` / id) holds the account: the scrypt
hash of the SHA-256 password digest and of the PIN digest, state, monthly mint count
(`mint_month`, `mint_count`) and a version every change is conditioned on.
`PARTNEREMAIL#<email>` / `META` makes e-mail addresses unique platform-wide (login names
no org). Partner ids are small integers (`KLIPSEQ#partner`), because the token's `Id`
and `nft_id` reach JavaScript clients as numbers.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Optional

from pynamodb.attributes import UnicodeAttribute

from chalicelib.domain.errors import ConcurrentUpdate, PartnerEmailTaken
from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity, Gsi1, padded
from chalicelib.store.transaction import Transaction

ACTIVE, PENDING = "active", "pending"
STATES = (ACTIVE, PENDING, "inactive", "suspended", "suspension_requested", "unsubscribed")


class PartnerRecord(Entity):
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    email = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    pin_hash = UnicodeAttribute()
    name = UnicodeAttribute()
    phone = UnicodeAttribute(default="")
    service_name = UnicodeAttribute(default="")
    state = UnicodeAttribute()
    klaytn_address = UnicodeAttribute()
    contract_address = UnicodeAttribute()
    mint_limit = IntegerAttribute()
    mint_month = UnicodeAttribute(default="")
    mint_count = IntegerAttribute(default=0)
    version = IntegerAttribute()
    created_at = IntegerAttribute()
    updated_at = IntegerAttribute()
    password_changed_at = IntegerAttribute()


class PartnerEmailRecord(Entity):
    partner_id = UnicodeAttribute()


class CounterRecord(Entity):
    value = IntegerAttribute(default=0)


class SecretRecord(Entity):
    ciphertext = UnicodeAttribute()


@dataclass(frozen=True)
class Partner:
    partner_id: str
    org_id: str
    email: str
    name: str
    phone: str
    service_name: str
    state: str
    klaytn_address: str
    contract_address: str
    mint_limit: int
    mint_month: str
    mint_count: int
    version: int
    created_at: int
    updated_at: int
    password_changed_at: int
    password_hash: str = field(default="", repr=False)
    pin_hash: str = field(default="", repr=False)


def now_ms() -> int:
    return int(time.time() * 1000)


def _key(partner_id: str) -> str:
    return f"PARTNER#{partner_id}"


def _email_key(email: str) -> str:
    return f"PARTNEREMAIL#{email.lower()}"


def _to_partner(r: PartnerRecord) -> Partner:
    return Partner(r.partner_id, r.org_id, r.email, r.name, r.phone or "", r.service_name or "", r.state,
                   r.klaytn_address, r.contract_address, r.mint_limit, r.mint_month or "", r.mint_count or 0,
                   r.version, r.created_at, r.updated_at, r.password_changed_at, r.password_hash, r.pin_hash)


def _record(p: Partner) -> PartnerRecord:
    return PartnerRecord(
        _key(p.partner_id), "META", gsi1pk=f"ORGPARTNERS#{p.org_id}", gsi1sk=padded(int(p.partner_id)),
        partner_id=p.partner_id, org_id=p.org_id, email=p.email, password_hash=p.password_hash, pin_hash=p.pin_hash,
        name=p.name, phone=p.phone, service_name=p.service_name, state=p.state, klaytn_address=p.klaytn_address,
        contract_address=p.contract_address, mint_limit=p.mint_limit, mint_month=p.mint_month,
        mint_count=p.mint_count, version=p.version, created_at=p.created_at, updated_at=p.updated_at,
        password_changed_at=p.password_changed_at)


def next_number(name: str) -> int:
    """The next value of a named counter (1, 2, ...): small ids for JavaScript clients."""
    record = CounterRecord(f"KLIPSEQ#{name}", "META")
    record.update(actions=[CounterRecord.value.add(1)])
    return record.value


def get(partner_id: str) -> Optional[Partner]:
    if not str(partner_id or "").isdigit():
        return None
    try:
        return _to_partner(PartnerRecord.get(_key(str(partner_id)), "META", consistent_read=True))
    except PartnerRecord.DoesNotExist:
        return None


def by_email(email: str) -> Optional[Partner]:
    try:
        partner_id = PartnerEmailRecord.get(_email_key(email), "META", consistent_read=True).partner_id
    except PartnerEmailRecord.DoesNotExist:
        return None
    return get(partner_id)


def for_org(org_id: str, limit: int = 100) -> list[Partner]:
    return [_to_partner(r) for r in PartnerRecord.gsi1.query(f"ORGPARTNERS#{org_id}", limit=limit)]


def stage_create(tx: Transaction, partner: Partner) -> None:
    tx.put(_record(partner), PartnerRecord.pk.does_not_exist(), on_condition_failed=ConcurrentUpdate)
    tx.put(PartnerEmailRecord(_email_key(partner.email), "META", partner_id=partner.partner_id),
           PartnerEmailRecord.pk.does_not_exist(), on_condition_failed=PartnerEmailTaken)


def stage_update(tx: Transaction, before: Partner, after: Partner) -> None:
    """Writes `after` if the stored version is still `before`'s (else ConcurrentUpdate)."""
    after = replace(after, version=before.version + 1, updated_at=now_ms())
    tx.put(_record(after), PartnerRecord.version == before.version, on_condition_failed=ConcurrentUpdate)


def update(before: Partner, after: Partner) -> Partner:
    tx = Transaction()
    stage_update(tx, before, after)
    tx.commit()
    return get(before.partner_id)


def get_secret(name: str) -> Optional[str]:
    try:
        return SecretRecord.get(f"KLIPSECRET#{name}", "META", consistent_read=True).ciphertext
    except SecretRecord.DoesNotExist:
        return None


def put_secret_once(name: str, ciphertext: str) -> str:
    """Stores the secret unless one exists; returns the stored one either way."""
    try:
        SecretRecord(f"KLIPSECRET#{name}", "META", ciphertext=ciphertext).save(SecretRecord.pk.does_not_exist())
    except Exception as error:  # PutError on a failed condition: another writer won
        if getattr(error, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
    return get_secret(name)
