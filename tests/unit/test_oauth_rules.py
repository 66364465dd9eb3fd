"""Pure OAuth rules: scopes, redirect URIs, credential hashes and per-app user ids."""
from __future__ import annotations

import pytest

from chalicelib.domain import oauth


def test_the_seeds_five_scopes_are_known_and_only_trade_moves_funds():
    assert list(oauth.SCOPES) == ["userInfo", "accountInfo", "accountDetail", "tradeInfo", "trade"]
    assert [s.name for s in oauth.SCOPES.values() if s.writes] == ["trade"]


def test_scope_text_is_canonical_and_parsing_keeps_the_first_of_each_name():
    assert oauth.parse_scope("  trade userInfo trade ") == ["trade", "userInfo"]
    assert oauth.scope_text(["trade", "userInfo", "trade"]) == "userInfo trade"
    assert oauth.unknown_scopes(["userInfo", "withdraw", "USERINFO"]) == ["withdraw", "USERINFO"]


def test_the_user_grants_at_most_what_was_asked_for():
    asked = ["userInfo", "accountInfo"]
    assert oauth.narrowed(asked, None) == asked
    assert oauth.narrowed(asked, ["accountInfo", "trade"]) == ["accountInfo"]
    assert oauth.narrowed(asked, []) == []


@pytest.mark.parametrize("uri, allowed", [
    ("https://app.example/cb", True),
    ("https://app.example/cb?x=1", True),
    ("http://127.0.0.1:8700/cb", True),
    ("http://localhost/cb", True),
    ("http://[::1]:9/cb", True),
    ("http://localhost.evil.example/cb", False),
    ("http://127.0.0.1.evil.example/cb", False),
    ("http://app.example/cb", False),
    ("https://app.example/cb#x", False),
    ("https://", False),
    ("javascript:alert(1)", False),
    ("https://app.example/c b", False),
    ("https://app.example/" + "a" * 600, False),
])
def test_redirect_uris_are_https_or_loopback_http_without_fragments(uri, allowed):
    assert oauth.valid_redirect_uri(uri) is allowed


def test_credentials_are_compared_by_hash_and_a_code_never_matches_a_token_with_the_same_text():
    stored = oauth.credential_hash("secret", "s3cret")
    assert oauth.same_secret("s3cret", stored) and not oauth.same_secret("s3cret ", stored)
    assert not oauth.same_secret(None, stored) and not oauth.same_secret("s3cret", None)
    assert oauth.credential_hash("code", "abc") != oauth.credential_hash("access", "abc")


def test_an_app_sees_a_stable_user_id_that_another_app_cannot_link():
    assert oauth.open_id("salt-a", "42") == oauth.open_id("salt-a", "42")
    assert oauth.open_id("salt-a", "42") != oauth.open_id("salt-b", "42")
    assert oauth.open_id("salt-a", "42") != oauth.open_id("salt-a", "43")
    assert len(oauth.open_id("salt-a", "42")) == 32
