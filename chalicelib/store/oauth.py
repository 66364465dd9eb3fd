"""OAuth client apps: `OAUTHAPP#<client_id>` / `META` (gsi1 `ORGOAUTHAPPS#<org_id>` /
`<created_at:020d>#<client_id>`, for an org's listing).

The client secret is never stored, only its hash. `tokens_valid_after` moves to the time
of every disable, so tokens issued before it stay dead after the app is enabled again.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import Optional

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError

from chalicelib.domain.oauth_errors import OAuthAppNotFound
from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity, Gsi1, padded


class OAuthAppRecord(Entity):
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    client_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    name = UnicodeAttribute()
    client_type = UnicodeAttribute()
    redirect_uris = UnicodeAttribute()   # JSON list: kept in the order the org gave
    scopes = UnicodeAttribute()          # space-separated, canonical order
    secret_hash = UnicodeAttribute(null=True)
    open_id_salt = UnicodeAttribute()
    enabled = BooleanAttribute(default=True)
    tokens_valid_after = IntegerAttribute(default=0)
    created_at = IntegerAttribute()
    updated_at = IntegerAttribute()
    created_by = UnicodeAttribute(default="")


@dataclass(frozen=True)
class OAuthApp:
    client_id: str
    org_id: str
    name: str
    client_type: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    secret_hash: Optional[str]
    open_id_salt: str
    enabled: bool
    tokens_valid_after: int
    created_at: int
    updated_at: int
    created_by: str = ""


def now_ms() -> int:
    return int(time.time() * 1000)


def _key(client_id: str) -> str:
    return f"OAUTHAPP#{client_id}"


def _to_app(record: OAuthAppRecord) -> OAuthApp:
    return OAuthApp(record.client_id, record.org_id, record.name, record.client_type,
                    tuple(json.loads(record.redirect_uris)), tuple(record.scopes.split()), record.secret_hash,
                    record.open_id_salt, record.enabled, record.tokens_valid_after or 0, record.created_at,
                    record.updated_at, record.created_by or "")


def create(app: OAuthApp) -> OAuthApp:
    record = OAuthAppRecord(
        _key(app.client_id), "META", gsi1pk=f"ORGOAUTHAPPS#{app.org_id}",
        gsi1sk=f"{padded(app.created_at)}#{app.client_id}", client_id=app.client_id, org_id=app.org_id,
        name=app.name, client_type=app.client_type, redirect_uris=json.dumps(list(app.redirect_uris)),
        scopes=" ".join(app.scopes), secret_hash=app.secret_hash, open_id_salt=app.open_id_salt,
        enabled=app.enabled, tokens_valid_after=app.tokens_valid_after, created_at=app.created_at,
        updated_at=app.updated_at, created_by=app.created_by)
    try:
        record.save(condition=OAuthAppRecord.pk.does_not_exist())
    except PutError as error:
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            existing = get(app.client_id)
            if existing is not None:
                return existing
        raise
    return app


def get(client_id: str) -> Optional[OAuthApp]:
    if not client_id:
        return None
    try:
        return _to_app(OAuthAppRecord.get(_key(client_id), "META", consistent_read=True))
    except OAuthAppRecord.DoesNotExist:
        return None


def for_org(org_id: str, *, limit: int = 100) -> list[OAuthApp]:
    records = OAuthAppRecord.gsi1.query(f"ORGOAUTHAPPS#{org_id}", scan_index_forward=False, limit=limit)
    return [_to_app(record) for record in records]


def set_enabled(app: OAuthApp, enabled: bool) -> OAuthApp:
    """Enable or disable; a disable also ends every token issued until now."""
    now = now_ms()
    actions = [OAuthAppRecord.enabled.set(enabled), OAuthAppRecord.updated_at.set(now)]
    valid_after = app.tokens_valid_after
    if not enabled:
        valid_after = max(now, app.tokens_valid_after)
        actions.append(OAuthAppRecord.tokens_valid_after.set(valid_after))
    record = OAuthAppRecord(_key(app.client_id), "META")
    try:
        record.update(actions=actions, condition=OAuthAppRecord.org_id == app.org_id)
    except UpdateError as error:
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise OAuthAppNotFound() from None
        raise
    return replace(app, enabled=enabled, tokens_valid_after=valid_after, updated_at=now)
