"""How admin-side records render (shared by the admin route modules)."""
from __future__ import annotations

from chalicelib.domain import admin_roles


def admin_view(admin) -> dict:
    return {"admin_id": admin.admin_id, "username": admin.username, "roles": list(admin.roles),
            "enabled": admin.enabled, "totp_bound": admin.has_totp, "created_at": admin.created_at,
            "updated_at": admin.updated_at}


def me_view(admin) -> dict:
    permissions = admin_roles.PERMISSIONS if admin_roles.OWNER in admin.roles \
        else sorted(admin_roles.permissions_of(admin.roles))
    return {**admin_view(admin), "permissions": list(permissions)}
