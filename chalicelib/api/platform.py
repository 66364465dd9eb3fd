"""Platform routes: health, public event replay, and local-only developer tools."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib import settings
from chalicelib.api import rendering
from chalicelib.api.rendering import Family
from chalicelib.api.routing import json_body, request_params, route
from chalicelib.domain.errors import Forbidden, InvalidParameter, RouteNotFound
from chalicelib.domain.events import Event, is_public
from chalicelib.services import events, health

platform = Blueprint(__name__)


@route(platform, "/health", family=Family.PLATFORM)
def show_health():
    healthy, body = health.report()
    return rendering.ok(body, status=200 if healthy else 503)


@route(platform, "/events/{stream}", family=Family.PLATFORM)
def replay_public_stream(stream):
    """Public streams (symbols) replayed from an id, for clients that reconnect."""
    if not is_public(stream):
        raise Forbidden("Only public streams are readable here; use your family's event route")
    params = request_params(platform.current_request)
    after, limit = _int(params, "from_id", 0), _int(params, "limit", 100)
    return {"stream": stream, "events": [e.as_dict() for e in events.replay(stream, after, limit)]}


@route(platform, "/dev/events", family=Family.PLATFORM, methods=["POST"])
def append_event_for_development():
    """Local stack only: append an event to a public stream, to watch pushes arrive."""
    if not settings.is_local():
        raise RouteNotFound()
    body = json_body(platform.current_request)
    stream, kind = body.get("stream"), body.get("type", "dev.message")
    if not isinstance(stream, str) or not is_public(stream):
        raise InvalidParameter("stream", "A public stream name such as 'symbol:BTCUSDT' is required")
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
    stored = events.append_now(Event(stream, str(kind), payload))
    return stored.as_dict()


def _int(params: dict, name: str, default: int) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidParameter(name) from None
