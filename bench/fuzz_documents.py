"""schemathesis against every family's OpenAPI document on the local stack.

Each documented operation gets `examples` generated requests (half valid per the document,
half invalid: schemathesis's positive and negative modes), sent with a logged-in caller of
the family (a user session, an admin session, an OAuth bearer token of the demo public
app, a signed org key, a signed user API key, a card partner's JWT). Every answer must pass `not_a_server_error` and `json_answer` (a JSON content type
and a body that parses), except that operations whose document says they answer HTML or
a static file (the consent and error pages, the page assets) skip the JSON check.
Failures are collected, not shrunk, so one run reports all of them.

tests/e2e/test_schemathesis.py runs this with a small count in CI; by hand, with a large one:

    .venv/bin/python bench/fuzz_documents.py [--examples 200] [--family admin] [--seed 1]

FUZZ_TRACE=1 prints every answer's status, operation and first bytes to stderr.
"""
from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import json
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, urlsplit

import requests
from hypothesis import HealthCheck, Phase, given, seed as hypothesis_seed, settings
from hypothesis.errors import Unsatisfiable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import schemathesis  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.core import NOT_SET  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

# Longer than the longest legitimate wait (the Org API's notification long poll: 20 s).
TIMEOUT = 30
# A valid long-poll wait above this is lowered to it: an honest 20-second wait per example
# would only make the run long.
FUZZ_MAX_WAIT = "2"
JSON_MEDIA = "application/json"
# Run after every other operation of their family: each can end the session it is sent
# with, or (whitelist/add) shut the caller's address out of the Admin API.
LAST = ("/admin/api/v1/auth/logout", "/admin/api/v1/auth/password", "/admin/api/v1/auth/totp_bind",
        "/admin/api/v1/auth/totp_confirm", "/admin/api/v1/admins/disable", "/admin/api/v1/admins/set_roles",
        "/admin/api/v1/admins/reset_password", "/admin/api/v1/admins/reset_totp", "/admin/api/v1/whitelist/add",
        "/api/user/authorize_cancel", "/api/user/update_pwd", "/api/user/session/revoke_others")


def json_answer(ctx, response, case) -> None:
    """Every answer is JSON: its content type says so and its body parses."""
    value = {name.lower(): v for name, v in response.headers.items()}.get("content-type")
    media = (value[0] if value else "") if isinstance(value, list) else (value or "")
    if not media.lower().startswith(JSON_MEDIA):
        raise AssertionError(f"{response.status_code} answered with content type {media!r}, not JSON")
    try:
        json.loads(response.content or b"")
    except ValueError:
        raise AssertionError(f"{response.status_code} answered a body that is not JSON: "
                             f"{(response.content or b'')[:120]!r}") from None


# --- callers ----------------------------------------------------------------------------------------

@dataclass
class Caller:
    """A logged-in client of one family: its cookie jar and headers, renewable."""

    login: Callable[[], tuple[requests.Session, dict]]
    sign: Optional[Callable[[Any], None]] = None  # per request, for families that sign their parameters
    session: requests.Session = field(init=False)
    headers: dict = field(init=False)

    def __post_init__(self):
        self.renew()

    def renew(self) -> None:
        self.session, self.headers = self.login()


def _ok(answer: requests.Response) -> Any:
    assert answer.status_code == 200, (answer.request.method, answer.request.url, answer.status_code, answer.text)
    return answer.json()


def user_caller(base_url: str, user: dict) -> Caller:
    def login():
        http = requests.Session()
        _ok(http.post(f"{base_url}/api/user/authorize", data={"username": user["email"],
                                                                "password": user["password"]}, timeout=TIMEOUT))
        return http, {"X-CSRF-Token": http.cookies.get("c_token") or ""}
    return Caller(login)


def admin_caller(base_url: str, admin: dict) -> Caller:
    def login():
        http = requests.Session()
        answer = _ok(http.post(f"{base_url}/admin/api/v1/auth/login",
                               data={"username": admin["username"], "password": admin["password"]},
                               timeout=TIMEOUT))
        assert not (answer.get("data") or {}).get("need_totp"), answer
        return http, {"X-CSRF-Token": http.cookies.get("admin_c_token") or ""}
    return Caller(login)


def oauth_caller(base_url: str, app: dict, user: dict) -> Caller:
    """An access token of the demo public app for `user`, through the consent page's JSON
    calls (what its script does) and the token endpoint with PKCE."""
    prefix = f"{base_url}/api/v2/oauth2"

    def login():
        http = requests.Session()
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        request = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": app["redirect_uris"][0],
                   "scope": " ".join(app["scopes"]), "state": secrets.token_hex(8), "code_challenge": challenge,
                   "code_challenge_method": "S256"}
        consent = _ok(http.post(f"{prefix}/page/login", json={"client_id": app["client_id"], "login": user["email"],
                                                              "password": user["password"]}, timeout=TIMEOUT))
        decided = _ok(http.post(f"{prefix}/authorize", data={**request, "decision": "approve"}, timeout=TIMEOUT,
                                headers={"Accept": JSON_MEDIA, "X-OAuth-Consent": consent["consent_token"]}))
        code = parse_qs(urlsplit(decided["redirect_uri"]).query)["code"][0]
        token = _ok(http.post(f"{prefix}/token", timeout=TIMEOUT, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": request["redirect_uri"],
            "code_verifier": verifier, "client_id": app["client_id"]}))
        return requests.Session(), {"Authorization": f"Bearer {token['access_token']}"}
    return Caller(login)


def _wire_values(values: Any) -> dict[str, str]:
    """What requests will send for a dict of query or form values (None dropped, lists
    repeated: the server refuses repeats, so one value stands for them here)."""
    if not isinstance(values, dict):
        return {}
    wire = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            if not value:
                continue
            value = value[-1]
        wire[str(name)] = str(value)
    return wire


def _short_waits(values: Any) -> None:
    if isinstance(values, dict) and str(values.get("wait", "")).isdigit() and int(values["wait"]) > int(FUZZ_MAX_WAIT):
        values["wait"] = FUZZ_MAX_WAIT


def org_caller(org: dict) -> Caller:
    """The demo org's asset key (loopback whitelisted); each request is signed over the
    query and form values it will carry, as an org's back end does."""
    from chalicelib.auth import org_signature

    def login():
        return requests.Session(), {"X-ACCESS-KEY": org["api_key"]}

    def sign(case) -> None:
        _short_waits(case.body)
        _short_waits(case.query)
        query = dict(case.query or {})
        query.pop(org_signature.SIGNATURE, None)
        query[org_signature.TIMESTAMP] = str(int(time.time() * 1000))
        values = {**_wire_values(case.body if isinstance(case.body, dict) else {}), **_wire_values(query)}
        query[org_signature.SIGNATURE] = org_signature.sign(org["api_secret"], values)
        case.query = query

    return Caller(login, sign)


def bhex_caller(user: dict) -> Caller:
    """A demo user's trade key, as the bhex SDK and ccxt call the User OpenAPI: every
    parameter in the query string, `timestamp` last, and `signature` the HMAC-SHA256 of
    that query string. A form body the generator wrote travels in the query instead (BHEX
    reads both alike); any other body is signed as the text it is sent as."""
    from urllib.parse import urlencode

    from chalicelib.auth import bhex_signature

    def login():
        return requests.Session(), {"X-BH-APIKEY": user["api_key"]}

    def sign(case) -> None:
        query = _wire_values(case.query)
        if isinstance(case.body, dict):
            query = {**_wire_values(case.body), **query}
            case.body = NOT_SET
        query.pop(bhex_signature.SIGNATURE, None)
        query.pop(bhex_signature.TIMESTAMP, None)
        query[bhex_signature.TIMESTAMP] = str(int(time.time() * 1000))
        body = case.body if isinstance(case.body, str) else ""
        query[bhex_signature.SIGNATURE] = bhex_signature.sign(user["api_secret"], urlencode(query) + body)
        case.query = query

    return Caller(login, sign)


def partner_caller(base_url: str, partner: dict) -> Caller:
    """The demo card partner's JWT (Klip: the raw token in Authorization)."""
    def login():
        answer = _ok(requests.post(f"{base_url}/v2/partner/auth", json={
            "email": partner["email"], "password": partner["password_sha256"]}, timeout=TIMEOUT))
        return requests.Session(), {"Authorization": answer["access_token"]}
    return Caller(login)


def callers(base_url: str, info: dict) -> dict[str, Caller]:
    """One caller per documented family, from what the stack seeded (stack.json)."""
    alice = next(u for u in info["users"] if u["email"] == "alice@demo.local")
    bob = next(u for u in info["users"] if u["email"] == "bob@demo.local")
    return {"user": user_caller(base_url, alice), "openapi": bhex_caller(bob),
            "admin": admin_caller(base_url, info["admin"]),
            "oauth": oauth_caller(base_url, info["oauth"]["public"], alice), "org": org_caller(info["org"]),
            "partner": partner_caller(base_url, info["klip"]["partner"])}


# --- fuzzing ----------------------------------------------------------------------------------------

@dataclass
class Outcome:
    family: str
    operations: int = 0
    examples: int = 0
    statuses: collections.Counter = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)
    unsatisfiable: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        codes = ", ".join(f"{code}: {count}" for code, count in sorted(self.statuses.items()))
        return (f"{self.family}: {self.operations} operations, {self.examples} examples in {self.seconds:.1f} s, "
                f"{len(self.failures)} failures; statuses {codes}; {len(self.unsatisfiable)} operation-modes "
                f"with no case to generate")


def _answers_json(operation) -> bool:
    ok = operation.definition.raw.get("responses", {}).get("200", {})
    return JSON_MEDIA in ok.get("content", {JSON_MEDIA: {}})


def _over(generated: Optional[dict], real: dict) -> dict:
    """`real` replaces any generated value of the same (case-insensitive) name."""
    names = {name.lower() for name in real}
    return {**{k: v for k, v in (generated or {}).items() if k.lower() not in names}, **real}


def _order(operation) -> tuple[int, str]:
    return (1 if operation.path in LAST else 0, operation.label)


def fuzz_family(base_url: str, family: str, caller: Optional[Caller], examples: int, *, seed: int = 0) -> Outcome:
    raw = _ok(requests.get(f"{base_url}/docs/openapi/{family}.json", timeout=TIMEOUT))
    schema = schemathesis.openapi.from_dict(raw)
    outcome = Outcome(family)
    started = time.monotonic()
    # an alias path runs the same view with the same model: fuzzed once, through its first path
    found = [operation for operation in (result.ok() for result in schema.get_all_operations())
             if "x-alias-of" not in operation.definition.raw]
    for number, operation in enumerate(sorted(found, key=_order)):
        checks = [not_a_server_error] + ([json_answer] if _answers_json(operation) else [])
        outcome.operations += 1
        unauthorized = False
        for mode, count in ((GenerationMode.POSITIVE, (examples + 1) // 2), (GenerationMode.NEGATIVE, examples // 2)):
            if count == 0:
                continue

            @hypothesis_seed(seed * 100_003 + number)
            @settings(max_examples=count, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                nonlocal unauthorized
                headers = dict(caller.headers) if caller else {}
                if caller is not None:
                    # the caller's real credentials, over whatever was generated for the security schemes
                    case.headers = _over(case.headers, headers)
                    case.cookies = _over(case.cookies, caller.session.cookies.get_dict())
                    if caller.sign is not None:
                        caller.sign(case)
                try:
                    response = case.call(base_url=base_url, session=caller.session if caller else None,
                                         timeout=TIMEOUT, allow_redirects=False)
                except requests.RequestException as failure:  # no answer at all is a failure too
                    outcome.failures.append(f"{operation.label} [{mode.value}] no answer: {failure}\n"
                                            f"    {case.as_curl_command(headers=headers)[:600]}")
                    return
                outcome.examples += 1
                outcome.statuses[response.status_code] += 1
                if os.environ.get("FUZZ_TRACE"):
                    print(response.status_code, operation.label, mode.value, response.content[:150], file=sys.stderr)
                unauthorized |= response.status_code == 401
                try:
                    case.validate_response(response, checks=checks, headers=headers)
                except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001  (every failed check is reported)
                    outcome.failures.append(f"{operation.label} [{mode.value}] {str(failure).strip()[:600]}\n"
                                            f"    {case.as_curl_command(headers=headers)[:600]}")

            try:
                run()
            except Unsatisfiable:
                outcome.unsatisfiable.append(f"{operation.label} [{mode.value}]")  # e.g. nothing to make invalid
        if unauthorized and caller is not None:
            caller.renew()  # an operation may have ended the session (logout): the next one starts afresh
    outcome.seconds = time.monotonic() - started
    return outcome


def fuzz_all(base_url: str, info: dict, examples: int, *, families: Optional[list[str]] = None,
             seed: int = 0) -> list[Outcome]:
    index = _ok(requests.get(f"{base_url}/docs/openapi", timeout=TIMEOUT))
    who = callers(base_url, info)
    return [fuzz_family(base_url, doc["family"], who.get(doc["family"]), examples, seed=seed)
            for doc in index["documents"] if families is None or doc["family"] in families]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=200, help="generated requests per operation")
    parser.add_argument("--family", action="append", help="only these families (repeatable)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from infra.local.stack import LocalStack

    with LocalStack() as stack:
        outcomes = fuzz_all(stack.rest_url, stack.info, args.examples, families=args.family, seed=args.seed)
    for outcome in outcomes:
        print(outcome.line())
        for failure in outcome.failures:
            print("  FAIL", failure)
    return 1 if any(outcome.failures for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
