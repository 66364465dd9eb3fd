"""Relays committed events to their streams and pushes them to subscribed sockets.

Every transaction that emits events commits them as one outbox item together with its
writes; right after the commit this relay appends them to their streams (each append
is deduplicated by outbox id and position) and pushes them. A crash in between leaves
the outbox item, which `relay_pending` (scheduled) finishes later: no event is lost and
none is appended twice.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Callable, Optional

from chalicelib.domain.events import Event, StoredEvent
from chalicelib.gateways import push
from chalicelib.store import events as store
from chalicelib.store import faults
from chalicelib.store.transaction import on_commit_with_events

log = logging.getLogger(__name__)

# channel -> function(event, subscription options) -> frames to send (empty: skip)
Formatter = Callable[[StoredEvent, dict], list[str]]
_formatters: dict[str, Formatter] = {}


def register_format(channel: str, formatter: Formatter) -> None:
    _formatters[channel] = formatter


def _raw_format(event: StoredEvent, options: dict) -> list[str]:
    return [json.dumps({"event": "message", **event.as_dict()}, separators=(",", ":"), default=str)]


register_format("events", _raw_format)


def relay(outbox_id: int) -> int:
    """Appends and pushes the events of one outbox item; returns how many were new."""
    events = store.outbox_events(outbox_id)
    if events is None:
        return 0
    by_stream: dict[str, list[Event]] = {}
    for event in events:
        by_stream.setdefault(event.stream, []).append(event)
    appended = 0
    for stream, batch in by_stream.items():
        for start in range(0, len(batch), store.MAX_EVENTS_PER_APPEND):
            chunk = batch[start:start + store.MAX_EVENTS_PER_APPEND]
            stored = store.append(chunk, f"{outbox_id}#{stream}#{start}")
            faults.reach("events.after_append")
            appended += len(stored)
            for event in stored:
                publish(event)
    store.delete_outbox(outbox_id)
    return appended


def _relay_after_commit(outbox_id: int) -> None:
    try:
        relay(outbox_id)
    except faults.InjectedCrash:
        raise
    except Exception:
        # The effect is committed; the sweeper relays the outbox item later.
        log.exception("relay of outbox %s failed; left for the sweeper", outbox_id)


on_commit_with_events(_relay_after_commit)


def relay_pending(min_age_seconds: float = 5.0) -> int:
    cutoff = int((time.time() - min_age_seconds) * 1000)
    return sum(relay(outbox_id) for outbox_id in list(store.pending_outbox(cutoff)))


def publish(event: StoredEvent) -> None:
    for connection_id, channel, options in store.subscribers(event.stream):
        formatter = _formatters.get(channel, _raw_format)
        try:
            frames = formatter(event, options)
            for frame in frames:
                if not push.send(connection_id, frame):
                    store.drop_connection(connection_id)
                    break
        except Exception:
            log.exception("push of event %s/%s to %s failed", event.stream, event.id, connection_id)


def replay(stream: str, after_id: int = 0, limit: int = 100) -> list[StoredEvent]:
    return store.read(stream, after_id, max(1, min(limit, 1000)))


def last_id(stream: str) -> int:
    return store.last_id(stream)


def append_now(event: Event, source: Optional[str] = None) -> Optional[StoredEvent]:
    """Appends one event outside any business transaction (operator and system notices)."""
    from chalicelib.domain.ids import new_id

    stored = store.append([event], source or f"direct#{new_id()}")
    for appended in stored:
        publish(appended)
    return stored[0] if stored else None
