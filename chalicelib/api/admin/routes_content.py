"""Site content (banners, announcements with a language) and customer-service tickets.

Users open tickets and read the answers through the User API (`/api/user/tickets`,
`/api/user/ticket`); support staff list, answer and close them here.
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, model_validator

from chalicelib.api.admin.http import AdminContext, action
from chalicelib.api.admin.shapes import PageParams, Params
from chalicelib.services import site_content, tickets

Kind = Literal["banner", "announcement"]
ITEM_ID = dict(min_length=1, max_length=20, pattern=r"^\d+$")


class ContentListParams(PageParams):
    kind: Kind
    locale: Optional[str] = Field(None, max_length=16, description="e.g. en-US; items of that language only")
    published: Optional[bool] = None


class ContentItemParams(Params):
    kind: Kind
    item_id: str = Field(**ITEM_ID)


class ContentSaveParams(Params):
    kind: Kind
    item_id: Optional[str] = Field(None, **ITEM_ID, description="omit to create")
    title: str = Field("", max_length=200)
    body: str = Field("", max_length=20000)
    image_url: str = Field("", max_length=1000)
    link: str = Field("", max_length=1000)
    locale: str = Field("", max_length=16, description="language of the item; empty = every language")
    sort: int = Field(0, ge=-1_000_000, le=1_000_000)
    published: bool = True
    starts_at: Optional[int] = Field(None, ge=0)
    ends_at: Optional[int] = Field(None, ge=0)

    @model_validator(mode="after")
    def _has_something(self):
        if not (self.title or self.body or self.image_url):
            raise ValueError("give a title, body or image_url")
        return self


class TicketListParams(Params):
    status: Optional[Literal["OPEN", "ANSWERED", "CLOSED"]] = Field(
        None, description="default: OPEN and ANSWERED (the queue)")
    before_id: Optional[str] = Field(None, pattern=r"^\d{1,20}$")
    limit: int = Field(20, ge=1, le=100)


class TicketParams(Params):
    ticket_id: str = Field(min_length=1, max_length=20, pattern=r"^\d+$")


class TicketAnswerParams(TicketParams):
    content: str = Field(min_length=1, max_length=5000)


# --- banners and announcements ---------------------------------------------------------------

@action("content/list", permission="content.read", params=ContentListParams, mutating=False,
        summary="Banners or announcements, published or not, by language")
def list_content(ctx: AdminContext, p: ContentListParams):
    return site_content.list_items(ctx.org_id, p.kind, locale=p.locale, published=p.published, page=p.current,
                                   page_size=p.page_size)


@action("content/detail", permission="content.read", params=ContentItemParams, mutating=False,
        summary="One banner or announcement")
def content_detail(ctx: AdminContext, p: ContentItemParams):
    return site_content.get_item(ctx.org_id, p.kind, p.item_id)


@action("content/save", permission="content.write", params=ContentSaveParams,
        summary="Create (no item_id) or replace a banner or announcement")
def save_content(ctx: AdminContext, p: ContentSaveParams):
    fields = p.model_dump(exclude={"kind", "item_id"})
    before, after = site_content.save_item(ctx.org_id, p.kind, item_id=p.item_id, **fields)
    ctx.audit(target=f"{p.kind}:{after['id']}", before=before, after=after)
    return after


@action("content/delete", permission="content.write", params=ContentItemParams,
        summary="Delete a banner or announcement")
def delete_content(ctx: AdminContext, p: ContentItemParams):
    before = site_content.delete_item(ctx.org_id, p.kind, p.item_id)
    ctx.audit(target=f"{p.kind}:{p.item_id}", before=before, after=None)
    return {"deleted": p.item_id}


# --- tickets -----------------------------------------------------------------------------------

@action("tickets/list", permission="tickets.answer", mutating=False, params=TicketListParams,
        summary="Tickets of the org, newest first, cursor-paged")
def list_tickets(ctx: AdminContext, p: TicketListParams):
    return tickets.org_tickets(ctx.org_id, status=p.status, before_id=p.before_id, limit=p.limit)


@action("tickets/detail", permission="tickets.answer", mutating=False, params=TicketParams,
        summary="A ticket with its messages")
def ticket_detail(ctx: AdminContext, p: TicketParams):
    return tickets.detail(ctx.org_id, p.ticket_id)


@action("tickets/answer", permission="tickets.answer", params=TicketAnswerParams,
        summary="Answer a ticket (the user sees it)")
def answer_ticket(ctx: AdminContext, p: TicketAnswerParams):
    change = tickets.answer(ctx.org_id, ctx.admin_id, p.ticket_id, p.content)
    ctx.audit(target=f"ticket:{p.ticket_id}", before=change["before"], after=change["after"])
    return change["after"]


@action("tickets/close", permission="tickets.answer", params=TicketParams, summary="Close a ticket")
def close_ticket(ctx: AdminContext, p: TicketParams):
    change = tickets.admin_close(ctx.org_id, p.ticket_id)
    ctx.audit(target=f"ticket:{p.ticket_id}", before=change["before"], after=change["after"])
    return change["after"]
