"""The Admin API blueprint: a registry of actions served through three dispatch routes.

API Gateway allows 300 resources per REST API, so the family registers only
`/admin/api/v1/{group}` and `/admin/api/v1/{group}/{action}` (5 resources in all) and
looks the action up in `ACTIONS`. Each action is declared with `@action(name, ...)`:

* `permission`: one of `domain.admin_roles.PERMISSIONS`, or `PUBLIC` (no session: login)
  or `SIGNED_IN` (any admin of the org);
* `params`: a pydantic model of the request parameters (query string merged with a form
  or JSON body); a bad or missing field answers 400 naming it; `csrf_token` is not a
  parameter; None means the action takes none;
* `mutating`: POST only, the session's CSRF token required, and exactly one audit row
  per success (reads take GET or POST).

Each action is also registered in `chalicelib.api.operations` for the OpenAPI generator
(`ActionSpec.operation`).

Before a view runs: the org from the Host (never a parameter), the org's admin IP
whitelist (empty = every address), the admin session cookie, CSRF for mutating calls,
then the permission. Answers are `{"code": 0, "msg": "", "data": ...}`; errors
`{"code", "msg"}` with HTTP 400 (business), 401/403 (auth), 404 (unknown action),
405 (wrong verb), 500 (`{"code": 110}`).

Audit rows: a view states what it changed with `ctx.audit(target=, before=, after=)`;
the framework writes the row after the view returns. A view whose effect is a single
DynamoDB transaction stages the row into it with `ctx.once(build)` (idempotent on the
call's `operation_id`) or `ctx.stage_audit(tx)`; then no second row is written.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import pydantic
from chalice import Blueprint, Response

from chalicelib.api import operations
from chalicelib.api.operations import NONE, SESSION, SESSION_CSRF, Operation
from chalicelib.api.rendering import Family
from chalicelib.api.routing import ALL_CONTENT_TYPES, request_params, respond, source_ip
from chalicelib.api.admin import cookies as admin_cookies
from chalicelib.domain import admin_roles
from chalicelib.domain.admin_roles import PUBLIC, SIGNED_IN
from chalicelib.domain.errors import (
    CsrfRejected,
    Forbidden,
    InvalidParameter,
    MethodNotAllowed,
    MissingParameter,
    RouteNotFound,
    UnknownHost,
)
from chalicelib.services import admin_audit, admin_sessions, admin_whitelist, catalog
from chalicelib.store.transaction import Transaction

__all__ = ["admin_api", "action", "ACTIONS", "ActionSpec", "AdminContext", "BASE", "PUBLIC", "SIGNED_IN"]

admin_api = Blueprint(__name__)
BASE = "/admin/api/v1"
_NAME = re.compile(r"^[a-z][a-z0-9_]*(/[a-z][a-z0-9_]*)?$")


@dataclass(frozen=True)
class ActionSpec:
    name: str
    permission: str
    params: Optional[type[pydantic.BaseModel]]
    mutating: bool
    summary: str
    view: Callable[..., Any] = field(repr=False, compare=False)
    operation: Operation = field(repr=False, compare=False)

    @property
    def path(self) -> str:
        return self.operation.path

    @property
    def methods(self) -> tuple[str, ...]:
        return self.operation.methods


ACTIONS: dict[str, ActionSpec] = {}


@dataclass
class AdminContext:
    """One admin call as a view sees it. `admin_id` is empty only in PUBLIC actions
    until the view names who acted (`ctx.acting_as`)."""

    org_id: str
    admin_id: str
    roles: tuple[str, ...]
    source_ip: str
    username: str = ""
    action: str = ""
    request: Any = field(default=None, repr=False)
    session: Any = field(default=None, repr=False)
    raw_params: dict = field(default_factory=dict, repr=False)
    operation_id: Optional[str] = None
    _audit: Optional[dict] = field(default=None, repr=False)
    _audited: bool = field(default=False, repr=False)

    def acting_as(self, admin) -> None:
        self.admin_id, self.username, self.roles = admin.admin_id, admin.username, tuple(admin.roles)

    def audit(self, *, target: str, before: Any, after: Any) -> None:
        self._audit = {"target": target, "before": before, "after": after}

    def _entry(self, result: Any = None) -> admin_audit.Entry:
        stated = self._audit or {"target": "", "before": None, "after": result}
        return admin_audit.Entry(self.org_id, self.admin_id, self.username, self.action, self.source_ip,
                                 str(stated["target"] or ""), admin_audit.redact(self.raw_params),
                                 stated["before"], stated["after"], self.operation_id)

    def stage_audit(self, tx: Transaction) -> None:
        """Puts this call's audit row into the effect's own transaction (call after `audit`)."""
        admin_audit.stage(tx, self._entry())
        self._audited = True

    def once(self, build: Callable[[Transaction], dict], payload: Optional[dict] = None) -> dict:
        """Runs `build(tx)` once per `operation_id` with this call's audit row in the same
        transaction; a replay answers the first response and writes nothing."""
        result = admin_audit.run_once(self, build, payload)
        self._audited = True
        return result


def action(name: str, *, permission: str, params: Optional[type[pydantic.BaseModel]] = None,
           mutating: bool = True, summary: str = "") -> Callable:
    if not _NAME.match(name):
        raise ValueError(f"admin action names are one or two lower-case segments: {name!r}")
    if not admin_roles.is_known_permission(permission):
        raise ValueError(f"unknown admin permission {permission!r}")
    if name in ACTIONS:
        raise ValueError(f"admin action {name!r} is registered twice")

    def decorate(view: Callable[[AdminContext, Any], Any]) -> Callable:
        described = summary or (view.__doc__ or "").strip()
        auth = NONE if permission == PUBLIC else SESSION_CSRF if mutating else SESSION
        op = operations.register(Operation(Family.ADMIN, f"{BASE}/{name}", ("POST",) if mutating else ("GET", "POST"),
                                           params, auth, permission, described))
        ACTIONS[name] = ActionSpec(name, permission, params, mutating, described, view, op)
        return view

    return decorate


# --- the dispatch routes -----------------------------------------------------------------------

def _org_of(request) -> str:
    org_id = catalog.org_for_host(admin_cookies.host(request.headers))
    if not org_id:
        raise UnknownHost()
    return org_id


def parse(spec: ActionSpec, params: dict) -> Optional[pydantic.BaseModel]:
    if spec.params is None:
        return None
    try:
        return spec.params.model_validate(params)
    except pydantic.ValidationError as failure:
        problem = failure.errors()[0]
        name = ".".join(str(part) for part in problem.get("loc", ())) or "body"
        if problem.get("type") == "missing":
            raise MissingParameter(name) from None
        if problem.get("type") == "extra_forbidden":
            raise InvalidParameter(name, f"Unknown parameter: {name}") from None
        raise InvalidParameter(name, f"Invalid {name}: {problem.get('msg', 'bad value')}") from None


def _dispatch(name: str) -> Any:
    request = admin_api.current_request
    spec = ACTIONS.get(name)
    if spec is None:
        raise RouteNotFound(f"No admin action {name}")
    if request.method.upper() not in spec.methods:
        raise MethodNotAllowed(f"{spec.path} takes {' or '.join(spec.methods)}")
    params = request_params(request)
    org_id = _org_of(request)
    ip = source_ip(request)
    admin_whitelist.check(org_id, ip)
    ctx = AdminContext(org_id, "", (), ip, action=name, request=request)
    if spec.permission != PUBLIC:
        principal = admin_sessions.authenticate(org_id, admin_cookies.session_token(request.headers))
        if spec.mutating and not admin_sessions.csrf_ok(principal, admin_cookies.csrf_token(request.headers, params)):
            raise CsrfRejected()
        ctx.acting_as(principal.admin)
        ctx.session = principal.session
        if not admin_roles.allows(ctx.roles, spec.permission):
            raise Forbidden(f"Your role may not use {name} (needs {spec.permission})")
    params.pop(admin_cookies.CSRF_FIELD, None)
    ctx.raw_params = params
    parsed = parse(spec, params)
    ctx.operation_id = getattr(parsed, "operation_id", None) if parsed is not None else None
    result = spec.view(ctx, parsed)
    if spec.mutating and not ctx._audited and ctx.admin_id:
        admin_audit.append(ctx._entry(None if isinstance(result, Response) else result))
    return result


def _envelope(result: Any) -> Any:
    if isinstance(result, Response):
        return result
    return {"code": 0, "msg": "", "data": result}


def _handle(name: str) -> Response:
    return respond(Family.ADMIN, lambda: _envelope(_dispatch(name)))


@admin_api.route(BASE + "/{group}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
                 content_types=ALL_CONTENT_TYPES, name="admin_dispatch_1")
def _dispatch_one(group):
    return _handle(group)


@admin_api.route(BASE + "/{group}/{action}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
                 content_types=ALL_CONTENT_TYPES, name="admin_dispatch_2")
def _dispatch_two(group, action):
    return _handle(f"{group}/{action}")


def with_cookies(data: Any, cookies: list[str]) -> Response:
    """An enveloped answer that also sets (or clears) cookies."""
    from chalicelib.api import rendering

    response = rendering.ok(_envelope(data))
    response.headers["Set-Cookie"] = cookies
    return response
