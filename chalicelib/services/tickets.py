"""Customer-service tickets: users open them and reply (User API), support staff answer
and close them (Admin API); the user sees every answer.

States: OPEN (waiting for support) -> ANSWERED (support replied) -> OPEN again when the
user replies; either side may close; a CLOSED ticket takes no more messages. A user only
ever sees their own tickets, an admin only those of the admin's org.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

from chalicelib.domain.errors import InvalidParameter, MissingParameter, NotFound
from chalicelib.domain.events import Event, user_stream
from chalicelib.domain.ids import new_id
from chalicelib.services import idempotency
from chalicelib.store import tickets as store
from chalicelib.store.tickets import ANSWERED, CLOSED, OPEN, STATUSES, Message, Ticket
from chalicelib.store.transaction import Transaction, run_with_retries

MAX_SUBJECT, MAX_BODY, MAX_CATEGORY = 200, 5000, 32
MAX_OPEN_PER_USER = 20
USER, ADMIN = "user", "admin"


def ticket_view(ticket: Ticket) -> dict:
    return {"ticket_id": ticket.ticket_id, "uid": ticket.uid, "subject": ticket.subject,
            "category": ticket.category, "status": ticket.status, "message_count": ticket.message_count,
            "last_author": ticket.last_author, "created_at": ticket.created_at, "updated_at": ticket.updated_at}


def message_view(message: Message, *, for_user: bool) -> dict:
    view = {"seq": message.seq, "author": message.author, "body": message.body, "created_at": message.created_at}
    if not for_user:
        view["author_id"] = message.author_id  # which admin answered stays inside the back office
    return view


def _text(value: Optional[str], name: str, limit: int, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise MissingParameter(name)
    if len(text) > limit:
        raise InvalidParameter(name, f"'{name}' is at most {limit} characters")
    return text


def _emit(tx: Transaction, ticket: Ticket, kind: str) -> None:
    payload = {"ticket_id": ticket.ticket_id, "status": ticket.status, "message_count": ticket.message_count}
    tx.emit(Event(user_stream(ticket.uid), kind, payload, ticket.org_id, ticket.uid))


def open_ticket(org_id: str, uid: str, *, subject: str, body: str, category: str = "", operation_id: str) -> dict:
    subject = _text(subject, "subject", MAX_SUBJECT)
    body = _text(body, "content", MAX_BODY)
    category = _text(category, "category", MAX_CATEGORY, required=False)
    payload = {"subject": subject, "body": body, "category": category}

    def build(tx: Transaction) -> dict:
        waiting = [t for t in store.of_user(uid, limit=5 * MAX_OPEN_PER_USER) if t.status != CLOSED]
        if len(waiting) >= MAX_OPEN_PER_USER:
            raise InvalidParameter("subject", f"At most {MAX_OPEN_PER_USER} tickets may be open at a time")
        now = store.now_ms()
        ticket = Ticket(str(new_id()), org_id, uid, subject, category, OPEN, 1, USER, 0, now, now)
        return ticket_view(store.stage_write(tx, ticket, Message(1, USER, uid, body, now), 0))

    return idempotency.run(f"ticket:{org_id}:{uid}", operation_id, payload, build)


def _owned(org_id: str, ticket_id: str, uid: Optional[str]) -> Ticket:
    ticket = store.get(ticket_id)
    if ticket is None or ticket.org_id != org_id or (uid is not None and ticket.uid != uid):
        raise NotFound("Ticket not found")
    return ticket


def _reply(org_id: str, ticket_id: str, *, uid: Optional[str], author: str, author_id: str, body: str) -> dict:
    body = _text(body, "content", MAX_BODY)

    def attempt() -> dict:
        ticket = _owned(org_id, ticket_id, uid)
        if ticket.status == CLOSED:
            raise InvalidParameter("ticket_id", "The ticket is closed")
        now = store.now_ms()
        changed = replace(ticket, status=ANSWERED if author == ADMIN else OPEN,
                          message_count=ticket.message_count + 1, last_author=author, updated_at=now)
        tx = Transaction()
        after = store.stage_write(tx, changed, Message(changed.message_count, author, author_id, body, now),
                                  ticket.version)
        if author == ADMIN:
            _emit(tx, after, "ticket")
        tx.commit()
        return {"before": ticket_view(ticket), "after": ticket_view(after)}

    return run_with_retries(attempt)


def _close(org_id: str, ticket_id: str, *, uid: Optional[str], by: str) -> dict:
    def attempt() -> dict:
        ticket = _owned(org_id, ticket_id, uid)
        if ticket.status == CLOSED:
            return {"before": ticket_view(ticket), "after": ticket_view(ticket)}
        tx = Transaction()
        after = store.stage_status(tx, replace(ticket, status=CLOSED, last_author=by, updated_at=store.now_ms()),
                                   ticket.version)
        if by == ADMIN:
            _emit(tx, after, "ticket")
        tx.commit()
        return {"before": ticket_view(ticket), "after": ticket_view(after)}

    return run_with_retries(attempt)


def detail(org_id: str, ticket_id: str, *, uid: Optional[str] = None) -> dict:
    ticket = _owned(org_id, ticket_id, uid)
    return {**ticket_view(ticket), "messages": [message_view(m, for_user=uid is not None)
                                                 for m in store.messages(ticket.ticket_id)]}


# --- the user's side ---------------------------------------------------------------------------------

def user_tickets(org_id: str, uid: str, *, before_id: Optional[str] = None, limit: int = 20) -> dict:
    page = [t for t in store.of_user(uid, before_id=_cursor(before_id), limit=limit) if t.org_id == org_id]
    return {"list": [ticket_view(t) for t in page],
            "next_before_id": page[-1].ticket_id if len(page) == limit else None}


def user_reply(org_id: str, uid: str, ticket_id: str, body: str) -> dict:
    return _reply(org_id, ticket_id, uid=uid, author=USER, author_id=uid, body=body)["after"]


def user_close(org_id: str, uid: str, ticket_id: str) -> dict:
    return _close(org_id, ticket_id, uid=uid, by=USER)["after"]


# --- support staff -----------------------------------------------------------------------------------

def _cursor(before_id: Optional[str]) -> Optional[str]:
    if before_id and not str(before_id).isdigit():
        raise InvalidParameter("before_id")
    return before_id or None


def org_tickets(org_id: str, *, status: Optional[str] = None, before_id: Optional[str] = None,
                limit: int = 20) -> dict:
    """Newest first; without a status, the open and answered ones (the queue)."""
    if status is not None and status not in STATUSES:
        raise InvalidParameter("status", f"status is one of {', '.join(STATUSES)}")
    statuses = [status] if status else [OPEN, ANSWERED]
    found = [t for s in statuses for t in store.of_org(org_id, s, before_id=_cursor(before_id), limit=limit)]
    page = sorted(found, key=lambda t: int(t.ticket_id), reverse=True)[:limit]
    return {"list": [ticket_view(t) for t in page],
            "next_before_id": page[-1].ticket_id if len(page) == limit else None}


def answer(org_id: str, admin_id: str, ticket_id: str, body: str) -> dict:
    """Before and after views (for the audit row)."""
    return _reply(org_id, ticket_id, uid=None, author=ADMIN, author_id=admin_id, body=body)


def admin_close(org_id: str, ticket_id: str) -> dict:
    return _close(org_id, ticket_id, uid=None, by=ADMIN)
