"""Banners and announcements an org shows, and a user's favorites and settings.

Kept small on purpose: the Admin API will edit content through `put_item` /
`delete_item`; the User API only reads what is published and in its time window.
"""
from __future__ import annotations

import json
from typing import Optional

from chalicelib.domain.errors import InvalidParameter, MissingParameter
from chalicelib.domain.ids import new_id
from chalicelib.services import catalog
from chalicelib.store import content as store
from chalicelib.store.content import ContentItem

KINDS = ("banner", "announcement")
MAX_FAVORITES = 100
MAX_SETTINGS_BYTES = 4096


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidParameter("kind")
    return kind


def item_view(item: ContentItem) -> dict:
    return {"id": item.item_id, "title": item.title, "body": item.body, "image_url": item.image_url,
            "link": item.link, "locale": item.locale, "sort": item.sort, "starts_at": item.starts_at,
            "ends_at": item.ends_at, "updated_at": item.updated_at}


def published(org_id: str, kind: str, *, locale: Optional[str] = None, limit: int = 50) -> list[dict]:
    """What is published now, best `sort` first, then newest; a locale filter keeps items
    of that locale and items without one."""
    now = store.now_ms()
    found = [i for i in store.items(org_id, _kind(kind)) if i.published
             and (i.starts_at is None or i.starts_at <= now) and (i.ends_at is None or now < i.ends_at)
             and (not locale or not i.locale or i.locale.lower() == locale.lower())]
    found.sort(key=lambda i: (-i.sort, -i.created_at))
    return [item_view(i) for i in found[:max(1, min(limit, 200))]]


def put_item(org_id: str, kind: str, *, item_id: Optional[str] = None, title: str = "", body: str = "",
             image_url: str = "", link: str = "", locale: str = "", sort: int = 0, published: bool = True,
             starts_at: Optional[int] = None, ends_at: Optional[int] = None) -> dict:
    """Creates or replaces a banner or announcement (Admin API, seeds)."""
    now = store.now_ms()
    item = ContentItem(item_id or str(new_id()), org_id, _kind(kind), title[:200], body[:20000], image_url[:1000],
                       link[:1000], locale[:16], int(sort), bool(published), starts_at, ends_at, now, now)
    store.put_item(item)
    return item_view(item)


def delete_item(org_id: str, kind: str, item_id: str) -> None:
    store.delete_item(org_id, _kind(kind), item_id)


# --- favorites ----------------------------------------------------------------------------------

def favorites(org_id: str, uid: str) -> list[str]:
    """The user's favorite symbols still listed by the org, oldest first."""
    listed = catalog.org(org_id).symbols
    return [symbol for symbol, _ in sorted(store.favorites(uid), key=lambda f: f[1]) if symbol in listed]


def add_favorites(org_id: str, uid: str, symbols: list[str]) -> list[str]:
    if not symbols:
        raise MissingParameter("symbol_id")
    org = catalog.org(org_id)
    for symbol in symbols:
        org.symbol(symbol)
    current = favorites(org_id, uid)
    if len(set(current) | set(symbols)) > MAX_FAVORITES:
        raise InvalidParameter("symbol_id", f"At most {MAX_FAVORITES} favorites")
    for symbol in symbols:
        if symbol not in current:
            store.add_favorite(uid, symbol)
    return favorites(org_id, uid)


def remove_favorites(org_id: str, uid: str, symbols: list[str]) -> list[str]:
    if not symbols:
        raise MissingParameter("symbol_id")
    for symbol in symbols:
        store.remove_favorite(uid, symbol)
    return favorites(org_id, uid)


# --- settings ----------------------------------------------------------------------------------

def settings(uid: str) -> dict:
    return store.get_settings(uid)


def update_settings(uid: str, changes: dict) -> dict:
    """Merges `changes` (a flat JSON object; a null value removes a key) into the user's
    settings, at most MAX_SETTINGS_BYTES in all."""
    if not isinstance(changes, dict) or not changes:
        raise InvalidParameter("settings", "Settings must be a non-empty JSON object")
    merged = dict(store.get_settings(uid))
    for key, value in changes.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 64:
            raise InvalidParameter("settings", "Setting names are 1 to 64 characters")
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, (str, int, float, bool)):
            merged[key] = value
        else:
            raise InvalidParameter("settings", f"Setting '{key}' must be a string, number or boolean")
    if len(json.dumps(merged)) > MAX_SETTINGS_BYTES:
        raise InvalidParameter("settings", f"Settings are at most {MAX_SETTINGS_BYTES} bytes")
    store.put_settings(uid, merged)
    return merged
