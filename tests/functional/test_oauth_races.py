"""Writes that race: two exchanges of one code, two refreshes with one refresh token, and
many requests of one token at the same instant. Each is decided by a DynamoDB condition,
so the loser is refused however the requests interleave; the stale reads below put the
loser exactly where a real race would (it read before the winner committed)."""
from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

from chalicelib.store import oauth_grants, oauth_rate
from tests.functional.test_oauth_support import (  # noqa: F401  (fixtures)
    Api, Consent, grant, http, items, oauth,
)


def stale_once(monkeypatch, name: str, **unused_fields):
    """The next read of `name` answers the record as it was before it was used."""
    real = getattr(oauth_grants, name)
    calls = []

    def read(key):
        found = real(key)
        if not calls and found is not None:
            calls.append(key)
            return dataclasses.replace(found, **unused_fields)
        return found

    monkeypatch.setattr(oauth_grants, name, read)


def test_an_exchange_that_lost_the_race_for_a_code_is_refused_and_revokes_the_winner(oauth, http, monkeypatch):
    api, app = Api(http), oauth["apps"]["confidential"]
    consent = Consent(api, app)
    code = consent.code("alice@demo.local")
    params = {"grant_type": "authorization_code", "code": code, "redirect_uri": consent.params["redirect_uri"]}
    winner = api.token(app, params)
    assert winner.status == 200
    stale_once(monkeypatch, "get_code", used_at=None, family_id=None)
    loser = api.token(app, params)
    assert (loser.status, loser.error) == (400, "invalid_grant"), loser
    assert len(items("OAUTHTOKEN#")) == 1 and len(items("OAUTHFAMILY#")) == 1
    assert api.call(winner.json["access_token"], "user/getInfo").status == 401


def test_a_refresh_that_lost_the_race_is_refused_and_revokes_the_family(oauth, http, monkeypatch):
    api, app = Api(http), oauth["apps"]["public"]
    tokens = grant(api, app, "bob@demo.local", scope="userInfo")
    params = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    winner = api.token(app, params)
    assert winner.status == 200
    stale_once(monkeypatch, "get_refresh", used_at=None)
    loser = api.token(app, params)
    assert (loser.status, loser.error) == (400, "invalid_grant"), loser
    assert len(items("OAUTHTOKEN#")) == 1
    assert api.call(winner.json["access_token"], "user/getInfo").status == 401


def test_many_requests_of_one_token_at_one_instant_admit_exactly_two():
    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(lambda _: oauth_rate.admit("racing-token", 1_000_000, 1000, 120), range(6)))
    assert sorted(o is None for o in outcomes) == [False] * 4 + [True] * 2
    assert all(o == 1000 for o in outcomes if o is not None)
    assert oauth_rate.admit("racing-token", 1_000_999, 1000, 120) == 1
    assert oauth_rate.admit("racing-token", 1_001_000, 1000, 120) is None
