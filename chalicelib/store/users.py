"""Users of an org, and the look-up items that make email, mobile and invite code unique.

A user is `USER#<uid>` / `META` (gsi1 `ORGUSERS#<org_id>` / uid, for listings). Each
unique attribute has its own look-up item, written with a does-not-exist condition in
the same transaction as the user, so two registrations can never share one.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from chalicelib.domain.errors import (
    ConcurrentUpdate,
    EmailAlreadyRegistered,
    NotFound,
    PhoneAlreadyRegistered,
)
from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.catalog import OrgRecord, org_key
from chalicelib.store.table import Entity, Gsi1, padded
from chalicelib.store.transaction import Transaction


class UserRecord(Entity):
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    uid = UnicodeAttribute()
    org_id = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    national_code = UnicodeAttribute(null=True)
    mobile = UnicodeAttribute(null=True)
    kyc_level = IntegerAttribute(default=0)
    login_frozen = BooleanAttribute(default=False)
    trade_frozen = BooleanAttribute(default=False)
    withdraw_frozen = BooleanAttribute(default=False)
    invite_code = UnicodeAttribute()
    inviter_uid = UnicodeAttribute(null=True)
    password_hash = UnicodeAttribute(null=True)
    trade_password_hash = UnicodeAttribute(null=True)
    ga_secret = UnicodeAttribute(null=True)  # KMS ciphertext, never the secret itself
    anti_phishing_code = UnicodeAttribute(null=True)
    main_account_id = UnicodeAttribute()
    created_at = IntegerAttribute()
    updated_at = IntegerAttribute()
    password_changed_at = IntegerAttribute(null=True)


class UserLookupRecord(Entity):
    """One unique value of a user (email, mobile, invite code) -> its uid."""

    uid = UnicodeAttribute()


@dataclass(frozen=True)
class User:
    uid: str
    org_id: str
    email: Optional[str]
    national_code: Optional[str]
    mobile: Optional[str]
    kyc_level: int
    login_frozen: bool
    trade_frozen: bool
    withdraw_frozen: bool
    invite_code: str
    inviter_uid: Optional[str]
    main_account_id: str
    anti_phishing_code: Optional[str]
    created_at: int
    updated_at: int
    password_changed_at: Optional[int] = None
    password_hash: Optional[str] = field(default=None, repr=False)
    trade_password_hash: Optional[str] = field(default=None, repr=False)
    ga_secret_ciphertext: Optional[str] = field(default=None, repr=False)

    @property
    def phone(self) -> Optional[str]:
        return f"{self.national_code}-{self.mobile}" if self.mobile else None

    @property
    def has_trade_password(self) -> bool:
        return bool(self.trade_password_hash)

    @property
    def has_ga(self) -> bool:
        return bool(self.ga_secret_ciphertext)


# Service-level names of updatable fields -> record attributes.
_FIELDS = {
    "kyc_level": "kyc_level", "login_frozen": "login_frozen", "trade_frozen": "trade_frozen",
    "withdraw_frozen": "withdraw_frozen", "password_hash": "password_hash",
    "trade_password_hash": "trade_password_hash", "ga_secret_ciphertext": "ga_secret",
    "anti_phishing_code": "anti_phishing_code", "password_changed_at": "password_changed_at",
}


def now_ms() -> int:
    return int(time.time() * 1000)


def _user_key(uid: str) -> str:
    return f"USER#{uid}"


def email_key(org_id: str, email: str) -> str:
    return f"USEREMAIL#{org_id}#{email}"


def phone_key(org_id: str, national_code: str, mobile: str) -> str:
    return f"USERPHONE#{org_id}#{national_code}-{mobile}"


def invite_key(org_id: str, code: str) -> str:
    return f"INVITE#{org_id}#{code}"


def _to_user(record: UserRecord) -> User:
    return User(
        record.uid, record.org_id, record.email, record.national_code, record.mobile, record.kyc_level,
        record.login_frozen, record.trade_frozen, record.withdraw_frozen, record.invite_code,
        record.inviter_uid, record.main_account_id, record.anti_phishing_code, record.created_at,
        record.updated_at, record.password_changed_at, record.password_hash, record.trade_password_hash,
        record.ga_secret,
    )


def stage_org_exists(tx: Transaction, org_id: str) -> None:
    """Whatever belongs to an org is written only while the org exists."""
    tx.check(OrgRecord, org_key(org_id), "META", OrgRecord.pk.exists(),
             on_condition_failed=NotFound(f"Org '{org_id}' does not exist"))


def _stage_lookup(tx: Transaction, key: str, uid: str, failure) -> None:
    tx.put(UserLookupRecord(key, "META", uid=uid), UserLookupRecord.pk.does_not_exist(),
           on_condition_failed=failure)


def stage_create(tx: Transaction, user: User) -> None:
    """The user and its look-up items; a taken invite code asks the caller to retry."""
    tx.put(UserRecord(
        _user_key(user.uid), "META", gsi1pk=f"ORGUSERS#{user.org_id}", gsi1sk=padded(int(user.uid)),
        uid=user.uid, org_id=user.org_id, email=user.email, national_code=user.national_code,
        mobile=user.mobile, kyc_level=user.kyc_level, login_frozen=user.login_frozen,
        trade_frozen=user.trade_frozen, withdraw_frozen=user.withdraw_frozen, invite_code=user.invite_code,
        inviter_uid=user.inviter_uid, password_hash=user.password_hash,
        trade_password_hash=user.trade_password_hash, ga_secret=user.ga_secret_ciphertext,
        anti_phishing_code=user.anti_phishing_code, main_account_id=user.main_account_id,
        created_at=user.created_at, updated_at=user.updated_at, password_changed_at=user.password_changed_at,
    ), UserRecord.pk.does_not_exist(), on_condition_failed=ConcurrentUpdate)
    if user.email:
        _stage_lookup(tx, email_key(user.org_id, user.email), user.uid, EmailAlreadyRegistered)
    if user.mobile:
        _stage_lookup(tx, phone_key(user.org_id, user.national_code, user.mobile), user.uid,
                      PhoneAlreadyRegistered)
    _stage_lookup(tx, invite_key(user.org_id, user.invite_code), user.uid, ConcurrentUpdate)


def get(uid: str) -> Optional[User]:
    try:
        return _to_user(UserRecord.get(_user_key(uid), "META", consistent_read=True))
    except UserRecord.DoesNotExist:
        return None


def uid_for(lookup_key: str) -> Optional[str]:
    try:
        return UserLookupRecord.get(lookup_key, "META", consistent_read=True).uid
    except UserLookupRecord.DoesNotExist:
        return None


def update(uid: str, **changes) -> User:
    """Sets the named fields (None removes one); NotFound if the user does not exist."""
    actions = [UserRecord.updated_at.set(now_ms())]
    for name, value in changes.items():
        attribute = getattr(UserRecord, _FIELDS[name])
        actions.append(attribute.remove() if value is None else attribute.set(value))
    record = UserRecord(_user_key(uid), "META")
    try:
        record.update(actions=actions, condition=UserRecord.pk.exists())
    except Exception as error:  # pynamodb UpdateError on a failed condition
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise NotFound("User not found") from None
        raise
    return _to_user(record)


def for_org(org_id: str, *, limit: int = 100, before_uid: Optional[str] = None) -> list[User]:
    """Users of an org, newest first, paged by uid (exclusive)."""
    condition = UserRecord.gsi1sk < padded(int(before_uid)) if before_uid else None
    records = UserRecord.gsi1.query(f"ORGUSERS#{org_id}", condition, scan_index_forward=False, limit=limit)
    return [_to_user(record) for record in records]
