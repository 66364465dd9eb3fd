"""The authorization endpoint and its consent page: exact redirect URIs, state, PKCE
rules at the authorization request and the token endpoint, login with the second
factor, the user's choice of scopes, denial, and the error page."""
from __future__ import annotations

from chalicelib.auth import totp
from chalicelib.services import users
from tests.functional.test_oauth_support import (  # noqa: F401  (fixtures)
    PREFIX, Api, Consent, http, items, oauth, pkce, query_of,
)


def test_an_app_gets_a_code_for_the_scopes_the_user_kept_and_its_state_back(oauth, http):
    api, app = Api(http), oauth["apps"]["confidential"]
    verifier, challenge = pkce()
    consent = Consent(api, app, scope="userInfo accountInfo trade", challenge=challenge, state="xyz 1/2")
    page = consent.open()
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    shown = api.get(f"{PREFIX}/page/request", consent.params)
    assert shown.status == 200, shown
    assert shown.json["app"]["name"] == "Demo Portfolio Tracker" and shown.json["broker"] == "Demo Broker"
    assert [s["scope"] for s in shown.json["scopes"]] == ["userInfo", "accountInfo", "trade"]

    code = consent.code("alice@demo.local", granted_scope="userInfo trade")
    answer = api.token(app, {"grant_type": "authorization_code", "code": code,
                             "redirect_uri": consent.params["redirect_uri"], "code_verifier": verifier})
    assert answer.status == 200, answer
    assert answer.json["scope"] == "userInfo trade" and answer.json["token_type"] == "Bearer"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.json["expires_in"] == 3600 and answer.json["refresh_token"]


def test_a_redirect_uri_that_differs_by_one_character_is_never_redirected_to_and_issues_nothing(oauth, http):
    api, app = Api(http), oauth["apps"]["confidential"]
    registered = app["redirect_uris"][0]
    for wrong in (registered[:-1] + "X", registered + "/", registered.replace("127.0.0.1", "127.0.0.2")):
        consent = Consent(api, app, redirect_uri=wrong)
        answer = consent.open()
        assert answer.status == 302 and answer.location.startswith(f"{PREFIX}/error?"), answer
        assert "error=invalid_request" in answer.location and wrong not in answer.location
        logged_in = consent.login("alice@demo.local")
        decided = consent.decide(logged_in.json["consent_token"])
        assert decided.status == 400 and "redirect_uri" not in decided.json, decided
    assert items("OAUTHCODE#") == []

    error_page = api.get(answer.location, headers={"Accept": "text/html"})
    assert error_page.status == 400 and error_page.headers["content-type"].startswith("text/html")
    assert b"invalid_request" in error_page.raw and b"<script" not in error_page.raw
    as_json = api.get(answer.location)
    assert as_json.status == 400 and as_json.error == "invalid_request" and as_json.code and as_json.json["msg"]


def test_the_error_page_escapes_what_it_is_given(oauth, http):
    answer = Api(http).get(f"{PREFIX}/error", {"error": "invalid_request", "error_description": "<script>x</script>"},
                           {"Accept": "text/html"})
    assert answer.status == 400 and b"<script>x" not in answer.raw and b"&lt;script&gt;x" in answer.raw


def test_a_token_request_whose_redirect_uri_differs_by_one_character_is_refused_and_the_code_still_works(oauth, http):
    api, app = Api(http), oauth["apps"]["confidential"]
    consent = Consent(api, app)
    code = consent.code("alice@demo.local")
    wrong = api.token(app, {"grant_type": "authorization_code", "code": code,
                            "redirect_uri": consent.params["redirect_uri"] + "x"})
    assert (wrong.status, wrong.error) == (400, "invalid_grant") and wrong.json["msg"], wrong
    assert items("OAUTHTOKEN#") == [] and items("OAUTHFAMILY#") == []
    right = api.token(app, {"grant_type": "authorization_code", "code": code,
                            "redirect_uri": consent.params["redirect_uri"]})
    assert right.status == 200, right


def test_a_public_app_must_send_an_s256_challenge_or_is_sent_back_with_invalid_request(oauth, http):
    api, app = Api(http), oauth["apps"]["public"]
    for challenge, method in ((None, None), (pkce()[1], "plain"), (pkce()[1], None)):
        consent = Consent(api, app, challenge=challenge, method=method, state="s-9")
        if challenge and method is None:
            consent.params.pop("code_challenge_method", None)
        answer = consent.open()
        assert answer.status == 302 and answer.location.startswith(app["redirect_uris"][0] + "?"), answer
        assert query_of(answer.location)["error"] == "invalid_request"
        assert query_of(answer.location)["state"] == "s-9"
    assert items("OAUTHCODE#") == []


def test_a_missing_or_wrong_code_verifier_is_refused_and_the_code_still_works_with_the_right_one(oauth, http):
    api, app = Api(http), oauth["apps"]["public"]
    verifier, challenge = pkce()
    consent = Consent(api, app, challenge=challenge)
    code = consent.code("bob@demo.local")
    base = {"grant_type": "authorization_code", "code": code, "redirect_uri": consent.params["redirect_uri"]}
    missing = api.token(app, base)
    assert (missing.status, missing.error) == (400, "invalid_request"), missing
    wrong = api.token(app, {**base, "code_verifier": pkce()[0]})
    assert (wrong.status, wrong.error) == (400, "invalid_grant"), wrong
    assert items("OAUTHTOKEN#") == [] and items("OAUTHFAMILY#") == []
    right = api.token(app, {**base, "code_verifier": verifier})
    assert right.status == 200 and "refresh_token" in right.json, right


def test_a_confidential_app_may_skip_pkce_but_a_sent_challenge_binds_the_code(oauth, http):
    api, app = Api(http), oauth["apps"]["confidential"]
    plain = Consent(api, app)
    code = plain.code("alice@demo.local")
    assert api.token(app, {"grant_type": "authorization_code", "code": code,
                           "redirect_uri": plain.params["redirect_uri"]}).status == 200
    verifier, challenge = pkce()
    bound = Consent(api, app, challenge=challenge)
    code = bound.code("alice@demo.local")
    base = {"grant_type": "authorization_code", "code": code, "redirect_uri": bound.params["redirect_uri"]}
    assert api.token(app, base).error == "invalid_request"
    assert api.token(app, {**base, "code_verifier": verifier}, basic=False).status == 200


def test_a_user_who_denies_sends_the_app_access_denied_and_no_code(oauth, http):
    api, app = Api(http), oauth["apps"]["confidential"]
    consent = Consent(api, app, state="keep-me")
    consent.open()
    token = consent.login("alice@demo.local").json["consent_token"]
    denied = consent.decide(token, decision="deny")
    assert denied.status == 200, denied
    assert query_of(denied.json["redirect_uri"]) == {"error": "access_denied", "state": "keep-me",
                                                     "error_description": query_of(denied.json["redirect_uri"])[
                                                         "error_description"]}
    assert items("OAUTHCODE#") == []
    again = consent.decide(token)  # the page login ends with the decision
    assert again.status == 401, again


def test_a_decision_needs_the_page_login_of_the_same_app(oauth, http):
    api = Api(http)
    confidential, public = oauth["apps"]["confidential"], oauth["apps"]["public"]
    consent = Consent(api, confidential)
    unauthenticated = consent.decide("")
    assert unauthenticated.status == 401 and unauthenticated.code == 1213
    other_app_login = Consent(api, public, challenge=pkce()[1]).login("alice@demo.local").json["consent_token"]
    assert consent.decide(other_app_login).status == 401
    as_form = api.post(f"{PREFIX}/authorize", {**consent.params, "decision": "approve"})
    assert as_form.status == 302 and as_form.location.startswith(f"{PREFIX}/error?")
    assert items("OAUTHCODE#") == []


def test_scopes_outside_the_apps_list_come_back_as_invalid_scope(oauth, http):
    api, app = Api(http), oauth["apps"]["confidential"]
    answer = Consent(api, app, scope="userInfo withdraw").open()
    assert answer.status == 302 and query_of(answer.location)["error"] == "invalid_scope"
    unsupported = Consent(api, app, extra={"response_type": "token"}).open()
    assert query_of(unsupported.location)["error"] == "unsupported_response_type"


def test_the_consent_login_asks_for_the_authenticator_code_when_ga_is_bound(oauth, http):
    api, app = Api(http), oauth["apps"]["confidential"]
    alice = oauth["users"][0]
    secret = totp.new_secret()
    users.set_ga_secret(oauth["org_id"], alice["uid"], secret)
    consent = Consent(api, app)
    first = consent.login(alice["email"])
    assert first.status == 200 and first.json["second_factor"] == "ga" and "consent_token" not in first.json
    wrong = api.post(f"{PREFIX}/page/login", {"client_id": app["client_id"], "request_id": first.json["request_id"],
                                              "ga_code": "000000" if totp.code_at(secret, totp.now()) != "000000"
                                              else "111111"}, as_json=True)
    assert wrong.status == 400 and wrong.code == 1017
    done = api.post(f"{PREFIX}/page/login", {"client_id": app["client_id"], "request_id": first.json["request_id"],
                                             "ga_code": totp.code_at(secret, totp.now())}, as_json=True)
    assert done.status == 200 and done.json["consent_token"], done
    decided = consent.decide(done.json["consent_token"])
    assert decided.status == 200 and "code" in query_of(decided.json["redirect_uri"])


def test_a_wrong_password_on_the_consent_page_is_the_user_apis_refusal(oauth, http):
    consent = Consent(Api(http), oauth["apps"]["confidential"])
    answer = consent.login("alice@demo.local", "Wrong-pass-1")
    assert answer.status == 400 and answer.code == 1105
    unknown_app = Api(http).post(f"{PREFIX}/page/login", {"client_id": "nope", "login": "alice@demo.local",
                                                          "password": "x" * 10}, as_json=True)
    assert unknown_app.status == 401 and unknown_app.code == 1202
