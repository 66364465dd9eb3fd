"""The User API blueprint, its route registration, authentication and request parameters.

Every view is registered with `endpoint(paths, access=...)`:

* `PUBLIC`: no session (sign-up, login, codes, basic data, quotes);
* `READ`: a valid session; GET or POST (reads never change state);
* `WRITE`: a valid session and the session's CSRF token (`X-CSRF-Token` header or
  `csrf_token` field); POST only. A request without the token is refused before the
  view runs, so it changes nothing.

Only GET and POST exist in this family (the seed); other verbs answer 405 in JSON. The
org is the one serving the request's Host (`catalog.org_for_host`), never a parameter,
and a session of another org is not a session here. Parameters are snake_case, from the
query string and a form or JSON body (the query wins); answers are bare JSON, errors
`{"code", "msg"}` (HTTP 400 business, 401/403 auth, 429 rate, 500 `{"code": 110}`).

Each view declares its parameters as a pydantic model (`params=`), validated after the
session and CSRF checks; the view sees only what the model declares (`ctx.args`, and
`ctx.params` as the validated values), and the same model is registered in
`chalicelib.api.operations` for the family's OpenAPI document. The models' base and the
field types routes share are in `chalicelib.api.user.params`.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable, Optional

from chalice import Blueprint
from pydantic import BaseModel

from chalicelib.api import operations
from chalicelib.api.operations import BY_ACCESS, Operation
from chalicelib.api.rendering import Family
from chalicelib.api.routing import ALL_CONTENT_TYPES, request_params, route, source_ip
from chalicelib.auth import sessions as cookies
from chalicelib.auth import csrf
from chalicelib.domain import money
from chalicelib.domain.custody import Holder
from chalicelib.domain.errors import (
    CsrfRejected,
    InvalidParameter,
    MethodNotAllowed,
    MissingParameter,
    RouteNotFound,
    Unauthenticated,
    UnknownHost,
)
from chalicelib.services import catalog, sessions
from chalicelib.services.orders import Trader
from chalicelib.services.sessions import ClientInfo, Principal

user_api = Blueprint(__name__)

PUBLIC, READ, WRITE = "public", "read", "write"
# every registered view: (view name, paths, access, methods); the cross-user test walks it
REGISTERED: list[tuple[str, tuple[str, ...], str, tuple[str, ...]]] = []


@dataclass
class Context:
    """One request as a view sees it: parameters, org, and (unless PUBLIC) its session."""

    request: Any
    params: dict
    org_id: str
    principal: Optional[Principal] = None
    args: Any = None  # the view's params model, validated

    # --- who -----------------------------------------------------------------------
    @property
    def user(self):
        if self.principal is None:
            raise Unauthenticated("Log in first")
        return self.principal.user

    @property
    def uid(self) -> str:
        return self.user.uid

    @property
    def account_id(self) -> str:
        return self.user.main_account_id

    def holder(self) -> Holder:
        return Holder(self.org_id, self.uid, self.account_id)

    def trader(self) -> Trader:
        return Trader(self.org_id, self.uid, self.account_id, may_trade=not self.user.trade_frozen)

    @property
    def client(self) -> ClientInfo:
        return ClientInfo(source_ip(self.request), (self.request.headers.get("user-agent") or "")[:512],
                          self.text("token_for") or "PC")

    # --- parameters ------------------------------------------------------------------
    def text(self, name: str, default: Optional[str] = None) -> Optional[str]:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if not isinstance(value, (str, int)):
            raise InvalidParameter(name)
        return str(value).strip()

    def first(self, *names: str) -> Optional[str]:
        for name in names:
            value = self.text(name)
            if value is not None:
                return value
        return None

    def require(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise MissingParameter(name)
        return value

    def integer(self, name: str, default: Optional[int] = None, *, low: Optional[int] = None,
                high: Optional[int] = None) -> Optional[int]:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise InvalidParameter(name) from None
        if (low is not None and number < low) or (high is not None and number > high):
            raise InvalidParameter(name)
        return number

    def limit(self, default: int = 20, high: int = 500) -> int:
        return self.integer("limit", default, low=1, high=high)

    def decimal(self, name: str) -> Optional[Decimal]:
        value = self.text(name)
        return None if value is None else money.parse(value, name)

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.text(name)
        if value is None:
            return default
        return value.lower() in ("1", "true", "yes", "on")

    def listed(self, name: str) -> list[str]:
        """A comma-separated (or JSON list) parameter as a list."""
        value = self.params.get(name)
        if isinstance(value, list):
            return [str(v).strip() for v in value if str(v).strip()]
        text = self.text(name) or ""
        return [part.strip() for part in text.split(",") if part.strip()]

    def second_factor(self) -> dict:
        """The second-factor parameters a money-out or key operation carries."""
        return {"ga_code": self.text("ga_code"), "verify_code": self.text("verify_code"),
                "order_id": self.text("order_id"), "channel": self.text("auth_type")}


def org_of(request) -> str:
    org_id = catalog.org_for_host(cookies.host(request.headers))
    if not org_id:
        raise UnknownHost()
    return org_id


def _context(access: str, params_type: Any) -> Context:
    request = user_api.current_request
    raw = request_params(request)
    org_id = org_of(request)
    principal = None
    if access != PUBLIC:
        principal = sessions.authenticate(org_id, cookies.session_token(request.headers))
        if access == WRITE and not csrf.matches(cookies.csrf_token(request.headers, raw), principal.session.csrf_hash):
            raise CsrfRejected()
    args = operations.parse_params(params_type, raw, ignore=(csrf.FIELD,), unnamed="action")
    values = args.model_dump(exclude_none=True) if isinstance(args, BaseModel) else {}
    return Context(request, values, org_id, principal, args)


def endpoint(paths: str | Iterable[str], *, params: Any, access: str = READ, post_only: bool = False,
             summary: str = "", available: Optional[Callable[[], bool]] = None) -> Callable:
    """Registers `view(ctx)` on every path and its operation (`params`: what it validates
    the request with) for the OpenAPI document; see the module notes for `access`. A
    PUBLIC view that changes something (sign-up, login, sending a code) is `post_only`.
    A view that exists only on some stages says so with `available`: elsewhere it answers
    404 before anything is read."""
    paths = (paths,) if isinstance(paths, str) else tuple(paths)
    allowed = ("POST",) if access == WRITE or post_only else ("GET", "POST")

    def decorate(view: Callable[[Context], Any]) -> Callable:
        @functools.wraps(view)
        def handle():
            if available is not None and not available():
                raise RouteNotFound()
            if user_api.current_request.method.upper() not in allowed:
                raise MethodNotAllowed()
            return view(_context(access, params))

        handle.__name__ = f"user_{view.__name__}"
        route(user_api, list(paths), family=Family.USER, methods=("GET", "POST"),
              content_types=ALL_CONTENT_TYPES)(handle)
        description = summary or (view.__doc__ or view.__name__.replace("_", " ")).strip().split("\n\n")[0]
        for path in paths:
            operations.register(Operation(Family.USER, path, allowed, params, BY_ACCESS[access], access,
                                          " ".join(description.split()),
                                          alias_of=paths[0] if path != paths[0] else None))
        REGISTERED.append((view.__name__, paths, access, allowed))
        return view

    return decorate
