"""Where verification codes and notices leave the platform: email and SMS.

`Notifier` is the one interface the services use: `send(Notice)`. Implementations:

* `AwsNotifier` (production): email through SES (`SendEmail`, from `NOTIFY_EMAIL_FROM`),
  SMS through SNS (`Publish` to a phone number, transactional).
* `OutboxNotifier` (local stack and tests): every notice is written to the table instead
  (`NOTICE#<org_id>` / `<notice_id:020d>`, gsi1 `NOTICETO#<org_id>#<to>` / id), kept a
  day; `read_outbox` lists them for the dev-only route `GET /dev/notices`, which answers
  404 outside the local stages. The outbox keeps the code in clear: it stands in for the
  recipient's mailbox and never exists in production.

Choice (environment `NOTIFIER`): `aws` or `outbox`; unset, the local and test stages use
the outbox and every other stage AWS. Tests swap the implementation with `use()`.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Optional, Protocol

from pynamodb.attributes import UnicodeAttribute

from chalicelib import settings
from chalicelib.domain.ids import new_id
from chalicelib.gateways import aws
from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity, Gsi1, padded

log = logging.getLogger(__name__)

EMAIL, SMS = "email", "sms"
OUTBOX_RETENTION_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Notice:
    """One message to one recipient. `kind` names the template (a BHOP NoticeBusinessType
    such as REGISTER or LOGIN_SUCCESS); `data` holds its values (a code, an amount)."""

    channel: str
    to: str
    kind: str
    subject: str
    body: str
    org_id: str
    uid: Optional[str] = None
    data: dict = field(default_factory=dict)


class Notifier(Protocol):
    def send(self, notice: Notice) -> None: ...


# --- production: SES and SNS ---------------------------------------------------------------

class AwsNotifier:
    def __init__(self, sender: Optional[str] = None):
        self.sender = sender or os.environ.get("NOTIFY_EMAIL_FROM") or ""

    def send(self, notice: Notice) -> None:
        if notice.channel == EMAIL:
            if not self.sender:
                raise RuntimeError("NOTIFY_EMAIL_FROM is not configured")
            aws.client("ses").send_email(
                Source=self.sender, Destination={"ToAddresses": [notice.to]},
                Message={"Subject": {"Data": notice.subject, "Charset": "UTF-8"},
                         "Body": {"Text": {"Data": notice.body, "Charset": "UTF-8"}}})
        elif notice.channel == SMS:
            aws.client("sns").publish(
                PhoneNumber=notice.to, Message=notice.body,
                MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}})
        else:
            raise ValueError(f"unknown notice channel {notice.channel!r}")


# --- local: the outbox in the table ----------------------------------------------------------

class NoticeRecord(Entity):
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    notice_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    to = UnicodeAttribute()
    kind = UnicodeAttribute()
    subject = UnicodeAttribute()
    body = UnicodeAttribute()
    org_id = UnicodeAttribute()
    uid = UnicodeAttribute(null=True)
    data = UnicodeAttribute(default="{}")
    created_at = IntegerAttribute()


def _to_key(org_id: str, to: str) -> str:
    return f"NOTICETO#{org_id}#{to.strip().lower()}"


class OutboxNotifier:
    def send(self, notice: Notice) -> None:
        notice_id = new_id()
        now = int(time.time() * 1000)
        NoticeRecord(
            f"NOTICE#{notice.org_id}", padded(notice_id), gsi1pk=_to_key(notice.org_id, notice.to),
            gsi1sk=padded(notice_id), notice_id=str(notice_id), channel=notice.channel, to=notice.to,
            kind=notice.kind, subject=notice.subject, body=notice.body, org_id=notice.org_id, uid=notice.uid,
            data=json.dumps(notice.data, separators=(",", ":"), default=str), created_at=now,
            expires_at=now // 1000 + OUTBOX_RETENTION_SECONDS).save()


def read_outbox(org_id: str, to: Optional[str] = None, limit: int = 50) -> list[dict]:
    """Newest first: every notice of the org, or those sent to one address or number."""
    limit = max(1, min(int(limit), 200))
    if to:
        records = NoticeRecord.gsi1.query(_to_key(org_id, to), scan_index_forward=False, limit=limit)
    else:
        records = NoticeRecord.query(f"NOTICE#{org_id}", scan_index_forward=False, limit=limit)
    return [{"id": r.notice_id, "channel": r.channel, "to": r.to, "kind": r.kind, "subject": r.subject,
             "body": r.body, "uid": r.uid, "data": json.loads(r.data or "{}"), "time": r.created_at}
            for r in list(records)[:limit]]


# --- wiring ------------------------------------------------------------------------------------

_lock = threading.Lock()
_client: Optional[Notifier] = None


def uses_outbox() -> bool:
    choice = (os.environ.get("NOTIFIER") or "").lower()
    return choice == "outbox" or (not choice and settings.is_local())


def client() -> Notifier:
    global _client
    with _lock:
        if _client is None:
            _client = OutboxNotifier() if uses_outbox() else AwsNotifier()
        return _client


def use(notifier: Optional[Notifier]) -> None:
    """Tests swap the implementation here (None: choose from configuration again)."""
    global _client
    with _lock:
        _client = notifier


def send(notice: Notice) -> bool:
    """Sends one notice; a failure is logged and reported, never raised into the caller's
    business operation (a code can be requested again)."""
    try:
        client().send(notice)
        return True
    except Exception:
        log.exception("notice %s to %s channel %s failed", notice.kind, notice.org_id, notice.channel)
        return False
