"""Back-office admins of an org: separate from its users, with roles; sessions build on this."""
from __future__ import annotations

import re
from typing import Iterable, Optional

from chalicelib.domain import passwords
from chalicelib.domain.errors import AdminUsernameTaken, InvalidParameter, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.gateways import kms
from chalicelib.services import idempotency
from chalicelib.store import admins as store
from chalicelib.store.admins import Admin
from chalicelib.store.transaction import Transaction
from chalicelib.store.users import stage_org_exists

__all__ = ["Admin", "ROLES", "create_admin", "verify_admin_login", "get_admin", "list_admins",
           "set_admin_enabled", "set_admin_password", "set_admin_roles", "set_admin_totp_secret",
           "admin_totp_secret", "set_admin_totp_pending", "admin_totp_pending_secret",
           "promote_admin_totp_pending", "spend_totp_step"]

ROLES = ("owner", "operator", "finance", "reviewer", "support")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]{2,31}$")


def _username(value: str) -> str:
    """Usernames compare case-insensitively, so they are kept in lower case."""
    username = (value or "").strip().lower()
    if not _USERNAME.match(username):
        raise InvalidParameter("username", "Username is 3 to 32 letters, digits, '.', '_' or '-'")
    return username


def _roles(values: Iterable[str]) -> tuple[str, ...]:
    roles = tuple(dict.fromkeys(values or ()))
    if not roles or any(role not in ROLES for role in roles):
        raise InvalidParameter("roles", f"Roles must be a non-empty subset of {', '.join(ROLES)}")
    return roles


def create_admin(org_id: str, username: str, password: str, roles: Iterable[str], operation_id: str) -> Admin:
    """A new enabled admin; the password stays out of the idempotency payload."""
    username, roles = _username(username), _roles(roles)
    passwords.check_policy(password)
    hashed: list[str] = []

    def build(tx: Transaction) -> dict:
        if not hashed:
            hashed.append(passwords.hash_password(password))
        now = store.now_ms()
        stage_org_exists(tx, org_id)
        store.stage_create(tx, Admin(str(new_id()), org_id, username, roles, True, now, now, now, hashed[0]))
        return {"username": username}

    scope, payload = f"admin:{org_id}", {"username": username, "roles": list(roles)}
    try:
        idempotency.run(scope, operation_id, payload, build)
    except AdminUsernameTaken:
        # A twin of this very operation may have won the race: then its record answers.
        idempotency.run(scope, operation_id, payload, build)
    return get_admin(org_id, username)


def verify_admin_login(org_id: str, username: str, password: str) -> Optional[Admin]:
    """The admin when the password matches and the admin is enabled; unknown names take as long."""
    try:
        admin = store.get(org_id, _username(username))
    except InvalidParameter:
        admin = None
    if admin is None:
        return passwords.burn_time(password) or None
    if not passwords.verify(password, admin.password_hash) or not admin.enabled:
        return None
    return admin


def get_admin(org_id: str, username: str) -> Admin:
    admin = store.get(org_id, (username or "").strip().lower())
    if admin is None:
        raise NotFound("Admin not found")
    return admin


def list_admins(org_id: str) -> list[Admin]:
    return store.for_org(org_id)


def set_admin_enabled(org_id: str, username: str, enabled: bool) -> Admin:
    return store.update(org_id, get_admin(org_id, username).username, enabled=bool(enabled))


def set_admin_password(org_id: str, username: str, password: str) -> Admin:
    """Sessions issued before `password_changed_at` are to be treated as revoked."""
    admin = get_admin(org_id, username)
    hashed = passwords.hash_password(passwords.check_policy(password))
    return store.update(org_id, admin.username, password_hash=hashed, password_changed_at=store.now_ms())


def set_admin_roles(org_id: str, username: str, roles: Iterable[str]) -> Admin:
    return store.update(org_id, get_admin(org_id, username).username, roles=list(_roles(roles)))


def _totp_context(admin: Admin) -> dict:
    return {"purpose": "admin-totp", "org": admin.org_id, "admin": admin.admin_id}


def set_admin_totp_secret(org_id: str, username: str, secret: Optional[str]) -> Admin:
    admin = get_admin(org_id, username)
    ciphertext = kms.encrypt(secret, _totp_context(admin)) if secret else None
    return store.update(org_id, admin.username, totp_secret_ciphertext=ciphertext)


def admin_totp_secret(admin: Admin) -> Optional[str]:
    return kms.decrypt(admin.totp_secret_ciphertext, _totp_context(admin)) if admin.totp_secret_ciphertext else None


def set_admin_totp_pending(org_id: str, username: str, secret: Optional[str]) -> Admin:
    """A secret shown to the admin to bind; it becomes the TOTP secret once a code confirms it."""
    admin = get_admin(org_id, username)
    ciphertext = kms.encrypt(secret, _totp_context(admin)) if secret else None
    return store.update(org_id, admin.username, totp_pending_ciphertext=ciphertext)


def admin_totp_pending_secret(admin: Admin) -> Optional[str]:
    if not admin.totp_pending_ciphertext:
        return None
    return kms.decrypt(admin.totp_pending_ciphertext, _totp_context(admin))


def promote_admin_totp_pending(org_id: str, username: str) -> Admin:
    admin = get_admin(org_id, username)
    return store.update(org_id, admin.username, totp_secret_ciphertext=admin.totp_pending_ciphertext,
                        totp_pending_ciphertext=None)


def spend_totp_step(admin: Admin, step: int) -> bool:
    return store.spend_totp_step(admin.org_id, admin.username, step)
