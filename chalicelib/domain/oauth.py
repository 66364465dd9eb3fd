"""OAuth 2.0 rules that need no I/O: the seed's scopes, lifetimes, scope arithmetic, the
per-app pseudonymous user id, and how credentials are kept (hashes only).

Scopes and the calls they open are the seed's (§4 of the BHOP document): `userInfo`,
`accountInfo`, `accountDetail`, `tradeInfo`, `trade`.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Iterable, Optional

USER_INFO, ACCOUNT_INFO, ACCOUNT_DETAIL, TRADE_INFO, TRADE = (
    "userInfo", "accountInfo", "accountDetail", "tradeInfo", "trade")


@dataclass(frozen=True)
class Scope:
    name: str
    title: str
    description: str
    writes: bool = False


SCOPES: dict[str, Scope] = {s.name: s for s in (
    Scope(USER_INFO, "Your profile", "Read your user id, e-mail, mobile number, KYC level and security settings"),
    Scope(ACCOUNT_INFO, "Your balances",
          "Read your account, your balance of every token and your deposit addresses"),
    Scope(ACCOUNT_DETAIL, "Your account history", "Read your balance flow, deposit history and withdrawal history"),
    Scope(TRADE_INFO, "Your orders and trades", "Read your open orders, order history and trade details"),
    Scope(TRADE, "Trade for you", "Place and cancel spot orders with your funds", writes=True),
)}
SCOPE_ORDER = tuple(SCOPES)

CONFIDENTIAL, PUBLIC = "confidential", "public"
CLIENT_TYPES = (CONFIDENTIAL, PUBLIC)

# RFC 6749 §4.1.2 recommends at most ten minutes for a code; RFC 9700 §2.2.2 asks for
# short-lived access tokens when refresh tokens rotate.
CODE_SECONDS = 600
ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 30 * 24 * 3600
GRANT_MAX_SECONDS = 180 * 24 * 3600       # a consent lasts at most this long, refreshes included
CONSENT_LOGIN_SECONDS = 600               # a login on the consent page is good for one decision
REUSE_EVIDENCE_SECONDS = 24 * 3600        # used codes are kept this long to catch a replay

# The seed: "a single token makes at most 2 requests per second".
REQUESTS_PER_WINDOW = 2
WINDOW_MS = 1000

MAX_REDIRECT_URIS = 10
MAX_REDIRECT_URI_LENGTH = 512
MAX_APP_NAME = 64


def parse_scope(text: Optional[str]) -> list[str]:
    """A space-separated scope string as an ordered list without duplicates."""
    seen: list[str] = []
    for name in (text or "").split():
        if name not in seen:
            seen.append(name)
    return seen


def unknown_scopes(names: Iterable[str]) -> list[str]:
    return [name for name in names if name not in SCOPES]


def scope_text(names: Iterable[str]) -> str:
    """Canonical order, so equal grants compare equal as strings."""
    wanted = set(names)
    return " ".join(name for name in SCOPE_ORDER if name in wanted)


def narrowed(requested: Iterable[str], chosen: Optional[Iterable[str]]) -> list[str]:
    """What the user grants: the scopes they kept, never more than were asked for."""
    requested = list(requested)
    if chosen is None:
        return requested
    kept = set(chosen)
    return [name for name in requested if name in kept]


def credential_hash(kind: str, value: str) -> str:
    """Codes, tokens and secrets are stored as this hash only. They are 256-bit random
    values, so a fast hash is enough (no password stretching needed); `kind` keeps a code
    from ever matching a token with the same text."""
    return hashlib.sha256(f"oauth-{kind}:{value}".encode()).hexdigest()


def same_secret(presented: Optional[str], stored_hash: Optional[str], kind: str = "secret") -> bool:
    if not presented or not stored_hash:
        return False
    return hmac.compare_digest(credential_hash(kind, presented), stored_hash)


def open_id(salt: str, uid: str) -> str:
    """The user's id as one app sees it: stable for that app, unlinkable across apps."""
    return hmac.new(salt.encode(), f"open-id:{uid}".encode(), hashlib.sha256).hexdigest()[:32]


def valid_redirect_uri(uri: str) -> bool:
    """https anywhere; plain http only to a loopback address (RFC 8252 §7.3); no fragment."""
    if not isinstance(uri, str) or not uri or len(uri) > MAX_REDIRECT_URI_LENGTH or "#" in uri:
        return False
    if any(ch.isspace() for ch in uri):
        return False
    lowered = uri.lower()
    if lowered.startswith("https://"):
        return len(uri) > len("https://")
    for loopback in ("http://127.0.0.1", "http://localhost", "http://[::1]"):
        if lowered.startswith(loopback) and lowered[len(loopback):len(loopback) + 1] in ("", ":", "/"):
            return True
    return False
