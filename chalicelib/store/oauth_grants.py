"""What a user's consent produces: authorization codes, token families, access and
refresh tokens, and the short consent-page login binding. Every credential is keyed by
its hash (`domain.oauth.credential_hash`), never stored as such.

* consent binding: `OAUTHCONSENT#<hash(page token)>` / `META`, TTL.
* code: `OAUTHCODE#<hash(code)>` / `META`; `used_at` and `family_id` are set by the exchange,
  with a condition, in the same transaction that creates the family and its tokens.
  Kept a day past its validity (TTL) so a replay is recognised and revokes the family.
* family (one consent of one user to one app, across refreshes):
  `OAUTHFAMILY#<family_id>` / `META`, gsi1 `OAUTHUSER#<uid>` / `<client_id>#<family_id>`.
* access token: `OAUTHTOKEN#<hash>` / `META`; refresh token: `OAUTHREFRESH#<hash>` / `META`
  (with the hash of the access token it was issued with, so a rotation ends that one).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import DeleteError, UpdateError

from chalicelib.domain.oauth_errors import OAuthInvalidGrant
from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity, Gsi1
from chalicelib.store.transaction import Transaction


class OAuthConsentRecord(Entity):
    uid = UnicodeAttribute()
    org_id = UnicodeAttribute()
    client_id = UnicodeAttribute()
    valid_until = IntegerAttribute()


class OAuthCodeRecord(Entity):
    client_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    uid = UnicodeAttribute()
    redirect_uri = UnicodeAttribute(null=True)
    scope = UnicodeAttribute()
    code_challenge = UnicodeAttribute(null=True)
    code_challenge_method = UnicodeAttribute(null=True)
    created_at = IntegerAttribute()
    valid_until = IntegerAttribute()
    used_at = IntegerAttribute(null=True)
    family_id = UnicodeAttribute(null=True)


class OAuthFamilyRecord(Entity):
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    family_id = UnicodeAttribute()
    client_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    uid = UnicodeAttribute()
    scope = UnicodeAttribute()
    authorized_at = IntegerAttribute()
    created_at = IntegerAttribute()
    ends_at = IntegerAttribute()
    revoked_at = IntegerAttribute(null=True)
    revoked_reason = UnicodeAttribute(null=True)


class OAuthAccessRecord(Entity):
    family_id = UnicodeAttribute()
    client_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    uid = UnicodeAttribute()
    scope = UnicodeAttribute()
    issued_at = IntegerAttribute()
    valid_until = IntegerAttribute()


class OAuthRefreshRecord(Entity):
    family_id = UnicodeAttribute()
    client_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    uid = UnicodeAttribute()
    scope = UnicodeAttribute()
    issued_at = IntegerAttribute()
    valid_until = IntegerAttribute()
    access_hash = UnicodeAttribute()
    used_at = IntegerAttribute(null=True)


@dataclass(frozen=True)
class Consent:
    token_hash: str
    uid: str
    org_id: str
    client_id: str
    valid_until: int


@dataclass(frozen=True)
class Code:
    code_hash: str
    client_id: str
    org_id: str
    uid: str
    redirect_uri: Optional[str]
    scope: str
    code_challenge: Optional[str]
    code_challenge_method: Optional[str]
    created_at: int
    valid_until: int
    used_at: Optional[int] = None
    family_id: Optional[str] = None


@dataclass(frozen=True)
class Family:
    family_id: str
    client_id: str
    org_id: str
    uid: str
    scope: str
    authorized_at: int
    created_at: int
    ends_at: int
    revoked_at: Optional[int] = None
    revoked_reason: Optional[str] = None


@dataclass(frozen=True)
class Token:
    """An access token (`access_hash` empty) or a refresh token."""

    token_hash: str
    family_id: str
    client_id: str
    org_id: str
    uid: str
    scope: str
    issued_at: int
    valid_until: int
    access_hash: str = ""
    used_at: Optional[int] = None


def now_ms() -> int:
    return int(time.time() * 1000)


def _ttl(valid_until_ms: int, grace_seconds: int = 3600) -> int:
    return valid_until_ms // 1000 + grace_seconds


def _failed_condition(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


# --- consent-page login binding --------------------------------------------------------------------

def put_consent(consent: Consent) -> None:
    OAuthConsentRecord(f"OAUTHCONSENT#{consent.token_hash}", "META", uid=consent.uid, org_id=consent.org_id,
                       client_id=consent.client_id, valid_until=consent.valid_until,
                       expires_at=_ttl(consent.valid_until)).save()


def get_consent(token_hash: str) -> Optional[Consent]:
    try:
        r = OAuthConsentRecord.get(f"OAUTHCONSENT#{token_hash}", "META", consistent_read=True)
    except OAuthConsentRecord.DoesNotExist:
        return None
    return Consent(token_hash, r.uid, r.org_id, r.client_id, r.valid_until)


def delete_consent(token_hash: str) -> None:
    try:
        OAuthConsentRecord(f"OAUTHCONSENT#{token_hash}", "META").delete()
    except DeleteError:
        pass


# --- codes ---------------------------------------------------------------------------------------------

def put_code(code: Code, keep_seconds: int) -> None:
    OAuthCodeRecord(f"OAUTHCODE#{code.code_hash}", "META", client_id=code.client_id, org_id=code.org_id,
                    uid=code.uid, redirect_uri=code.redirect_uri, scope=code.scope,
                    code_challenge=code.code_challenge, code_challenge_method=code.code_challenge_method,
                    created_at=code.created_at, valid_until=code.valid_until,
                    expires_at=_ttl(code.valid_until, keep_seconds)).save(condition=OAuthCodeRecord.pk.does_not_exist())


def get_code(code_hash: str) -> Optional[Code]:
    try:
        r = OAuthCodeRecord.get(f"OAUTHCODE#{code_hash}", "META", consistent_read=True)
    except OAuthCodeRecord.DoesNotExist:
        return None
    return Code(code_hash, r.client_id, r.org_id, r.uid, r.redirect_uri, r.scope, r.code_challenge,
                r.code_challenge_method, r.created_at, r.valid_until, r.used_at, r.family_id)


# --- families and tokens ---------------------------------------------------------------------------------

def _stage_family(tx: Transaction, f: Family) -> None:
    tx.put(OAuthFamilyRecord(
        f"OAUTHFAMILY#{f.family_id}", "META", gsi1pk=f"OAUTHUSER#{f.uid}", gsi1sk=f"{f.client_id}#{f.family_id}",
        family_id=f.family_id, client_id=f.client_id, org_id=f.org_id, uid=f.uid, scope=f.scope,
        authorized_at=f.authorized_at, created_at=f.created_at, ends_at=f.ends_at, expires_at=_ttl(f.ends_at)),
        OAuthFamilyRecord.pk.does_not_exist())


def _stage_tokens(tx: Transaction, access: Token, refresh: Optional[Token]) -> None:
    tx.put(OAuthAccessRecord(
        f"OAUTHTOKEN#{access.token_hash}", "META", family_id=access.family_id, client_id=access.client_id,
        org_id=access.org_id, uid=access.uid, scope=access.scope, issued_at=access.issued_at,
        valid_until=access.valid_until, expires_at=_ttl(access.valid_until)), OAuthAccessRecord.pk.does_not_exist())
    if refresh is not None:
        tx.put(OAuthRefreshRecord(
            f"OAUTHREFRESH#{refresh.token_hash}", "META", family_id=refresh.family_id, client_id=refresh.client_id,
            org_id=refresh.org_id, uid=refresh.uid, scope=refresh.scope, issued_at=refresh.issued_at,
            valid_until=refresh.valid_until, access_hash=access.token_hash, expires_at=_ttl(refresh.valid_until)),
            OAuthRefreshRecord.pk.does_not_exist())


class CredentialAlreadyUsed(OAuthInvalidGrant):
    """The code or refresh token was used by a concurrent request first."""


def exchange_code(code: Code, family: Family, access: Token, refresh: Optional[Token], used_at: int) -> None:
    """Marks the code used and creates the family and its first tokens, all or nothing."""
    tx = Transaction()
    tx.update(OAuthCodeRecord(f"OAUTHCODE#{code.code_hash}", "META"),
              [OAuthCodeRecord.used_at.set(used_at), OAuthCodeRecord.family_id.set(family.family_id)],
              OAuthCodeRecord.pk.exists() & OAuthCodeRecord.used_at.does_not_exist(),
              on_condition_failed=CredentialAlreadyUsed("The authorization code was already used"))
    _stage_family(tx, family)
    _stage_tokens(tx, access, refresh)
    tx.commit()


def rotate(old: Token, access: Token, refresh: Token, used_at: int) -> None:
    """Uses up a refresh token and issues its successors in the same (still live) family;
    the access token issued with the old refresh token ends with it."""
    tx = Transaction()
    tx.update(OAuthRefreshRecord(f"OAUTHREFRESH#{old.token_hash}", "META"), [OAuthRefreshRecord.used_at.set(used_at)],
              OAuthRefreshRecord.pk.exists() & OAuthRefreshRecord.used_at.does_not_exist(),
              on_condition_failed=CredentialAlreadyUsed("The refresh token was already used"))
    tx.check(OAuthFamilyRecord, f"OAUTHFAMILY#{old.family_id}", "META",
             OAuthFamilyRecord.pk.exists() & OAuthFamilyRecord.revoked_at.does_not_exist(),
             on_condition_failed=OAuthInvalidGrant("The grant was revoked"))
    if old.access_hash:
        tx.delete(OAuthAccessRecord(f"OAUTHTOKEN#{old.access_hash}", "META"))
    _stage_tokens(tx, access, refresh)
    tx.commit()


def _to_family(r: OAuthFamilyRecord) -> Family:
    return Family(r.family_id, r.client_id, r.org_id, r.uid, r.scope, r.authorized_at, r.created_at, r.ends_at,
                  r.revoked_at, r.revoked_reason)


def get_family(family_id: str) -> Optional[Family]:
    try:
        return _to_family(OAuthFamilyRecord.get(f"OAUTHFAMILY#{family_id}", "META", consistent_read=True))
    except OAuthFamilyRecord.DoesNotExist:
        return None


def families_of(uid: str, client_id: Optional[str] = None) -> list[Family]:
    condition = OAuthFamilyRecord.gsi1sk.startswith(f"{client_id}#") if client_id else None
    return [_to_family(r) for r in OAuthFamilyRecord.gsi1.query(f"OAUTHUSER#{uid}", condition)]


def revoke_family(family_id: str, reason: str, at: int) -> bool:
    """True if this call revoked it (False: already revoked or gone)."""
    try:
        OAuthFamilyRecord(f"OAUTHFAMILY#{family_id}", "META").update(
            actions=[OAuthFamilyRecord.revoked_at.set(at), OAuthFamilyRecord.revoked_reason.set(reason)],
            condition=OAuthFamilyRecord.pk.exists() & OAuthFamilyRecord.revoked_at.does_not_exist())
    except UpdateError as error:
        if _failed_condition(error):
            return False
        raise
    return True


def get_access(token_hash: str) -> Optional[Token]:
    try:
        r = OAuthAccessRecord.get(f"OAUTHTOKEN#{token_hash}", "META", consistent_read=True)
    except OAuthAccessRecord.DoesNotExist:
        return None
    return Token(token_hash, r.family_id, r.client_id, r.org_id, r.uid, r.scope, r.issued_at, r.valid_until)


def get_refresh(token_hash: str) -> Optional[Token]:
    try:
        r = OAuthRefreshRecord.get(f"OAUTHREFRESH#{token_hash}", "META", consistent_read=True)
    except OAuthRefreshRecord.DoesNotExist:
        return None
    return Token(token_hash, r.family_id, r.client_id, r.org_id, r.uid, r.scope, r.issued_at, r.valid_until,
                 r.access_hash, r.used_at)
