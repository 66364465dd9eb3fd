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
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable, Optional

from chalice import Blueprint

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
        if not isinstance(value, (str, int)) or isinstance(value, bool):
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


def _context(access: str) -> Context:
    request = user_api.current_request
    params = request_params(request)
    org_id = org_of(request)
    if access == PUBLIC:
        return Context(request, params, org_id)
    principal = sessions.authenticate(org_id, cookies.session_token(request.headers))
    if access == WRITE and not csrf.matches(cookies.csrf_token(request.headers, params), principal.session.csrf_hash):
        raise CsrfRejected()
    return Context(request, params, org_id, principal)


def endpoint(paths: str | Iterable[str], *, access: str = READ, post_only: bool = False) -> Callable:
    """Registers `view(ctx)` on every path; see the module notes for `access`. A PUBLIC view
    that changes something (sign-up, login, sending a code) is `post_only`."""
    paths = (paths,) if isinstance(paths, str) else tuple(paths)
    allowed = ("POST",) if access == WRITE or post_only else ("GET", "POST")

    def decorate(view: Callable[[Context], Any]) -> Callable:
        @functools.wraps(view)
        def handle():
            if user_api.current_request.method.upper() not in allowed:
                raise MethodNotAllowed()
            return view(_context(access))

        handle.__name__ = f"user_{view.__name__}"
        route(user_api, list(paths), family=Family.USER, methods=("GET", "POST"),
              content_types=ALL_CONTENT_TYPES)(handle)
        REGISTERED.append((view.__name__, paths, access, allowed))
        return view

    return decorate
