"""Admin roles and the permissions each grants (pure: the Admin API checks every call here).

A permission names a capability (`finance.write`); each admin action requires exactly one.
Two pseudo-permissions are not granted by roles: `PUBLIC` (no session: logging in) and
`SIGNED_IN` (any enabled admin of the org: who am I, log out, bind my own TOTP).
`owner` holds every permission, including ones added later.
"""
from __future__ import annotations

from typing import Iterable

PUBLIC = "public"
SIGNED_IN = "signed_in"

PERMISSIONS = (
    "admins.read", "admins.write", "audit.read",
    "listing.read", "listing.write",
    "users.read", "users.write",
    "kyc.review", "withdrawals.review",
    "orders.read", "orders.write",
    "finance.read", "finance.write",
    "content.read", "content.write", "tickets.answer",
    "campaigns.read", "campaigns.write",
    "reports.read",
    "oauth_apps.write", "partners.write",
)

OWNER = "owner"

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    OWNER: frozenset(PERMISSIONS),
    "operator": frozenset({
        "listing.read", "listing.write", "users.read", "users.write", "orders.read", "orders.write",
        "content.read", "content.write", "tickets.answer", "campaigns.read", "campaigns.write",
        "reports.read", "audit.read", "oauth_apps.write", "partners.write"}),
    "finance": frozenset({
        "finance.read", "finance.write", "withdrawals.review", "reports.read", "users.read", "orders.read"}),
    "reviewer": frozenset({"kyc.review", "withdrawals.review", "users.read"}),
    "support": frozenset({"users.read", "orders.read", "content.read", "tickets.answer"}),
}

ROLES = tuple(ROLE_PERMISSIONS)


def is_known_permission(permission: str) -> bool:
    return permission in PERMISSIONS or permission in (PUBLIC, SIGNED_IN)


def permissions_of(roles: Iterable[str]) -> frozenset[str]:
    granted: set[str] = set()
    for role in roles or ():
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)


def allows(roles: Iterable[str], permission: str) -> bool:
    """Whether admins holding `roles` may use an action requiring `permission`."""
    roles = tuple(roles or ())
    if permission in (PUBLIC, SIGNED_IN):
        return True
    if OWNER in roles:
        return True
    return permission in permissions_of(roles)
