"""The back office's view of an org's banners and announcements: every item, published or
not, and edits that report what they replaced. Writes go through services/content.py
(`put_item` / `delete_item`), which the User API reads from."""
from __future__ import annotations

from typing import Optional

from chalicelib.domain.errors import InvalidParameter, NotFound
from chalicelib.services import content
from chalicelib.store import content as store

KINDS = content.KINDS


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidParameter("kind", f"kind is one of {', '.join(KINDS)}")
    return kind


def _admin_view(item: store.ContentItem) -> dict:
    return {**content.item_view(item), "kind": item.kind, "published": item.published,
            "created_at": item.created_at}


def _find(org_id: str, kind: str, item_id: str) -> Optional[store.ContentItem]:
    return next((i for i in store.items(org_id, _kind(kind)) if i.item_id == item_id), None)


def list_items(org_id: str, kind: str, *, locale: Optional[str] = None, published: Optional[bool] = None,
               page: int = 1, page_size: int = 20) -> dict:
    """Every item of the kind (a handful per org), best `sort` first, then newest; paged
    with a total."""
    found = [i for i in store.items(org_id, _kind(kind))
             if (locale is None or i.locale.lower() == locale.lower())
             and (published is None or i.published == published)]
    found.sort(key=lambda i: (-i.sort, -i.created_at))
    start = (page - 1) * page_size
    return {"current": page, "pageSize": page_size, "total": len(found),
            "list": [_admin_view(i) for i in found[start:start + page_size]]}


def get_item(org_id: str, kind: str, item_id: str) -> dict:
    item = _find(org_id, kind, item_id)
    if item is None:
        raise NotFound("Content item not found")
    return _admin_view(item)


def save_item(org_id: str, kind: str, *, item_id: Optional[str] = None, **fields) -> tuple[Optional[dict], dict]:
    """Creates (no id) or replaces an item; the views before (None when new) and after."""
    before = None
    if item_id:
        before = get_item(org_id, kind, item_id)
    starts, ends = fields.get("starts_at"), fields.get("ends_at")
    if starts is not None and ends is not None and ends <= starts:
        raise InvalidParameter("ends_at", "ends_at must be after starts_at")
    written = content.put_item(org_id, _kind(kind), item_id=item_id, **fields)
    return before, get_item(org_id, kind, written["id"])


def delete_item(org_id: str, kind: str, item_id: str) -> dict:
    """The deleted item's view."""
    before = get_item(org_id, kind, item_id)
    content.delete_item(org_id, kind, item_id)
    return before
