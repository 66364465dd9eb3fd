"""How a Klip view is declared: its path, its params model, how its caller authenticates.

`operation(...)` registers the route (chalicelib.api.routing.route), describes it in
`chalicelib.api.operations` for the OpenAPI documents, and, before the view runs, reads
the request's parameters (query, JSON body or a multipart part, plus the path's own
variables) and validates them with the view's model. A failure is the Klip error the
service would raise for that field (`failure`), so the wire keeps Klip's codes: the model
is the documented contract, the services keep the business rules.

The view is called as `view(params, **path)`, or `view(caller, params, **path)` when the
operation names a `caller` (e.g. the partner a token belongs to, checked before the
parameters so that a bad token is a 401 whatever the body holds).
"""
from __future__ import annotations

import functools
import json
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Callable, Iterable, Optional

from chalice import Blueprint

from chalicelib.api import operations
from chalicelib.api.klip import errors as klip_errors
from chalicelib.api.operations import JSON, NONE, Operation
from chalicelib.api.rendering import Family
from chalicelib.api.routing import json_body, route
from chalicelib.domain.errors import BrokerError, InvalidParameter

MULTIPART = "multipart/form-data"
# The OpenAPI generator writes no path parameters yet, and a document with an unresolved
# `{variable}` is invalid: routes with one are served and validated but described only
# once it does (flip this then).
DESCRIBE_PATH_VARIABLES = True
Failure = Callable[[InvalidParameter], BrokerError]


def query(request) -> dict:
    return dict(request.query_params or {})


def body(request) -> Any:
    return json_body(request)


def multipart(request) -> dict:
    """The parts of a multipart/form-data body by name (a file part's bytes)."""
    content_type = request.headers.get("content-type") or ""
    if not content_type.lower().startswith(MULTIPART):
        raise InvalidParameter("body", f"send the body as {MULTIPART}")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n"
        + (request.raw_body or b""))
    if not message.is_multipart():
        raise InvalidParameter("body", "multipart body could not be read")
    parts: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name and name not in parts:
            parts[name] = part.get_payload(decode=True) or b""
    return parts


def _unchanged(problem: InvalidParameter) -> BrokerError:
    return problem


def validate(params_type: Any, values: Any, failure: Failure) -> Any:
    """`values` checked by the params type; a bad or missing field becomes `failure(problem)`."""
    if not isinstance(values, dict):
        raise failure(InvalidParameter("body", "the body must be a JSON object"))
    try:
        return operations.parse_params(params_type, values)
    except InvalidParameter as problem:  # MissingParameter included
        raise failure(problem) from None


def operation(blueprint: Blueprint, path: str, *, family: Family, summary: str, params: Any = None,
              methods: Iterable[str] = ("GET",), read: Callable[[Any], Any] = query,
              failure: Failure = _unchanged, auth: str = NONE, caller: Optional[Callable[[], Any]] = None,
              renderer=None, headers: Optional[dict] = None, body_media: tuple[str, ...] = (JSON,),
              produces: str = JSON, cors=False, documented: Optional[Iterable[str]] = None) -> Callable:
    """Declares one Klip view. `renderer` (with `headers`) replaces the family's error body
    for this view, parameter failures included; `documented` lists the static paths a
    variable route is described under (e.g. each asset) instead of `path` itself."""
    methods = tuple(methods)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def handle(**path_values):
            request = blueprint.current_request
            who = caller() if caller is not None else None
            parsed = None
            if params is not None:
                try:
                    values = read(request)
                except InvalidParameter as unreadable:
                    raise failure(unreadable) from None
                if isinstance(values, dict):
                    values = {**values, **path_values}
                parsed = validate(params, values, failure)
            leading = (who, parsed) if caller is not None else (parsed,)
            return view(*leading, **path_values)

        served = klip_errors.rendered_with(renderer, headers)(handle) if renderer else handle
        route(blueprint, path, family=family, methods=methods, cors=cors)(served)
        if documented is None:
            described_as = (path,) if "{" not in path or DESCRIBE_PATH_VARIABLES else ()
        else:
            described_as = tuple(documented)
        for described in described_as:
            operations.register(Operation(family, described, methods, params, auth, None, summary,
                                          body_media=body_media, produces=produces))
        return view

    return decorate


def any_json(request) -> Any:
    """The JSON body whatever its type (the params type decides what a non-object means)."""
    try:
        return json.loads(request.raw_body or b"{}")
    except ValueError:
        raise InvalidParameter("body", "body is not valid JSON") from None


def describe(family: Family, path: str, summary: str, *, produces: str = JSON) -> Operation:
    """Describes a static GET path that a variable route serves (each file of an asset route)."""
    return operations.register(Operation(family, path, ("GET",), None, NONE, None, summary, produces=produces))
