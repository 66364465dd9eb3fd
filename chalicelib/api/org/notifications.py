"""Org notifications (seed §4): the org event stream over a WebSocket and over REST.

Every org.* event of `org:<org_id>` reaches the org as the seed's event object (§2.8):
`{"event_id": n, "event_type": "org.tradeMatch", "event": {...}, "time": ms}`. Ids are
gapless per org, so a client that keeps its last id can always ask for what follows.

REST (long poll): `GET|POST /api/v2/org/notification/list?from_id=<last id>&wait=<s>`
answers the events after `from_id` (oldest first, up to `limit`), waiting up to `wait`
seconds (at most 20) for the first one; `last_event_id` is the id to send next time.

WebSocket: connect with `?channel=org&key=<api key>&timestamp=<ms>&signature=<hex>`
(optionally `from_id`, `recvWindow`; signed like any request: all query parameters but
`signature`, sorted), or the path `/api/v2/org/ws` on the local gateway; then send
`{"op": "subscribe"}` (optionally `"from_id"`). The server sends every event after
`from_id` (default: the last id when the socket opened), then keeps sending new ones,
then `{"op": "subscribed", "last_id": ...}` once the backlog is out. `{"op": "sync"}`
resends anything pending; `{"op": "ping"}` answers `pong`.

Exactly once, in order, per socket: each socket has a cursor (the last id sent) and a
short send lease. Whoever relays a new event (or the subscribe handler) takes the lease,
sends everything after the cursor in id order, and moves the cursor; a relay that finds
the lease taken flags the holder, which sends the rest before letting go. Only a sender
crashing mid-batch can repeat an event (with the same id, so the client drops it).

Trade messages carry only the org's own side; the other side's order id is kept only
when that order is the same org's.
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Optional

from pydantic import Field

from chalicelib.api.org import shapes
from chalicelib.api.org.auth import check_key_use, check_signed, host_org
from chalicelib.api.org.http import READ, OrgRequest, endpoint
from chalicelib.api.org.params import Id, Listing, named, page_size, within
from chalicelib.api.rendering import dumps
from chalicelib.api.websocket import Channel, register_channel, register_path
from chalicelib.domain.errors import AccountDisabled, InvalidParameter
from chalicelib.domain.events import StoredEvent, org_stream
from chalicelib.gateways import push
from chalicelib.services import api_keys, events, org_users
from chalicelib.store import events as connections
from chalicelib.store import org_users as cursors

CHANNEL = "org"
LEASE_MS = 10_000
PAGE = 100
LIVE_MAX = 1000          # a relay sends at most this many before leaving the rest to the next
RESUME_MAX = 100_000     # a subscribe or sync sends the whole backlog up to this
MAX_WAIT_SECONDS = 20
POLL_INTERVAL_SECONDS = 0.5
# Internal names of seed messages.
EVENT_TYPES = {"org.userRegistered": "org.userRegister"}


def _org_of(stream: str) -> str:
    return stream.split(":", 1)[1]


def frames_of(org_id: str, batch: list[StoredEvent]) -> list[tuple[StoredEvent, Optional[dict]]]:
    """Each event with its wire object (None for what the org does not receive)."""
    match_ids = [e.payload.get("match_order_id") for e in batch
                 if e.type == "org.tradeMatch" and e.payload.get("match_order_id")]
    visible = org_users.same_org_orders(org_id, match_ids) if match_ids else set()
    result = []
    for event in batch:
        if not event.type.startswith("org.") or event.org_id not in (None, org_id):
            result.append((event, None))
            continue
        payload = dict(event.payload)
        if event.type == "org.tradeMatch" and payload.get("match_order_id") not in visible:
            payload["match_order_id"] = ""
        result.append((event, {"event_id": event.id, "event_type": EVENT_TYPES.get(event.type, event.type),
                               "event": payload, "time": event.time}))
    return result


# --- REST: replay from an id, with a long poll ------------------------------------------------------------

WaitSeconds = within(0, MAX_WAIT_SECONDS, f"wait is 0 to {MAX_WAIT_SECONDS} seconds", default=0)


class Replay(Listing):
    from_id: Optional[Id] = named("from_id", "last_event_id", default=None,
                                  description="the last event id the caller has (default 0: from the start)")
    wait: Optional[WaitSeconds] = Field(None, description="seconds to wait for a first event")
    limit: Optional[page_size(100, 1000)] = None


@endpoint(["/notification/list", "/event/list"], level=READ, params=Replay,
          summary="The org's events after an id, waiting for the first one")
def org_notifications(request: OrgRequest):
    stream = org_stream(request.org_id)
    after = request.integer("from_id", "last_event_id", default=0)
    if after < 0:
        raise InvalidParameter("from_id")
    wait = request.integer("wait", default=0)
    if not 0 <= wait <= MAX_WAIT_SECONDS:
        raise InvalidParameter("wait", f"wait is 0 to {MAX_WAIT_SECONDS} seconds")
    limit = request.limit(100, 1000)
    deadline = time.monotonic() + wait
    while True:
        batch = events.replay(stream, after, limit)
        if batch or time.monotonic() >= deadline:
            break
        time.sleep(POLL_INTERVAL_SECONDS)
    delivered = [frame for _, frame in frames_of(request.org_id, batch) if frame is not None]
    return {"events": shapes.listing(request.list_type(), delivered, lambda f: f["event_id"], lambda f: f),
            "last_event_id": batch[-1].id if batch else after, "has_more": len(batch) == limit}


# --- WebSocket ----------------------------------------------------------------------------------------

def _authenticate(params: dict) -> dict:
    signed = {name: value for name, value in params.items() if not name.startswith("__")}
    key = check_signed(signed, params.get("key") or params.get("accessKey"))
    # A WebSocket API has one URL per stage, shared by every org: a Host that names an org
    # (a custom domain mapped per broker) must name the key's org; the shared one names none.
    socket_org = host_org(params.get("__host"))
    check_key_use(key, host_org=socket_org, ip=params.get("__source_ip", ""), level=READ,
                  check_host=socket_org is not None)
    stream = org_stream(key.org_id)
    from_id = params.get("from_id")
    try:
        start = int(from_id) if from_id not in (None, "") else events.last_id(stream)
    except ValueError:
        raise InvalidParameter("from_id") from None
    return {"org_id": key.org_id, "api_key": key.api_key, "stream": stream, "from_id": start}


def _key_still_valid(api_key: str, org_id: str) -> bool:
    key = api_keys.authenticate_org_key(api_key)
    return key is not None and key.enabled and key.org_id == org_id


def _gone(connection_id: str) -> None:
    connections.drop_connection(connection_id)
    cursors.drop_cursor(connection_id)


def drain(connection_id: str, stream: str, *, most: int = LIVE_MAX) -> int:
    """Sends the socket everything after its cursor, in order, under the send lease."""
    org_id = _org_of(stream)
    owner = uuid.uuid4().hex
    for _ in range(5):
        delivered = cursors.acquire_cursor(connection_id, owner, LEASE_MS)
        if delivered is not None:
            break
        if cursors.mark_dirty(connection_id):
            return 0  # the holder sends it
    else:
        return 0
    sent = 0
    while True:
        batch = events.replay(stream, delivered, PAGE)
        for event, frame in frames_of(org_id, batch):
            if frame is not None and not push.send(connection_id, dumps(frame)):
                _gone(connection_id)
                return sent
            delivered = event.id
            sent += 1
        if len(batch) == PAGE and sent < most:
            cursors.advance_cursor(connection_id, owner, delivered)
            continue
        if cursors.release_cursor(connection_id, owner, delivered):
            return sent


def _format(event: StoredEvent, options: dict) -> list[str]:
    """Relay hook: a new org event drains each subscribed org socket (it sends itself)."""
    connection_id = options.get("connection_id")
    if not connection_id:
        return []
    if not _key_still_valid(options.get("api_key", ""), _org_of(event.stream)):
        _gone(connection_id)
        push.close(connection_id)
        return []
    drain(connection_id, event.stream)
    return []


def _message(connection_id: str, principal: dict, body: str) -> list[str]:
    try:
        request = json.loads(body or "{}")
    except ValueError:
        raise InvalidParameter("body", "Message is not valid JSON") from None
    if not isinstance(request, dict):
        raise InvalidParameter("body", "Message must be a JSON object")
    op = request.get("op")
    stream = principal["stream"]
    if op == "ping":
        return [dumps({"op": "pong", "time": int(time.time() * 1000)})]
    if not _key_still_valid(principal["api_key"], principal["org_id"]):
        raise AccountDisabled()
    if op == "subscribe":
        from_id = request.get("from_id", principal["from_id"])
        try:
            from_id = int(from_id)
        except (TypeError, ValueError):
            raise InvalidParameter("from_id") from None
        if from_id < 0:
            raise InvalidParameter("from_id")
        cursors.start_cursor(connection_id, stream, from_id)
        connections.subscribe(connection_id, CHANNEL, stream, {"connection_id": connection_id,
                                                               "api_key": principal["api_key"]})
        drain(connection_id, stream, most=RESUME_MAX)
        return [dumps({"op": "subscribed", "stream": stream, "last_id": cursors.cursor_position(connection_id)})]
    if op == "sync":
        if cursors.cursor_position(connection_id) is None:
            raise InvalidParameter("op", "Subscribe first")
        drain(connection_id, stream, most=RESUME_MAX)
        return [dumps({"op": "synced", "last_id": cursors.cursor_position(connection_id)})]
    if op == "unsubscribe":
        connections.unsubscribe(connection_id, stream)
        cursors.drop_cursor(connection_id)
        return [dumps({"op": "unsubscribed", "stream": stream})]
    raise InvalidParameter("op", "op must be subscribe, sync, unsubscribe or ping")


register_channel(Channel(CHANNEL, authenticate=_authenticate, initial_streams=lambda principal: [],
                         on_message=_message))
register_path(r"/api/v2/org/ws", CHANNEL)
events.register_format(CHANNEL, _format)
