"""The token endpoint: single-use codes that expire, refresh rotation with reuse
detection, client authentication, secrets kept out of URLs, and introspection."""
from __future__ import annotations

from tests.functional.test_oauth_support import (  # noqa: F401  (fixtures)
    OTHER_HOST, PREFIX, Api, Consent, clock, grant, http, items, oauth, pkce,
)


def exchange(api: Api, app: dict, consent: Consent, code: str, verifier: str | None = None):
    params = {"grant_type": "authorization_code", "code": code, "redirect_uri": consent.params["redirect_uri"]}
    if verifier:
        params["code_verifier"] = verifier
    return api.token(app, params)


def test_a_code_used_twice_is_refused_and_revokes_the_tokens_of_its_first_use(oauth, http):
    api, app = Api(http), oauth["apps"]["confidential"]
    consent = Consent(api, app)
    code = consent.code("alice@demo.local")
    first = exchange(api, app, consent, code)
    assert first.status == 200 and api.call(first.json["access_token"], "user/getInfo").status == 200
    second = exchange(api, app, consent, code)
    assert (second.status, second.error) == (400, "invalid_grant"), second
    assert len(items("OAUTHTOKEN#")) == 1, "the replay issued nothing"
    revoked = api.call(first.json["access_token"], "user/getInfo")
    assert revoked.status == 401 and "invalid_token" in revoked.headers["www-authenticate"]
    refresh = api.token(app, {"grant_type": "refresh_token", "refresh_token": first.json["refresh_token"]})
    assert refresh.error == "invalid_grant"


def test_a_code_older_than_ten_minutes_is_refused_and_creates_nothing(oauth, http, clock):
    api, app = Api(http), oauth["apps"]["public"]
    verifier, challenge = pkce()
    consent = Consent(api, app, challenge=challenge)
    code = consent.code("alice@demo.local")
    clock.advance(600)
    late = exchange(api, app, consent, code, verifier)
    assert (late.status, late.error) == (400, "invalid_grant"), late
    assert items("OAUTHTOKEN#") == [] and items("OAUTHFAMILY#") == []
    [stored] = items("OAUTHCODE#")
    assert "used_at" not in stored


def test_a_code_just_inside_ten_minutes_still_works(oauth, http, clock):
    api, app = Api(http), oauth["apps"]["confidential"]
    consent = Consent(api, app)
    code = consent.code("alice@demo.local")
    clock.advance(599)
    assert exchange(api, app, consent, code).status == 200


def test_a_refresh_rotates_both_tokens_and_ends_the_old_access_token(oauth, http, clock):
    api, app = Api(http), oauth["apps"]["public"]
    first = grant(api, app, "bob@demo.local", scope="userInfo")
    clock.advance(1)
    refreshed = api.token(app, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert refreshed.status == 200, refreshed
    assert refreshed.json["refresh_token"] != first["refresh_token"]
    assert refreshed.json["access_token"] != first["access_token"] and refreshed.json["scope"] == "userInfo"
    assert api.call(first["access_token"], "user/getInfo").status == 401
    assert api.call(refreshed.json["access_token"], "user/getInfo").status == 200


def test_a_reused_refresh_token_is_refused_and_revokes_the_whole_family(oauth, http):
    api, app = Api(http), oauth["apps"]["confidential"]
    first = grant(api, app, "alice@demo.local")
    rotated = api.token(app, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}).json
    replay = api.token(app, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert (replay.status, replay.error) == (400, "invalid_grant"), replay
    assert len(items("OAUTHTOKEN#")) == 1, "the replay issued nothing"
    assert api.call(rotated["access_token"], "user/getInfo").status == 401
    successor = api.token(app, {"grant_type": "refresh_token", "refresh_token": rotated["refresh_token"]})
    assert successor.error == "invalid_grant"
    [family] = items("OAUTHFAMILY#")
    assert family["revoked_reason"] == "refresh_reused"


def test_the_seeds_refresh_token_endpoint_rotates_without_naming_the_grant(oauth, http):
    api, app = Api(http), oauth["apps"]["confidential"]
    first = grant(api, app, "alice@demo.local", scope="userInfo accountInfo")
    answer = api.post(f"{PREFIX}/refresh_token", {"refresh_token": first["refresh_token"], "scope": "userInfo",
                                                  "client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert answer.status == 200 and answer.json["scope"] == "userInfo", answer
    wider = api.post(f"{PREFIX}/refresh_token", {"refresh_token": answer.json["refresh_token"], "scope": "trade",
                                                 "client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert wider.error == "invalid_scope"


def test_secrets_never_travel_in_a_url(oauth, http):
    api, app = Api(http), oauth["apps"]["confidential"]
    got = api.get(f"{PREFIX}/token", {"grant_type": "authorization_code", "code": "x",
                                      "client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert got.status == 405 and got.error == "invalid_request" and got.headers["allow"] == "POST"
    assert got.json["code"] == 1209 and got.json["msg"]
    in_query = api.post(f"{PREFIX}/token", {"grant_type": "refresh_token", "refresh_token": "x"},
                        query={"client_secret": app["client_secret"]})
    assert (in_query.status, in_query.error) == (400, "invalid_request")
    as_json = api.post(f"{PREFIX}/token", {"grant_type": "refresh_token", "refresh_token": "x"}, as_json=True)
    assert as_json.error == "invalid_request"


def test_client_authentication_and_grant_failures_use_the_rfc_shape(oauth, http):
    api, app = Api(http), oauth["apps"]["confidential"]
    wrong_secret = api.token({**app, "client_secret": app["client_secret"][:-1] + "x"},
                             {"grant_type": "refresh_token", "refresh_token": "whatever"})
    assert (wrong_secret.status, wrong_secret.error) == (401, "invalid_client"), wrong_secret
    assert wrong_secret.headers["www-authenticate"].startswith("Basic")
    no_secret = api.token({**app, "client_secret": None}, {"grant_type": "refresh_token", "refresh_token": "x"})
    assert no_secret.error == "invalid_client", "a confidential app may not act as a public one"
    unsupported = api.token(app, {"grant_type": "password", "username": "a", "password": "b"})
    assert unsupported.error == "unsupported_grant_type"
    missing = api.token(app, {"code": "x"})
    assert missing.error == "invalid_request" and "grant_type" in missing.json["error_description"]


def test_a_code_issued_on_one_orgs_host_cannot_be_exchanged_on_another(oauth, http):
    api, app = Api(http), oauth["apps"]["confidential"]
    consent = Consent(api, app)
    code = consent.code("alice@demo.local")
    elsewhere = exchange(Api(http, OTHER_HOST), app, consent, code)
    assert elsewhere.error == "invalid_client"
    assert exchange(api, app, consent, code).status == 200


def test_introspection_tells_a_client_about_its_own_live_tokens_only(oauth, http):
    api = Api(http)
    confidential, public = oauth["apps"]["confidential"], oauth["apps"]["public"]
    mine = grant(api, confidential, "alice@demo.local", scope="userInfo tradeInfo")
    theirs = grant(api, public, "bob@demo.local", scope="userInfo")
    itself = api.get(f"{PREFIX}/check_token", headers={"Authorization": f"Bearer {mine['access_token']}"})
    assert itself.status == 200 and itself.json["active"] is True
    assert itself.json["scope"] == "userInfo tradeInfo" and itself.json["client_id"] == confidential["client_id"]
    assert itself.json["user_id"] == oauth["users"][0]["uid"] and itself.json["exp"] > itself.json["iat"]
    by_client = api.post(f"{PREFIX}/check_token", {"token": mine["access_token"], "client_id": confidential["client_id"],
                                                   "client_secret": confidential["client_secret"]})
    assert by_client.json["active"] is True
    not_theirs = api.post(f"{PREFIX}/check_token", {"token": theirs["access_token"],
                                                    "client_id": confidential["client_id"],
                                                    "client_secret": confidential["client_secret"]})
    assert not_theirs.json == {"active": False}
    assert api.get(f"{PREFIX}/check_token", {"access_token": "nope"}).json == {"active": False}
    other_host = Api(http, OTHER_HOST).get(f"{PREFIX}/check_token",
                                           headers={"Authorization": f"Bearer {mine['access_token']}"})
    assert other_host.json == {"active": False}
