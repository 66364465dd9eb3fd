"""Users: registration, look-up by login, credentials and status flags.

A user belongs to exactly one org; every read takes the org from the caller's credential
and answers NotFound for a user of another org, so tenants cannot probe each other.
"""
from __future__ import annotations

import re
import secrets
from typing import Optional

from chalicelib.domain import passwords
from chalicelib.domain.errors import (
    EmailAlreadyRegistered,
    InvalidInviteCode,
    InvalidParameter,
    MissingParameter,
    NotFound,
    PhoneAlreadyRegistered,
)
from chalicelib.domain.events import Event, org_stream
from chalicelib.domain.ids import new_id
from chalicelib.gateways import kms
from chalicelib.services import idempotency
from chalicelib.store import accounts
from chalicelib.store import users as store
from chalicelib.store.transaction import Transaction
from chalicelib.store.users import User

__all__ = [
    "User", "register_user", "get_user", "list_users", "find_by_login", "authenticate", "verify_password",
    "set_password", "set_trade_password", "verify_trade_password", "set_ga_secret", "ga_secret",
    "set_anti_phishing_code", "set_kyc_level", "set_frozen", "user_of_account",
]

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_DIGITS = re.compile(r"^\d+$")
_PHONE_LOGIN = re.compile(r"^\+?(\d{1,4})[- ](\d{4,20})$")
# No 0/O or 1/I: invite codes are read aloud and typed by hand.
_INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
INVITE_CODE_LENGTH = 8
REGISTER_EMAIL, REGISTER_MOBILE = 2, 1  # BHOP registerType


def _email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidParameter("email", "Email address is not valid")
    return email


def _phone(national_code: Optional[str], mobile: str) -> tuple[str, str]:
    if not national_code:
        raise MissingParameter("national_code")
    code = national_code.strip().lstrip("+")
    number = re.sub(r"[\s-]", "", mobile)
    if not (_DIGITS.match(code) and len(code) <= 4):
        raise InvalidParameter("national_code")
    if not (_DIGITS.match(number) and 4 <= len(number) <= 20):
        raise InvalidParameter("mobile", "Mobile number is not valid")
    return code, number


def _new_invite_code() -> str:
    return "".join(secrets.choice(_INVITE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


def register_user(org_id: str, *, email: Optional[str] = None, phone: Optional[str] = None,
                  national_code: Optional[str] = None, password: Optional[str] = None,
                  invite_code: Optional[str] = None, operation_id: str) -> User:
    """A new user with a main spot account; the same operation id returns the same user.

    The password is left out of the idempotency payload (that record keeps a fast hash of
    the payload), so a replay with another password returns the first registration.
    """
    email = _email(email) if email else None
    code, mobile = _phone(national_code, phone) if phone else (None, None)
    if not email and not mobile:
        raise MissingParameter("email", "Either email or mobile is required")
    if password is not None:
        passwords.check_policy(password)
    inviter = None
    if invite_code:
        inviter = store.uid_for(store.invite_key(org_id, invite_code.strip().upper()))
        if inviter is None:
            raise InvalidInviteCode()
    payload = {"org_id": org_id, "email": email, "national_code": code, "mobile": mobile,
               "invite_code": invite_code}
    hashed: list[Optional[str]] = []

    def build(tx: Transaction) -> dict:
        if not hashed:  # build may rerun on a conflict; hash once
            hashed.append(passwords.hash_password(password) if password is not None else None)
        now = store.now_ms()
        user = User(
            uid=str(new_id()), org_id=org_id, email=email, national_code=code, mobile=mobile, kyc_level=0,
            login_frozen=False, trade_frozen=False, withdraw_frozen=False, invite_code=_new_invite_code(),
            inviter_uid=inviter, main_account_id=str(new_id()), anti_phishing_code=None, created_at=now,
            updated_at=now, password_changed_at=now if hashed[0] else None, password_hash=hashed[0],
        )
        store.stage_org_exists(tx, org_id)
        store.stage_create(tx, user)
        accounts.stage_create(tx, accounts.AccountOwner(user.main_account_id, org_id, user.uid))
        tx.emit(Event(org_stream(org_id), "org.userRegister", {
            "uid": user.uid, "register_type": REGISTER_EMAIL if email else REGISTER_MOBILE,
            "invite_user_id": inviter or "", "created_at": now,
        }, org_id, user.uid))
        return {"uid": user.uid}

    scope = f"register:{org_id}"
    try:
        response = idempotency.run(scope, operation_id, payload, build)
    except (EmailAlreadyRegistered, PhoneAlreadyRegistered):
        # A twin of this very operation may have won the race: then its record answers.
        response = idempotency.run(scope, operation_id, payload, build)
    return get_user(org_id, response["uid"])


def get_user(org_id: str, uid: str) -> User:
    user = store.get(uid) if uid and str(uid).isdigit() else None
    if user is None or user.org_id != org_id:
        raise NotFound("User not found")
    return user


def list_users(org_id: str, *, limit: int = 100, before_uid: Optional[str] = None) -> list[User]:
    """Newest first; `before_uid` pages backwards (exclusive)."""
    if before_uid is not None and not str(before_uid).isdigit():
        raise InvalidParameter("before_uid")
    return store.for_org(org_id, limit=max(1, min(limit, 500)), before_uid=before_uid)


def find_by_login(org_id: str, login: str, *, national_code: Optional[str] = None) -> Optional[User]:
    """By email, or by mobile (with `national_code`, or written `+86 138...` / `86-138...`)."""
    login = (login or "").strip()
    if "@" in login:
        key = store.email_key(org_id, login.lower())
    elif national_code:
        key = store.phone_key(org_id, national_code.strip().lstrip("+"), re.sub(r"[\s-]", "", login))
    elif match := _PHONE_LOGIN.match(login):
        key = store.phone_key(org_id, match.group(1), match.group(2))
    else:
        return None
    uid = store.uid_for(key)
    user = store.get(uid) if uid else None
    return user if user is not None and user.org_id == org_id else None


def authenticate(org_id: str, login: str, password: str, *, national_code: Optional[str] = None) -> Optional[User]:
    """The user if login and password match; an unknown login costs as much time as a known one."""
    user = find_by_login(org_id, login, national_code=national_code)
    if user is None:
        return passwords.burn_time(password) or None
    return user if verify_password(user, password) else None


def verify_password(user: User, password: str) -> bool:
    return passwords.verify(password, user.password_hash)


def set_password(org_id: str, uid: str, password: str) -> User:
    """Sessions and tokens issued before `password_changed_at` are to be treated as revoked."""
    get_user(org_id, uid)
    hashed = passwords.hash_password(passwords.check_policy(password))
    return store.update(uid, password_hash=hashed, password_changed_at=store.now_ms())


def set_trade_password(org_id: str, uid: str, password: str) -> User:
    get_user(org_id, uid)
    return store.update(uid, trade_password_hash=passwords.hash_password(
        passwords.check_policy(password, "trade_password")))


def verify_trade_password(user: User, password: str) -> bool:
    return passwords.verify(password, user.trade_password_hash)


def _ga_context(user: User) -> dict:
    return {"purpose": "ga-secret", "org": user.org_id, "uid": user.uid}


def set_ga_secret(org_id: str, uid: str, secret: Optional[str]) -> User:
    """Binds (or, with None, unbinds) the user's TOTP secret; stored encrypted only."""
    user = get_user(org_id, uid)
    return store.update(uid, ga_secret_ciphertext=kms.encrypt(secret, _ga_context(user)) if secret else None)


def ga_secret(user: User) -> Optional[str]:
    return kms.decrypt(user.ga_secret_ciphertext, _ga_context(user)) if user.ga_secret_ciphertext else None


def set_anti_phishing_code(org_id: str, uid: str, code: Optional[str]) -> User:
    if code is not None and not 1 <= len(code.strip()) <= 20:
        raise InvalidParameter("anti_phishing_code")
    get_user(org_id, uid)
    return store.update(uid, anti_phishing_code=code.strip() if code else None)


def set_kyc_level(org_id: str, uid: str, level: int) -> User:
    if level not in (0, 1, 2, 3):
        raise InvalidParameter("kyc_level")
    get_user(org_id, uid)
    return store.update(uid, kyc_level=level)


def set_frozen(org_id: str, uid: str, *, login: Optional[bool] = None, trade: Optional[bool] = None,
               withdraw: Optional[bool] = None) -> User:
    """Freezes or thaws login, trading and withdrawal separately; None leaves a flag as it is."""
    get_user(org_id, uid)
    changes = {name: value for name, value in (("login_frozen", login), ("trade_frozen", trade),
                                               ("withdraw_frozen", withdraw)) if value is not None}
    return store.update(uid, **changes)


def user_of_account(account_id: str) -> Optional[User]:
    owner = accounts.owner_of(account_id)
    if owner is None or owner.uid is None:
        return None
    return store.get(owner.uid)
