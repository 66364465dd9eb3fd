"""Role × action matrix over the whole registry (every admin action, whoever registered it)."""
from __future__ import annotations

from chalicelib.api.admin.http import ACTIONS
from chalicelib.domain import admin_roles
from tests.functional.test_admin_support import (  # noqa: F401  (fixtures)
    clock, http, seeded, staff,
)

PROBE = {"__probe__": "1"}


def forbids_extras(spec) -> bool:
    return spec.params is not None and spec.params.model_config.get("extra") == "forbid"


def test_every_action_requires_a_known_permission_and_owners_hold_every_permission():
    assert ACTIONS
    for spec in ACTIONS.values():
        assert admin_roles.is_known_permission(spec.permission), spec
        assert admin_roles.allows(("owner",), spec.permission)
    assert set(admin_roles.ROLES) == {"owner", "operator", "finance", "reviewer", "support"}


def test_each_role_is_allowed_exactly_its_actions_and_refused_the_rest_with_403(staff):
    checked = 0
    for role, browser in staff.items():
        for name, spec in sorted(ACTIONS.items()):
            if spec.permission == admin_roles.PUBLIC:
                continue
            allowed = admin_roles.allows((role,), spec.permission)
            if not allowed:
                answer = browser.call(name, PROBE) if spec.mutating else browser.read(name, PROBE)
                assert (answer.status, answer.code) == (403, 1010), (role, name, answer)
                checked += 1
            elif forbids_extras(spec):
                # allowed: the call gets past the permission check to parameter validation,
                # which refuses the probe field, so nothing runs
                answer = browser.call(name, PROBE) if spec.mutating else browser.read(name, PROBE)
                assert answer.status == 400 and answer.code in (2001, 2002), (role, name, answer)
                checked += 1
            elif not spec.mutating:
                answer = browser.read(name)
                assert answer.status != 403, (role, name, answer)
                checked += 1
    assert checked > 4 * len(ACTIONS)


def test_the_matrix_follows_the_roles_named_in_the_contract():
    allows = admin_roles.allows
    assert allows(("support",), "tickets.answer") and not allows(("support",), "users.write")
    assert allows(("reviewer",), "kyc.review") and not allows(("reviewer",), "orders.read")
    assert allows(("finance",), "finance.write") and not allows(("finance",), "listing.write")
    assert allows(("operator",), "listing.write") and not allows(("operator",), "finance.read")
    assert not any(allows((role,), "admins.write") for role in ("operator", "finance", "reviewer", "support"))
    assert allows(("reviewer", "support"), "orders.read")
