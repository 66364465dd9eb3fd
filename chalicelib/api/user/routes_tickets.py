"""Customer-service tickets in the User API: the session user opens tickets, replies,
closes them and reads support's answers (support answers through the Admin API).

Two API Gateway resources under the existing `/api/user`: `/api/user/tickets` (read:
the user's tickets, or one with its messages when `ticket_id` is given) and
`/api/user/ticket` (write, CSRF: `action` = create | reply | close). Parameters are
validated with one pydantic model per operation (the write path: a union discriminated by
`action`).
"""
from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api.user.http import READ, WRITE, Context, endpoint
from chalicelib.services import tickets

LIST_PATH, WRITE_PATH = "/api/user/tickets", "/api/user/ticket"
TICKET_ID = dict(min_length=1, max_length=20, pattern=r"^\d+$")


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TicketQuery(_Params):
    """The user's tickets newest first (cursor `before_id`), or one ticket with its messages."""

    ticket_id: Optional[str] = Field(None, **TICKET_ID)
    before_id: Optional[str] = Field(None, **TICKET_ID)
    limit: int = Field(20, ge=1, le=100)


class CreateTicket(_Params):
    """Opens a ticket; `client_order_id` makes a retry answer the first ticket."""

    action: Literal["create"]
    subject: str = Field(min_length=1, max_length=tickets.MAX_SUBJECT)
    content: str = Field(min_length=1, max_length=tickets.MAX_BODY)
    category: str = Field("", max_length=tickets.MAX_CATEGORY)
    client_order_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")


class ReplyTicket(_Params):
    """Adds the user's message; an answered ticket is open again."""

    action: Literal["reply"]
    ticket_id: str = Field(**TICKET_ID)
    content: str = Field(min_length=1, max_length=tickets.MAX_BODY)


class CloseTicket(_Params):
    """Closes the ticket; it takes no more messages."""

    action: Literal["close"]
    ticket_id: str = Field(**TICKET_ID)


TicketWrite = Annotated[Union[CreateTicket, ReplyTicket, CloseTicket], Field(discriminator="action")]


@endpoint(LIST_PATH, params=TicketQuery, access=READ, summary="The user's tickets, or one with its messages")
def user_tickets(ctx: Context):
    p: TicketQuery = ctx.args
    if p.ticket_id:
        return tickets.detail(ctx.org_id, p.ticket_id, uid=ctx.uid)
    return tickets.user_tickets(ctx.org_id, ctx.uid, before_id=p.before_id, limit=p.limit)


@endpoint(WRITE_PATH, params=TicketWrite, access=WRITE,
          summary="Open a ticket (action=create), reply to one's ticket (reply) or close it (close)")
def user_ticket_write(ctx: Context):
    p = ctx.args
    if isinstance(p, CreateTicket):
        return tickets.open_ticket(ctx.org_id, ctx.uid, subject=p.subject, body=p.content, category=p.category,
                                   operation_id=p.client_order_id)
    if isinstance(p, ReplyTicket):
        return tickets.user_reply(ctx.org_id, ctx.uid, p.ticket_id, p.content)
    return tickets.user_close(ctx.org_id, ctx.uid, p.ticket_id)
