"""Shared fixtures and helpers of the Admin API functional tests (this module has no tests).

`AdminBrowser` keeps cookies like a browser and sends the admin CSRF token (from the
`admin_c_token` cookie) as `X-CSRF-Token` on every POST unless told otherwise.
`staff` gives a logged-in browser per role of the demo org, made through the API itself.
"""
from __future__ import annotations

import itertools

import pytest

from chalicelib.services import admins, ledger
from infra.local.seed import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.functional.test_user_api_support import (  # noqa: F401  (fixtures)
    HOST, ORG, Browser, clock, http, seeded,
)

OTHER_HOST, OTHER_ORG = "second.local", "7003"
BASE = "/admin/api/v1/"
STAFF_PASSWORD = "Staff-pass-12"
_operation_ids = itertools.count(1)


def operation_id() -> str:
    return f"op-{next(_operation_ids)}"


class AdminBrowser(Browser):
    @property
    def csrf(self):
        return self.cookies.get("admin_c_token")

    def call(self, name: str, params: dict | None = None, *, method: str | None = None, **kw):
        return self.request(method or "POST", BASE + name, params, **kw)

    def read(self, name: str, params: dict | None = None, **kw):
        return self.request("GET", BASE + name, params, **kw)


def admin_login(http, username: str = ADMIN_USERNAME, password: str = ADMIN_PASSWORD, host: str = HOST,
                **extra) -> AdminBrowser:
    browser = AdminBrowser(http, host)
    answer = browser.call("auth/login", {"username": username, "password": password, **extra})
    assert answer.status == 200 and "admin_token" in browser.cookies, answer
    return browser


def make_admin(org_id: str, username: str, roles, password: str = STAFF_PASSWORD):
    return admins.create_admin(org_id, username, password, list(roles), f"test-admin-{org_id}-{username}")


@pytest.fixture
def owner(seeded, http) -> AdminBrowser:
    return admin_login(http)


@pytest.fixture
def staff(seeded, http) -> dict:
    """One logged-in browser per role of the demo org (the owner is the seeded admin)."""
    browsers = {"owner": admin_login(http)}
    for role in ("operator", "finance", "reviewer", "support"):
        make_admin(ORG, role, [role])
        browsers[role] = admin_login(http, role, STAFF_PASSWORD)
    return browsers


def audit_rows(org_id: str = ORG, **filters) -> list[dict]:
    from chalicelib.services import admin_audit

    return admin_audit.search(org_id, limit=200, **filters)["list"]


def data(answer):
    assert answer.status == 200 and answer.json["code"] == 0, answer
    return answer.json["data"]


@pytest.fixture(autouse=True)
def ledger_stays_conserved():
    """Import it into a test module to check the zero sum after each of its tests."""
    yield
    report = ledger.reconcile()
    assert report.ok, report
