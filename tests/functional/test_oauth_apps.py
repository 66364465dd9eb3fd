"""OAuth client apps (registration through the Admin API, secrets shown once and kept
hashed, disable and enable) and the user's list of authorized apps in the User API."""
from __future__ import annotations

import pytest

from chalicelib.domain.errors import IdempotencyMismatch, InvalidParameter
from chalicelib.services import admins, oauth_clients
from infra.local.seed import ADMIN_PASSWORD, ADMIN_USERNAME, PASSWORD
from tests.functional.test_admin_support import AdminBrowser
from tests.functional.test_oauth_support import (  # noqa: F401  (fixtures)
    OTHER_HOST, PREFIX, Api, grant, http, items, oauth,
)
from tests.functional.test_user_api_support import Browser


def admin(http, oauth, host: str = "localhost", org_id: str = "7002") -> AdminBrowser:
    admins.create_admin(org_id, ADMIN_USERNAME, ADMIN_PASSWORD, ["owner"], f"test-admin-{org_id}")
    browser = AdminBrowser(http, host)
    answer = browser.call("auth/login", {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})
    assert answer.status == 200, answer
    return browser


def test_an_admin_registers_an_app_whose_secret_is_shown_once_and_stored_only_hashed(oauth, http):
    owner = admin(http, oauth)
    params = {"name": "Tax Helper", "client_type": "confidential", "operation_id": "app-1",
              "redirect_uris": "https://tax.example/cb,http://127.0.0.1:9000/cb", "scopes": "accountDetail,userInfo"}
    created = owner.call("oauth_apps/create", params)
    assert created.status == 200, created
    app = created.json["data"]
    assert app["scopes"] == ["userInfo", "accountDetail"] and app["enabled"] is True
    assert len(app["client_secret"]) >= 43
    retry = owner.call("oauth_apps/create", params)
    assert retry.json["data"]["client_id"] == app["client_id"] and retry.json["data"]["client_secret"] is None
    changed = owner.call("oauth_apps/create", {**params, "name": "Other"})
    assert changed.status == 400 and changed.code == IdempotencyMismatch.code
    [stored] = [i for i in items("OAUTHAPP#") if i["client_id"] == app["client_id"]]
    assert app["client_secret"] not in str(stored) and stored["secret_hash"]
    audit = [row for row in admin_audit_rows() if row["action"] == "oauth_apps/create"]
    assert audit and all(app["client_secret"] not in str(row) for row in audit)
    listed = owner.read("oauth_apps/list").json["data"]["list"]
    assert app["client_id"] in [row["client_id"] for row in listed]
    assert all("client_secret" not in row and "secret_hash" not in row for row in listed)

    tokens = grant(Api(http), app, "alice@demo.local", scope="userInfo")
    assert tokens["scope"] == "userInfo"


def admin_audit_rows() -> list[dict]:
    from chalicelib.services import admin_audit
    return admin_audit.search("7002", limit=200)["list"]


def test_an_admin_disables_and_enables_an_app_and_old_tokens_stay_dead(oauth, http):
    owner = admin(http, oauth)
    app = oauth["apps"]["confidential"]
    before = grant(Api(http), app, "alice@demo.local", scope="userInfo")
    disabled = owner.call("oauth_apps/disable", {"client_id": app["client_id"]})
    assert disabled.status == 200 and disabled.json["data"]["enabled"] is False
    page = Api(http).get(f"{PREFIX}/authorize", {"response_type": "code", "client_id": app["client_id"],
                                                 "redirect_uri": app["redirect_uris"][0]})
    assert page.status == 302 and page.location.startswith(f"{PREFIX}/error?") and "invalid_client" in page.location
    enabled = owner.call("oauth_apps/enable", {"client_id": app["client_id"]})
    assert enabled.json["data"]["enabled"] is True
    assert Api(http).call(before["access_token"], "user/getInfo").status == 401
    after = grant(Api(http), app, "alice@demo.local", scope="userInfo")
    assert Api(http).call(after["access_token"], "user/getInfo").status == 200


def test_an_app_of_one_org_does_not_exist_for_another(oauth, http):
    other = admin(http, oauth, OTHER_HOST, "7003")
    app = oauth["apps"]["confidential"]
    answer = other.call("oauth_apps/disable", {"client_id": app["client_id"]})
    assert answer.status == 400 and answer.code == 1212
    assert oauth_clients.get_app("7002", app["client_id"]).enabled is True
    assert [row["client_id"] for row in other.read("oauth_apps/list").json["data"]["list"]] == []


@pytest.mark.parametrize("uris, scopes", [
    (["http://evil.example/cb"], ["userInfo"]),             # plain http beyond loopback
    (["https://app.example/cb#frag"], ["userInfo"]),        # fragments are not allowed (RFC 6749 3.1.2)
    (["https://app.example/cb"], ["userInfo", "withdraw"]),  # not a scope of the seed
    ([], ["userInfo"]),
])
def test_an_app_with_a_loose_redirect_uri_or_an_unknown_scope_is_not_registered(uris, scopes, oauth):
    with pytest.raises(InvalidParameter):
        oauth_clients.create_app("7002", name="Loose", client_type="public", redirect_uris=uris, scopes=scopes)
    assert len(items("OAUTHAPP#")) == 2  # the two demo apps only


def test_a_user_lists_the_apps_acting_for_them_and_revokes_one(oauth, http):
    api, confidential, public = Api(http), oauth["apps"]["confidential"], oauth["apps"]["public"]
    kept = grant(api, confidential, "alice@demo.local", scope="userInfo")
    revoked = grant(api, public, "alice@demo.local", scope="trade accountInfo")
    browser = Browser(http)
    assert browser.post("/api/user/authorize", {"username": "alice@demo.local", "password": PASSWORD}).status == 200
    listed = browser.get("/api/user/oauth_apps")
    assert listed.status == 200, listed
    assert {row["clientId"]: row["scopes"] for row in listed.json} == {
        confidential["client_id"]: ["userInfo"], public["client_id"]: ["accountInfo", "trade"]}
    without_csrf = browser.post("/api/user/oauth_apps/revoke", {"client_id": public["client_id"]}, csrf=False)
    assert without_csrf.status == 403
    assert api.call(revoked["access_token"], "user/getInfo").status == 403  # alive; not its scope
    done = browser.post("/api/user/oauth_apps/revoke", {"client_id": public["client_id"]})
    assert done.status == 200 and done.json == {"success": True, "revoked": 1}
    assert api.call(revoked["access_token"], "account/getInfo").status == 401
    assert api.call(kept["access_token"], "user/getInfo").status == 200
    assert [row["clientId"] for row in browser.get("/api/user/oauth_apps").json] == [confidential["client_id"]]
    bob = Browser(http)
    assert bob.post("/api/user/authorize", {"username": "bob@demo.local", "password": PASSWORD}).status == 200
    assert bob.get("/api/user/oauth_apps").json == []
    assert bob.post("/api/user/oauth_apps/revoke", {"client_id": confidential["client_id"]}).json["revoked"] == 0
