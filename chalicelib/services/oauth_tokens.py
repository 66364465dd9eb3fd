"""Bearer tokens in use: who a resource call acts for, its limits, and how grants end.

A token is checked on every call against everything that can end it, so no other module
has to tell this one: the token's own expiry and org, its family (one consent; revoked by
the user, by a replayed code or refresh token), the app (disabled since the consent),
and the user (login frozen, password changed since the consent). A frozen or
password-changed user's family is revoked for good when its token is next presented.

Each access token admits at most two requests in any one-second window (the seed's
limit; `store.oauth_rate`); the third is refused with 429 and `Retry-After`.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Optional

from chalicelib.domain import oauth
from chalicelib.domain.custody import Holder
from chalicelib.domain.errors import NotFound, RateLimited
from chalicelib.domain.oauth_errors import OAuthAppNotFound, OAuthInsufficientScope, OAuthInvalidToken
from chalicelib.services import oauth_clients, users
from chalicelib.services.orders import Trader
from chalicelib.store import oauth_grants as store
from chalicelib.store import oauth_rate
from chalicelib.store.oauth import OAuthApp
from chalicelib.store.oauth_grants import Family, Token

ENDED_BY_USER_STATE = ("user_frozen", "password_changed", "user_gone")


def now_ms() -> int:
    """The one clock of the OAuth services (tests move it to expire codes and tokens)."""
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Bearer:
    """An access token that passed every check, and whom it acts for."""

    token: Token
    family: Family
    app: OAuthApp
    user: users.User

    @property
    def org_id(self) -> str:
        return self.token.org_id

    @property
    def uid(self) -> str:
        return self.user.uid

    @property
    def account_id(self) -> str:
        return self.user.main_account_id

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.token.scope.split())

    @property
    def open_id(self) -> str:
        return oauth.open_id(self.app.open_id_salt, self.user.uid)

    def holder(self) -> Holder:
        return Holder(self.org_id, self.uid, self.account_id)

    def trader(self) -> Trader:
        return Trader(self.org_id, self.uid, self.account_id, may_trade=not self.user.trade_frozen)

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise OAuthInsufficientScope(scope)


def ended_because(family: Optional[Family], app: Optional[OAuthApp], user: Optional[users.User],
                  now: int) -> Optional[str]:
    """Why a grant no longer works, or None while it does."""
    if family is None:
        return "unknown"
    if family.revoked_at is not None:
        return family.revoked_reason or "revoked"
    if now >= family.ends_at:
        return "expired"
    if app is None or not oauth_clients.accepts_tokens_from(app, family.authorized_at):
        return "app_disabled"
    if user is None:
        return "user_gone"
    if user.login_frozen:
        return "user_frozen"
    if (user.password_changed_at or 0) > family.authorized_at:
        return "password_changed"
    return None


def _user(org_id: str, uid: str) -> Optional[users.User]:
    try:
        return users.get_user(org_id, uid)
    except NotFound:
        return None


def live_grant(token: Token, now: int) -> tuple[Family, OAuthApp, users.User]:
    """The family, app and user behind a token; OAuthInvalidToken if any of them ended it."""
    family = store.get_family(token.family_id)
    app = oauth_clients.find_app(token.client_id)
    user = _user(token.org_id, token.uid)
    reason = ended_because(family, app, user, now)
    if reason is not None:
        if reason in ENDED_BY_USER_STATE and family is not None and family.revoked_at is None:
            store.revoke_family(family.family_id, reason, now)
        raise OAuthInvalidToken()
    return family, app, user


def authenticate(org_id: str, presented: Optional[str], *, rate_limited: bool = True) -> Bearer:
    """The bearer behind a presented access token, on the org serving this host."""
    if not presented:
        raise OAuthInvalidToken("Send the access token as 'Authorization: Bearer <token>'")
    now = now_ms()
    token = store.get_access(oauth.credential_hash("access", presented))
    if token is None or now >= token.valid_until or token.org_id != org_id:
        raise OAuthInvalidToken()
    family, app, user = live_grant(token, now)
    if rate_limited:
        wait_ms = oauth_rate.admit(token.token_hash, now, oauth.WINDOW_MS, ttl_seconds=120)
        if wait_ms is not None:
            raise RateLimited(f"At most {oauth.REQUESTS_PER_WINDOW} requests per second per access token",
                              retry_after=max(1, math.ceil(wait_ms / 1000)))
    return Bearer(token, family, app, user)


def introspect(org_id: str, presented: Optional[str], *, client: Optional[OAuthApp] = None) -> dict:
    """RFC 7662: `{"active": false}` for anything not usable right now (or not the caller's)."""
    inactive = {"active": False}
    if not presented:
        return inactive
    now = now_ms()
    token = store.get_access(oauth.credential_hash("access", presented))
    kind = "access_token"
    if token is None:
        token, kind = store.get_refresh(oauth.credential_hash("refresh", presented)), "refresh_token"
        if token is not None and token.used_at is not None:
            return inactive
    if token is None or now >= token.valid_until or token.org_id != org_id:
        return inactive
    if client is not None and token.client_id != client.client_id:
        return inactive
    try:
        family, app, user = live_grant(token, now)
    except OAuthInvalidToken:
        return inactive
    return {"active": True, "token_type": "Bearer" if kind == "access_token" else "refresh_token",
            "scope": token.scope, "client_id": token.client_id, "app_name": app.name, "user_id": user.uid,
            "open_id": oauth.open_id(app.open_id_salt, user.uid), "iat": token.issued_at // 1000,
            "exp": token.valid_until // 1000, "expires_in": max(0, (token.valid_until - now) // 1000)}


# --- the user's side: which apps may act for me, and taking that back -------------------------------------

def authorized_apps(org_id: str, uid: str) -> list[dict]:
    """Apps holding a live grant of this user, one row per app (newest consent first)."""
    users.get_user(org_id, uid)
    now = now_ms()
    user = _user(org_id, uid)
    rows: dict[str, dict] = {}
    for family in store.families_of(uid):
        if family.org_id != org_id:
            continue
        app = oauth_clients.find_app(family.client_id)
        if ended_because(family, app, user, now) is not None:
            continue
        row = rows.setdefault(app.client_id, {"client_id": app.client_id, "name": app.name, "scopes": set(),
                                              "authorized_at": 0, "grants": 0})
        row["scopes"] |= set(family.scope.split())
        row["authorized_at"] = max(row["authorized_at"], family.authorized_at)
        row["grants"] += 1
    answer = [{**row, "scopes": oauth.scope_text(row["scopes"]).split()} for row in rows.values()]
    return sorted(answer, key=lambda row: row["authorized_at"], reverse=True)


def revoke_app(org_id: str, uid: str, client_id: str) -> int:
    """Ends every grant of the user to the app; answers how many were live."""
    users.get_user(org_id, uid)
    app = oauth_clients.find_app(client_id)
    if app is None or app.org_id != org_id:
        raise OAuthAppNotFound()
    now = now_ms()
    return sum(1 for family in store.families_of(uid, client_id)
               if family.org_id == org_id and store.revoke_family(family.family_id, "user_revoked", now))


def revoke_user(org_id: str, uid: str, reason: str = "user_status") -> int:
    """Ends every grant of the user to every app (for a freeze that must outlast a thaw:
    the per-call check alone refuses tokens only while the user stays frozen)."""
    now = now_ms()
    return sum(1 for family in store.families_of(uid)
               if family.org_id == org_id and store.revoke_family(family.family_id, reason, now))


def revoke_family(family_id: Optional[str], reason: str) -> bool:
    return bool(family_id) and store.revoke_family(family_id, reason, now_ms())
