"""OAuth client apps of an org: registration, listing, enable and disable, and the
checks the authorization server makes on them.

An app is confidential (a server that keeps a secret) or public (a browser or mobile
app, which must use PKCE). The secret is shown once, in the answer to `create_app`, and
only its hash is kept. Redirect URIs are matched exactly, character for character;
https only, except plain http to a loopback address (RFC 8252). Disabling an app ends
every token it holds for good (enabling it again does not bring them back).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Iterable, Optional

from chalicelib.domain import oauth
from chalicelib.domain.errors import IdempotencyMismatch, InvalidParameter, MissingParameter
from chalicelib.domain.oauth_errors import OAuthAppNotFound
from chalicelib.services import catalog
from chalicelib.store import oauth as store
from chalicelib.store.oauth import OAuthApp


@dataclass(frozen=True)
class CreatedApp:
    """A new app and its secret (None for a public app): the secret leaves the platform once."""

    app: OAuthApp
    client_secret: Optional[str]


def app_view(app: OAuthApp) -> dict:
    return {"client_id": app.client_id, "name": app.name, "client_type": app.client_type,
            "redirect_uris": list(app.redirect_uris), "scopes": list(app.scopes), "enabled": app.enabled,
            "created_at": app.created_at, "updated_at": app.updated_at}


def _redirect_uris(uris: Iterable[str]) -> tuple[str, ...]:
    cleaned: list[str] = []
    for uri in uris or ():
        if not oauth.valid_redirect_uri(uri):
            raise InvalidParameter("redirect_uris", f"Redirect URI is not allowed: {str(uri)[:80]!r} "
                                                    "(https, or http to a loopback address; no fragment)")
        if uri not in cleaned:
            cleaned.append(uri)
    if not cleaned:
        raise MissingParameter("redirect_uris")
    if len(cleaned) > oauth.MAX_REDIRECT_URIS:
        raise InvalidParameter("redirect_uris", f"At most {oauth.MAX_REDIRECT_URIS} redirect URIs")
    return tuple(cleaned)


def _scopes(names: Iterable[str]) -> tuple[str, ...]:
    names = list(names or ())
    if not names:
        raise MissingParameter("scopes")
    unknown = oauth.unknown_scopes(names)
    if unknown:
        raise InvalidParameter("scopes", f"Unknown scope(s): {', '.join(unknown)}; known: {', '.join(oauth.SCOPES)}")
    return tuple(oauth.scope_text(names).split())


def create_app(org_id: str, *, name: str, client_type: str, redirect_uris: Iterable[str], scopes: Iterable[str],
               created_by: str = "", operation_id: Optional[str] = None, client_id: Optional[str] = None,
               client_secret: Optional[str] = None) -> CreatedApp:
    """A retry with the same `operation_id` answers the same app without its secret (the
    secret is shown once, and kept nowhere to be shown again). `client_id` and
    `client_secret` are for fixed demo data only; real apps get random ones."""
    catalog.org(org_id)
    name = (name or "").strip()
    if not name:
        raise MissingParameter("name")
    if len(name) > oauth.MAX_APP_NAME:
        raise InvalidParameter("name", f"Name is longer than {oauth.MAX_APP_NAME} characters")
    if client_type not in oauth.CLIENT_TYPES:
        raise InvalidParameter("client_type", "client_type is confidential or public")
    uris, allowed = _redirect_uris(redirect_uris), _scopes(scopes)
    secret = None
    if client_type == oauth.CONFIDENTIAL:
        secret = client_secret or secrets.token_urlsafe(48)
    now = store.now_ms()
    if operation_id and not client_id:
        client_id = hashlib.sha256(f"oauth-app:{org_id}:{operation_id}".encode()).hexdigest()[:32]
    app = OAuthApp(client_id or secrets.token_hex(16), org_id, name, client_type, uris, allowed,
                   oauth.credential_hash("secret", secret) if secret else None, secrets.token_hex(16), True, 0,
                   now, now, created_by)
    stored = store.create(app)
    if (stored.org_id, stored.name, stored.client_type, stored.redirect_uris, stored.scopes) != \
            (app.org_id, app.name, app.client_type, app.redirect_uris, app.scopes):
        raise IdempotencyMismatch("This operation_id already created a different app")
    return CreatedApp(stored, secret if stored.secret_hash == app.secret_hash else None)


def get_app(org_id: str, client_id: str) -> OAuthApp:
    """An app of this org (another org's app does not exist here)."""
    app = store.get(client_id)
    if app is None or app.org_id != org_id:
        raise OAuthAppNotFound()
    return app


def find_app(client_id: Optional[str]) -> Optional[OAuthApp]:
    return store.get(client_id) if client_id else None


def list_apps(org_id: str, *, limit: int = 100) -> list[OAuthApp]:
    return store.for_org(org_id, limit=max(1, min(int(limit), 500)))


def disable_app(org_id: str, client_id: str) -> OAuthApp:
    return store.set_enabled(get_app(org_id, client_id), False)


def enable_app(org_id: str, client_id: str) -> OAuthApp:
    return store.set_enabled(get_app(org_id, client_id), True)


def check_secret(app: OAuthApp, presented: Optional[str]) -> bool:
    return oauth.same_secret(presented, app.secret_hash)


def accepts_tokens_from(app: OAuthApp, authorized_at: int) -> bool:
    """Whether a grant made at `authorized_at` may still be used with this app."""
    return app.enabled and authorized_at > app.tokens_valid_after
