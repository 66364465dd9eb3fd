"""Site content of an org (banners, announcements) and small per-user preferences
(favorite symbols, web/app settings).

* content item: `CONTENT#<org_id>#<kind>` / `<item_id>` (kind: banner | announcement).
* favorite: `FAV#<uid>` / `<symbol>`.
* settings: `USERSETTINGS#<uid>` / `META`, one JSON document.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Optional

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError

from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity


class ContentRecord(Entity):
    item_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    title = UnicodeAttribute(default="")
    body = UnicodeAttribute(default="")
    image_url = UnicodeAttribute(default="")
    link = UnicodeAttribute(default="")
    locale = UnicodeAttribute(default="")
    sort = IntegerAttribute(default=0)
    published = BooleanAttribute(default=True)
    starts_at = IntegerAttribute(null=True)
    ends_at = IntegerAttribute(null=True)
    created_at = IntegerAttribute()
    updated_at = IntegerAttribute()


class FavoriteRecord(Entity):
    symbol = UnicodeAttribute()
    created_at = IntegerAttribute()


class SettingsRecord(Entity):
    document = UnicodeAttribute(default="{}")
    updated_at = IntegerAttribute()


@dataclass(frozen=True)
class ContentItem:
    item_id: str
    org_id: str
    kind: str
    title: str = ""
    body: str = ""
    image_url: str = ""
    link: str = ""
    locale: str = ""
    sort: int = 0
    published: bool = True
    starts_at: Optional[int] = None
    ends_at: Optional[int] = None
    created_at: int = 0
    updated_at: int = 0


def now_ms() -> int:
    return int(time.time() * 1000)


def _content_key(org_id: str, kind: str) -> str:
    return f"CONTENT#{org_id}#{kind}"


def put_item(item: ContentItem) -> None:
    ContentRecord(_content_key(item.org_id, item.kind), item.item_id, item_id=item.item_id, org_id=item.org_id,
                  kind=item.kind, title=item.title, body=item.body, image_url=item.image_url, link=item.link,
                  locale=item.locale, sort=item.sort, published=item.published, starts_at=item.starts_at,
                  ends_at=item.ends_at, created_at=item.created_at, updated_at=item.updated_at).save()


def items(org_id: str, kind: str) -> list[ContentItem]:
    return [ContentItem(r.item_id, r.org_id, r.kind, r.title, r.body, r.image_url, r.link, r.locale, r.sort,
                        r.published, r.starts_at, r.ends_at, r.created_at, r.updated_at)
            for r in ContentRecord.query(_content_key(org_id, kind))]


def delete_item(org_id: str, kind: str, item_id: str) -> None:
    try:
        ContentRecord(_content_key(org_id, kind), item_id).delete()
    except DeleteError:
        pass


def favorite_key(uid: str) -> str:
    return f"FAV#{uid}"


def add_favorite(uid: str, symbol: str) -> None:
    FavoriteRecord(favorite_key(uid), symbol, symbol=symbol, created_at=now_ms()).save()


def remove_favorite(uid: str, symbol: str) -> None:
    try:
        FavoriteRecord(favorite_key(uid), symbol).delete()
    except DeleteError:
        pass


def favorites(uid: str) -> list[tuple[str, int]]:
    return [(r.symbol, r.created_at) for r in FavoriteRecord.query(favorite_key(uid), consistent_read=True)]


def get_settings(uid: str) -> dict:
    try:
        return json.loads(SettingsRecord.get(f"USERSETTINGS#{uid}", "META", consistent_read=True).document)
    except SettingsRecord.DoesNotExist:
        return {}


def put_settings(uid: str, document: dict) -> None:
    SettingsRecord(f"USERSETTINGS#{uid}", "META", document=json.dumps(document, separators=(",", ":"), sort_keys=True),
                   updated_at=now_ms()).save()
