"""Event storage: the outbox written with each effect, and gapless ordered streams."""
from __future__ import annotations

import json
import time
from typing import Iterator, Optional

from pynamodb.attributes import ListAttribute, UnicodeAttribute

from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.domain.events import Event, StoredEvent
from chalicelib.domain.ids import first_id_at
from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity, padded
from chalicelib.store.transaction import Transaction, run_with_retries

EVENT_RETENTION_SECONDS = 30 * 24 * 3600
CONNECTION_LIFETIME_SECONDS = 2 * 3600 + 600  # API Gateway closes sockets after 2 h


class OutboxRecord(Entity):
    events = UnicodeAttribute()
    created_at = IntegerAttribute()


class StreamHead(Entity):
    seq = IntegerAttribute()


class EventRecord(Entity):
    event_id = IntegerAttribute()
    type = UnicodeAttribute()
    org_id = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    payload = UnicodeAttribute()
    created_at = IntegerAttribute()


class RelayMarker(Entity):
    event_id = IntegerAttribute()


class ConnectionRecord(Entity):
    channel = UnicodeAttribute()
    principal = UnicodeAttribute()
    streams = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = IntegerAttribute()


class SubscriptionRecord(Entity):
    channel = UnicodeAttribute()
    options = UnicodeAttribute(null=True)


OUTBOX_KEY = "OUTBOX"


def _dump(value) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def stage_outbox(tx: Transaction, outbox_id: int, events: list[Event]) -> None:
    tx.put(OutboxRecord(OUTBOX_KEY, padded(outbox_id), created_at=int(time.time() * 1000), events=_dump(
        [{"stream": e.stream, "type": e.type, "payload": e.payload, "org_id": e.org_id, "user_id": e.user_id}
         for e in events])))


def outbox_events(outbox_id: int) -> Optional[list[Event]]:
    try:
        record = OutboxRecord.get(OUTBOX_KEY, padded(outbox_id), consistent_read=True)
    except OutboxRecord.DoesNotExist:
        return None
    return [Event(**raw) for raw in json.loads(record.events)]


def pending_outbox(older_than_ms: int) -> Iterator[int]:
    for record in OutboxRecord.query(OUTBOX_KEY, OutboxRecord.sk < padded(first_id_at(older_than_ms))):
        yield int(record.sk)


def delete_outbox(outbox_id: int) -> None:
    OutboxRecord(OUTBOX_KEY, padded(outbox_id)).delete()


class _AlreadyAppended(Exception):
    pass


MAX_EVENTS_PER_APPEND = 97  # + the head and the relay marker: within DynamoDB's 100 items


def append(events: list[Event], source: str) -> list[StoredEvent]:
    """Appends events of ONE stream as its next ids; [] if `source` was already appended.

    The head, the events and the source marker are written in one transaction conditioned
    on the head read, so ids are gapless, an event is visible only after every earlier
    one, and a relay that runs twice appends once.
    """
    if not events:
        return []
    if len(events) > MAX_EVENTS_PER_APPEND:
        raise ValueError("append at most 97 events at once")
    stream = events[0].stream
    stream_key = f"STREAM#{stream}"

    def attempt() -> list[StoredEvent]:
        try:
            current = StreamHead.get(stream_key, "HEAD", consistent_read=True).seq
        except StreamHead.DoesNotExist:
            current = 0
        now_ms = int(time.time() * 1000)
        tx = Transaction()
        condition = StreamHead.pk.does_not_exist() if current == 0 else StreamHead.seq == current
        tx.put(StreamHead(stream_key, "HEAD", seq=current + len(events)), condition)
        stored = []
        for offset, event in enumerate(events, start=1):
            seq = current + offset
            tx.put(EventRecord(stream_key, f"EV#{padded(seq)}", event_id=seq, type=event.type,
                               org_id=event.org_id, user_id=event.user_id, payload=_dump(event.payload),
                               created_at=now_ms, expires_at=now_ms // 1000 + EVENT_RETENTION_SECONDS))
            stored.append(StoredEvent(seq, stream, event.type, event.payload, event.org_id, event.user_id, now_ms))
        tx.put(RelayMarker(f"EVSRC#{source}", "-", event_id=current + 1, expires_at=now_ms // 1000 + 7 * 24 * 3600),
               RelayMarker.pk.does_not_exist(), on_condition_failed=_AlreadyAppended())
        tx.commit()
        return stored

    try:
        return run_with_retries(attempt, attempts=50)
    except _AlreadyAppended:
        return []


def _to_stored(stream: str, record: EventRecord) -> StoredEvent:
    return StoredEvent(record.event_id, stream, record.type, json.loads(record.payload), record.org_id,
                       record.user_id, record.created_at)


def read(stream: str, after_id: int = 0, limit: int = 100) -> list[StoredEvent]:
    query = EventRecord.query(f"STREAM#{stream}", EventRecord.sk.between(f"EV#{padded(after_id + 1)}", "EV#~"),
                              consistent_read=True, limit=limit)
    return [_to_stored(stream, record) for record in query][:limit]


def last_id(stream: str) -> int:
    try:
        return StreamHead.get(f"STREAM#{stream}", "HEAD", consistent_read=True).seq
    except StreamHead.DoesNotExist:
        return 0


# --- websocket connections and their subscriptions ----------------------------

def save_connection(connection_id: str, channel: str, principal: dict) -> None:
    now = int(time.time())
    ConnectionRecord(f"WSCONN#{connection_id}", "META", channel=channel, principal=_dump(principal), streams=[],
                     created_at=now, expires_at=now + CONNECTION_LIFETIME_SECONDS).save()


def get_connection(connection_id: str) -> Optional[tuple[str, dict, list[str]]]:
    try:
        record = ConnectionRecord.get(f"WSCONN#{connection_id}", "META", consistent_read=True)
    except ConnectionRecord.DoesNotExist:
        return None
    return record.channel, json.loads(record.principal), list(record.streams or [])


def subscribe(connection_id: str, channel: str, stream: str, options: Optional[dict] = None) -> None:
    record = ConnectionRecord(f"WSCONN#{connection_id}", "META")
    try:
        record.update(actions=[ConnectionRecord.streams.set(
            ConnectionRecord.streams.append([stream]))], condition=ConnectionRecord.pk.exists())
    except Exception as error:
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise ConcurrentUpdate("connection is gone") from error
        raise
    SubscriptionRecord(f"WSSUB#{stream}", connection_id, channel=channel, options=_dump(options or {}),
                       expires_at=int(time.time()) + CONNECTION_LIFETIME_SECONDS).save()


def unsubscribe(connection_id: str, stream: str) -> None:
    SubscriptionRecord(f"WSSUB#{stream}", connection_id).delete()


def subscribers(stream: str) -> list[tuple[str, str, dict]]:
    return [(record.sk, record.channel, json.loads(record.options or "{}"))
            for record in SubscriptionRecord.query(f"WSSUB#{stream}")]


def drop_connection(connection_id: str) -> None:
    found = get_connection(connection_id)
    if found:
        for stream in set(found[2]):
            unsubscribe(connection_id, stream)
    ConnectionRecord(f"WSCONN#{connection_id}", "META").delete()
