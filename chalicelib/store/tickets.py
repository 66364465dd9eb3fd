"""Customer-service tickets and their messages.

* ticket: `TICKET#<ticket_id>` / `META`; gsi1 `USERTICKETS#<uid>` / `<ticket_id:020d>` (a
  user's tickets), gsi2 `ORGTICKETS#<org_id>#<status>` / `<ticket_id:020d>` (the queue).
* message: `TICKET#<ticket_id>` / `MSG#<seq:06d>`.

Every change writes the ticket at the next version (conditioned on the one read) with
its new message, whose sequence number is the ticket's message count: two replies racing
cannot both take a number, and the ticket never disagrees with its messages.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Optional

from pynamodb.attributes import UnicodeAttribute

from chalicelib.domain.errors import ConcurrentUpdate, NotFound
from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity, Gsi1, Gsi2, padded
from chalicelib.store.transaction import Transaction

OPEN, ANSWERED, CLOSED = "OPEN", "ANSWERED", "CLOSED"
STATUSES = (OPEN, ANSWERED, CLOSED)


class TicketRecord(Entity):
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2 = Gsi2()
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    uid = UnicodeAttribute()
    subject = UnicodeAttribute()
    category = UnicodeAttribute(default="")
    status = UnicodeAttribute()
    message_count = IntegerAttribute()
    last_author = UnicodeAttribute()
    version = IntegerAttribute()
    created_at = IntegerAttribute()
    updated_at = IntegerAttribute()


class MessageRecord(Entity):
    seq = IntegerAttribute()
    author = UnicodeAttribute()
    author_id = UnicodeAttribute()
    body = UnicodeAttribute()
    created_at = IntegerAttribute()


@dataclass(frozen=True)
class Ticket:
    ticket_id: str
    org_id: str
    uid: str
    subject: str
    category: str
    status: str
    message_count: int
    last_author: str
    version: int
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class Message:
    seq: int
    author: str  # "user" or "admin"
    author_id: str
    body: str
    created_at: int


def now_ms() -> int:
    return int(time.time() * 1000)


def _key(ticket_id: str) -> str:
    return f"TICKET#{ticket_id}"


def _to_ticket(r: TicketRecord) -> Ticket:
    return Ticket(r.ticket_id, r.org_id, r.uid, r.subject, r.category, r.status, r.message_count, r.last_author,
                  r.version, r.created_at, r.updated_at)


def _record(ticket: Ticket) -> TicketRecord:
    return TicketRecord(
        _key(ticket.ticket_id), "META", gsi1pk=f"USERTICKETS#{ticket.uid}", gsi1sk=padded(int(ticket.ticket_id)),
        gsi2pk=f"ORGTICKETS#{ticket.org_id}#{ticket.status}", gsi2sk=padded(int(ticket.ticket_id)),
        ticket_id=ticket.ticket_id, org_id=ticket.org_id, uid=ticket.uid, subject=ticket.subject,
        category=ticket.category, status=ticket.status, message_count=ticket.message_count,
        last_author=ticket.last_author, version=ticket.version, created_at=ticket.created_at,
        updated_at=ticket.updated_at)


def stage_status(tx: Transaction, ticket: Ticket, expected_version: int) -> Ticket:
    """The ticket at its next version (conditioned on the version read)."""
    after = replace(ticket, version=expected_version + 1)
    condition = TicketRecord.pk.does_not_exist() if expected_version == 0 \
        else TicketRecord.version == expected_version
    tx.put(_record(after), condition, on_condition_failed=ConcurrentUpdate)
    return after


def stage_write(tx: Transaction, ticket: Ticket, message: Message, expected_version: int) -> Ticket:
    """The ticket at its next version with one new message."""
    after = stage_status(tx, ticket, expected_version)
    tx.put(MessageRecord(_key(after.ticket_id), f"MSG#{message.seq:06d}", seq=message.seq, author=message.author,
                         author_id=message.author_id, body=message.body, created_at=message.created_at),
           MessageRecord.pk.does_not_exist(), on_condition_failed=ConcurrentUpdate)
    return after


def get(ticket_id: str) -> Optional[Ticket]:
    if not str(ticket_id).isdigit():
        return None
    try:
        return _to_ticket(TicketRecord.get(_key(ticket_id), "META", consistent_read=True))
    except TicketRecord.DoesNotExist:
        return None


def require(ticket_id: str) -> Ticket:
    ticket = get(ticket_id)
    if ticket is None:
        raise NotFound("Ticket not found")
    return ticket


def messages(ticket_id: str) -> list[Message]:
    return [Message(r.seq, r.author, r.author_id, r.body, r.created_at)
            for r in MessageRecord.query(_key(ticket_id), MessageRecord.sk.startswith("MSG#"), consistent_read=True)]


def _condition(range_attr, before_id: Optional[str]):
    return range_attr < padded(int(before_id)) if before_id else None


def of_user(uid: str, *, before_id: Optional[str] = None, limit: int = 20) -> list[Ticket]:
    """Newest first."""
    return [_to_ticket(r) for r in TicketRecord.gsi1.query(
        f"USERTICKETS#{uid}", _condition(TicketRecord.gsi1sk, before_id), scan_index_forward=False, limit=limit)]


def of_org(org_id: str, status: str, *, before_id: Optional[str] = None, limit: int = 20) -> list[Ticket]:
    """Newest first."""
    return [_to_ticket(r) for r in TicketRecord.gsi2.query(
        f"ORGTICKETS#{org_id}#{status}", _condition(TicketRecord.gsi2sk, before_id), scan_index_forward=False,
        limit=limit)]
