"""Route registration that turns every outcome into the family's JSON.

A view returns a plain value (rendered as JSON with 200) or a chalice Response; any
BrokerError becomes the family's error body; anything else is logged and becomes the
family's internal-error body. No view ever answers HTML or a stack trace.
"""
from __future__ import annotations

import functools
import json
import logging
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl

from chalice import Blueprint, Response

from chalicelib.api import rendering
from chalicelib.api.rendering import Family
from chalicelib.domain.errors import BrokerError, InvalidParameter

log = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MULTIPART = "multipart/form-data"
ALL_CONTENT_TYPES = [JSON, FORM, MULTIPART, "text/plain"]


def route(blueprint: Blueprint, paths: str | Iterable[str], *, family: Family, methods=("GET",),
          content_types=ALL_CONTENT_TYPES, cors=False) -> Callable:
    """Registers a view on one or more paths (aliases share the handler)."""
    if isinstance(paths, str):
        paths = [paths]

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def handle(*args, **kwargs):
            return respond(family, lambda: view(*args, **kwargs))

        for index, path in enumerate(paths):
            blueprint.route(path, methods=list(methods), content_types=list(content_types), cors=cors,
                            name=f"{view.__name__}_{index}" if index else view.__name__)(handle)
        return view

    return decorate


def respond(family: Family, produce: Callable[[], Any]) -> Response:
    try:
        result = produce()
    except BrokerError as failure:
        return rendering.error(family, failure)
    except Exception:
        log.exception("unhandled error")
        return rendering.internal_error(family)
    if isinstance(result, Response):
        return result
    return rendering.ok(result)


def request_params(request) -> dict[str, str]:
    """Query parameters merged with a form or JSON body (the query wins, as BHEX does)."""
    params: dict[str, Any] = {}
    body = request.raw_body or b""
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if body:
        if content_type == JSON:
            try:
                parsed = json.loads(body)
            except ValueError:
                raise InvalidParameter("body", "Request body is not valid JSON") from None
            if not isinstance(parsed, dict):
                raise InvalidParameter("body", "Request body must be a JSON object")
            params.update(parsed)
        elif content_type in (FORM, "", "text/plain"):
            try:
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                raise InvalidParameter("body", "Request body is not UTF-8") from None
    params.update(request.query_params or {})
    return params


def json_body(request) -> dict:
    try:
        parsed = json.loads(request.raw_body or b"{}")
    except ValueError:
        raise InvalidParameter("body", "Request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise InvalidParameter("body", "Request body must be a JSON object")
    return parsed


def source_ip(request) -> str:
    """The caller's address as API Gateway saw it (never a client-set header)."""
    return ((request.context or {}).get("identity") or {}).get("sourceIp") or ""
