"""One registry of the operations every API family serves, for the OpenAPI generator.

A family's routing module registers an `Operation` per (path, method set) when it declares
a view; `chalicelib.api.apidocs` walks `operations(family)` to write that family's
OpenAPI 3.1 document. The registry describes; it never dispatches: each family keeps its
own dispatch table, because what runs before a view (sessions, CSRF, tokens, signatures)
differs per family.

`params` is what the view validates the request parameters with: a pydantic model class,
or any type pydantic's `TypeAdapter` accepts (a discriminated union of models when one
path takes several shapes), or None when the operation takes no parameters.

`auth` names how a caller authenticates; each family's document maps the name to its
security schemes (`apidocs.families`). `permission` is the admin permission, the OAuth
scope or the User API access level the operation needs.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from pydantic import BaseModel, TypeAdapter, ValidationError

from chalicelib.api.rendering import Family
from chalicelib.domain.errors import InvalidParameter, MissingParameter

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

# How a caller authenticates (mapped to security schemes per family by apidocs.families).
NONE = "none"                  # nobody in particular (sign-up, login, public data)
SESSION = "session"            # the family's session cookie
SESSION_CSRF = "session+csrf"  # the session cookie and the session's CSRF token
OAUTH2 = "oauth2"              # an OAuth 2.0 bearer token (permission: the scope it needs)
OAUTH_CLIENT = "oauth-client"  # an OAuth client's credentials (HTTP Basic or form fields; none for public apps)
OAUTH_CONSENT = "oauth-consent"  # the consent page's login token
HMAC = "hmac"                  # an API key plus an HMAC-SHA256 signature (User OpenAPI, Org API)
PARTNER_JWT = "partner-jwt"    # a partner's JWT (Klip Partners API)
AUTH_NAMES = (NONE, SESSION, SESSION_CSRF, OAUTH2, OAUTH_CLIENT, OAUTH_CONSENT, HMAC, PARTNER_JWT)
# The User API's access levels (`api.user.http`: public, read, write) as auth names.
BY_ACCESS = {"public": NONE, "read": SESSION, "write": SESSION_CSRF}

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


@dataclass(frozen=True)
class Operation:
    family: Family
    path: str
    methods: tuple[str, ...]
    params: Any = None
    auth: str = NONE
    permission: Optional[str] = None
    summary: str = ""
    response: Any = None
    body_media: tuple[str, ...] = (FORM, JSON)
    # what a successful answer is; only JSON answers are fuzzed for their content type
    produces: str = JSON
    # another path the same view serves with the same parameters (documented as such, and
    # fuzzed once, through the first path)
    alias_of: Optional[str] = None

    def __post_init__(self):
        if not self.path.startswith("/"):
            raise ValueError(f"an operation's path is absolute: {self.path!r}")
        if not self.methods or any(m not in METHODS for m in self.methods):
            raise ValueError(f"unknown methods {self.methods!r} for {self.path}")
        if self.auth not in AUTH_NAMES:
            raise ValueError(f"unknown auth {self.auth!r} for {self.path}")


_REGISTRY: dict[Family, dict[tuple[str, str], Operation]] = {}


def register(operation: Operation) -> Operation:
    """Adds an operation; a (path, method) of a family is described once."""
    table = _REGISTRY.setdefault(operation.family, {})
    for method in operation.methods:
        if (operation.path, method) in table:
            raise ValueError(f"{method} {operation.path} is registered twice")
    for method in operation.methods:
        table[(operation.path, method)] = operation
    return operation


def operations(family: Family) -> list[Operation]:
    """The family's operations in registration order (each once)."""
    seen: dict[int, Operation] = {}
    for operation in _REGISTRY.get(family, {}).values():
        seen.setdefault(id(operation), operation)
    return list(seen.values())


def families() -> list[Family]:
    """Families with at least one registered operation."""
    return [family for family in Family if _REGISTRY.get(family)]


def find(family: Family, path: str, method: str) -> Optional[Operation]:
    """The operation registered for the path (as routed, with its `{variables}`) and method."""
    return _REGISTRY.get(family, {}).get((path, method.upper()))


def described(family: Family) -> Iterable[tuple[str, str]]:
    """Every (path, method) the family's registry describes."""
    return tuple(_REGISTRY.get(family, {}))


# --- validating an operation's parameters --------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _adapter(params_type: Any) -> TypeAdapter:
    return TypeAdapter(params_type)


def is_model(params_type: Any) -> bool:
    return isinstance(params_type, type) and issubclass(params_type, BaseModel)


def parse_params(params_type: Any, values: dict, *, ignore: Iterable[str] = (), unnamed: str = "body") -> Any:
    """`values` validated by the operation's params type; a failure raises the family-neutral
    MissingParameter / InvalidParameter naming the first bad field (`unnamed` when pydantic
    names none, e.g. the discriminator of a union that is missing)."""
    values = {k: v for k, v in values.items() if k not in set(ignore)}
    try:
        if is_model(params_type):
            return params_type.model_validate(values)
        return _adapter(params_type).validate_python(values)
    except ValidationError as failure:
        error = failure.errors()[0]
        loc = [str(part) for part in error.get("loc", ())]
        if loc and not is_model(params_type) and not error["type"].startswith("union_tag"):
            loc = loc[1:]  # a tagged union puts the tag before the field
        name = loc[0] if loc else unnamed
        if error["type"] in ("missing", "union_tag_not_found"):
            raise MissingParameter(name) from None
        if error["type"] == "extra_forbidden":
            raise InvalidParameter(name, f"Parameter '{name}' is not accepted here") from None
        raise InvalidParameter(name) from None
