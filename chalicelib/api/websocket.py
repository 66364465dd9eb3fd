"""One WebSocket API for every kind of socket, dispatched by channel.

API Gateway WebSocket APIs have one URL per stage and no path routing, so a socket says
what it wants in its `$connect` query string (`?channel=...` plus credentials). The local
gateway also passes the URL path as `__path`, so path-style URLs that SDKs use
(`/openapi/ws/<listenKey>`) resolve to the same channels through `register_path`.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

from chalicelib.api.rendering import dumps
from chalicelib.domain.errors import BrokerError, InvalidParameter, Forbidden
from chalicelib.domain.events import is_public
from chalicelib.gateways import push
from chalicelib.services import events
from chalicelib.store import events as connections

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Channel:
    name: str
    # query parameters -> principal (raises BrokerError to refuse the socket)
    authenticate: Callable[[dict], dict]
    # principal -> streams subscribed as soon as the socket opens
    initial_streams: Callable[[dict], list[str]]
    # (connection id, principal, message text) -> frames to answer with
    on_message: Callable[[str, dict, str], list[str]]


_channels: dict[str, Channel] = {}
_paths: list[tuple[re.Pattern, str]] = []


def register_channel(channel: Channel) -> None:
    _channels[channel.name] = channel


def register_path(pattern: str, channel: str) -> None:
    """A path-style URL (regex with named groups, which become query parameters)."""
    _paths.append((re.compile(pattern), channel))


def _resolve(params: dict) -> tuple[Channel, dict]:
    params = dict(params)
    path = params.pop("__path", None) or ""
    name = params.get("channel")
    if not name and path not in ("", "/"):
        for pattern, channel in _paths:
            match = pattern.fullmatch(path)
            if match:
                name = channel
                params.update({k: v for k, v in match.groupdict().items() if v is not None})
                break
    name = name or "events"
    if name not in _channels:
        raise InvalidParameter("channel", f"Unknown channel '{name}'")
    return _channels[name], params


def connect(event: dict) -> dict:
    connection_id = event["requestContext"]["connectionId"]
    params = event.get("queryStringParameters") or {}
    try:
        channel, params = _resolve(params)
        principal = channel.authenticate({**params, "__source_ip": _source_ip(event),
                                          "__headers": dict(event.get("headers") or {})})
        connections.save_connection(connection_id, channel.name, principal)
        for stream in channel.initial_streams(principal):
            connections.subscribe(connection_id, channel.name, stream)
    except BrokerError as refused:
        return {"statusCode": refused.http_status if refused.http_status >= 400 else 400,
                "body": dumps({"code": refused.code, "msg": refused.message})}
    return {"statusCode": 200}


def message(event: dict) -> dict:
    connection_id = event["requestContext"]["connectionId"]
    found = connections.get_connection(connection_id)
    if found is None:
        push.close(connection_id)
        return {"statusCode": 410}
    channel_name, principal, _ = found
    channel = _channels.get(channel_name)
    try:
        frames = channel.on_message(connection_id, principal, event.get("body") or "")
    except BrokerError as failure:
        frames = [dumps({"code": failure.code, "msg": failure.message})]
    for frame in frames:
        if not push.send(connection_id, frame):
            connections.drop_connection(connection_id)
            break
    return {"statusCode": 200}


def disconnect(event: dict) -> dict:
    connections.drop_connection(event["requestContext"]["connectionId"])
    return {"statusCode": 200}


def _source_ip(event: dict) -> str:
    return ((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp") or ""


# --- the generic `events` channel: public streams by name, with replay -----------

def _events_message(connection_id: str, principal: dict, body: str) -> list[str]:
    """`{"op": "subscribe", "stream": "symbol:BTCUSDT", "from_id": 12}` replays what came
    after `from_id`, then keeps pushing; ids let the client drop any duplicate."""
    try:
        request = json.loads(body)
    except ValueError:
        raise InvalidParameter("body", "Message is not valid JSON") from None
    if not isinstance(request, dict):
        raise InvalidParameter("body", "Message must be a JSON object")
    op = request.get("op")
    if op == "ping":
        return [dumps({"op": "pong"})]
    stream = request.get("stream")
    if not isinstance(stream, str) or not stream:
        raise InvalidParameter("stream")
    if not (is_public(stream) or stream in principal.get("streams", [])):
        raise Forbidden(f"Stream '{stream}' is not readable on this connection")
    if op == "unsubscribe":
        connections.unsubscribe(connection_id, stream)
        return [dumps({"op": "unsubscribed", "stream": stream})]
    if op != "subscribe":
        raise InvalidParameter("op")
    connections.subscribe(connection_id, "events", stream)
    frames = [dumps({"op": "subscribed", "stream": stream, "last_id": events.last_id(stream)})]
    from_id = request.get("from_id")
    if from_id is not None:
        try:
            after = int(from_id)
        except (TypeError, ValueError):
            raise InvalidParameter("from_id") from None
        frames += [dumps({"event": "message", **e.as_dict()}) for e in events.replay(stream, after, 1000)]
    return frames


register_channel(Channel("events", authenticate=lambda params: {}, initial_streams=lambda principal: [],
                         on_message=_events_message))
