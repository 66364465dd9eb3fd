"""Owner-side management of admin accounts, with the rules that keep an org manageable:
an org always keeps one enabled owner, and an owner cannot disable themself. Changes that
take power away (disable, password reset) end the admin's sessions; roles are read on every call."""
from __future__ import annotations

from typing import Iterable

from chalicelib.domain import admin_roles
from chalicelib.domain.errors import InvalidParameter
from chalicelib.services import admin_sessions, admins


def _other_enabled_owners(org_id: str, username: str) -> int:
    return sum(1 for a in admins.list_admins(org_id)
               if a.enabled and admin_roles.OWNER in a.roles and a.username != username)


def set_enabled(org_id: str, acting_username: str, username: str, enabled: bool) -> admins.Admin:
    target = admins.get_admin(org_id, username)
    if not enabled:
        if target.username == acting_username:
            raise InvalidParameter("username", "You cannot disable yourself")
        if admin_roles.OWNER in target.roles and not _other_enabled_owners(org_id, target.username):
            raise InvalidParameter("username", "The org's last enabled owner cannot be disabled")
    admin = admins.set_admin_enabled(org_id, target.username, enabled)
    if not enabled:
        admin_sessions.end_all(org_id, target.username)
    return admin


def reset_password(org_id: str, username: str, password: str) -> admins.Admin:
    admin = admins.set_admin_password(org_id, username, password)
    admin_sessions.end_all(org_id, admin.username)
    return admin


def set_roles(org_id: str, username: str, roles: Iterable[str]) -> admins.Admin:
    target = admins.get_admin(org_id, username)
    roles = tuple(roles)
    if admin_roles.OWNER in target.roles and admin_roles.OWNER not in roles and target.enabled \
            and not _other_enabled_owners(org_id, target.username):
        raise InvalidParameter("roles", "The org's last enabled owner must stay an owner")
    return admins.set_admin_roles(org_id, target.username, roles)  # roles are read afresh on every call


def reset_totp(org_id: str, username: str) -> admins.Admin:
    return admin_sessions.reset_totp(org_id, username)


def unlock(org_id: str, username: str) -> admins.Admin:
    admin = admins.get_admin(org_id, username)
    admin_sessions.unlock(org_id, admin.username)
    return admin
