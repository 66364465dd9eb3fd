"""The Org API's parameter models: wire types that check what the views' `OrgRequest`
readers check, with the same error codes and messages, and the validation the route
layer runs before a view.

Every value arrives as text; an empty value counts as absent (as `OrgRequest.get` reads
it), so a model sees only what a view would read. Models allow parameters they do not
name: the Org API always ignored them and seed clients send some (a `client_order_id` on
reads, for one), so refusing them would break callers. Pydantic's errors become the
family's MissingParameter / InvalidParameter naming the parameter's first name.
"""
from __future__ import annotations

import functools
import re
from decimal import Decimal
from typing import Annotated, Any, Optional

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from chalicelib.api.org.http import LIST_TYPES, MAX_OPERATION_ID, OPERATION_ID_PATTERN
from chalicelib.auth import org_signature
from chalicelib.domain import money
from chalicelib.domain.errors import InvalidParameter, MissingParameter

_OPERATION_ID = re.compile(OPERATION_ID_PATTERN)
DECIMAL_PATTERN = r"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*$"
UID_PATTERN = r"^[0-9]+$"

INVALID, MISSING = "org_invalid", "org_missing"
READ_LAST = ("client_order_id", "listType")
# Messages the views give for a parameter instead of the default one.
MISSING_MESSAGES = {"client_order_id": "Every uplink takes a unique client_order_id",
                    "file": "Send the file as the multipart field 'file'"}


def invalid(message: str = "", name: str = "") -> PydanticCustomError:
    """A refusal inside a model (of the parameter `name` when the model refuses a
    combination); an empty message means the parameter's default one."""
    return PydanticCustomError(INVALID, "{message}", {"name": name or "body", "message": message})


def missing(name: str, message: str = "") -> PydanticCustomError:
    """A model-level refusal for a parameter that one of several combinations lacks."""
    return PydanticCustomError(MISSING, "{message}", {"name": name, "message": message})


def named(*names: str, description: str = "", **kwargs: Any) -> Any:
    """A field read under its first name or, failing that, under the next ones (the views'
    `request.get(*names)`); the document shows the first and mentions the others."""
    if len(names) > 1:
        also = ", ".join(f"`{name}`" for name in names[1:])
        description = f"{description} (also accepted as {also})".strip()
    if description:
        kwargs["description"] = description
    return Field(validation_alias=AliasChoices(*names), **kwargs)


# --- wire types --------------------------------------------------------------------------------------

def _integer(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise invalid() from None
    return value


def _decimal(value: Any) -> Any:
    try:
        return money.parse(value, "value")
    except InvalidParameter:
        raise invalid() from None


def _clearable_decimal(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else _decimal(value)


def _flag(value: Any, info: ValidationInfo) -> Any:
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise invalid(f"Parameter '{info.field_name}' must be true or false")


def _list_type(value: Any) -> str:
    text = str(value).strip().lower()
    if text not in LIST_TYPES:
        raise invalid("listType must be simple or full")
    return text


def _operation_id(value: str) -> str:
    if not _OPERATION_ID.match(value):
        raise invalid(f"client_order_id is 1 to {MAX_OPERATION_ID} characters of letters, digits and _ . : -")
    return value


def _not_negative(value: int) -> int:
    if value < 0:
        raise invalid()
    return value


def _within(low: int, high: int, message: str):
    def check(value: int) -> int:
        if not low <= value <= high:
            raise invalid(message)
        return value

    return check


Integer = Annotated[int, BeforeValidator(_integer)]
Id = Annotated[int, BeforeValidator(_integer), AfterValidator(_not_negative), Field(json_schema_extra={"minimum": 0})]
TimeMs = Annotated[int, BeforeValidator(_integer), Field(description="epoch milliseconds")]
Uid = Annotated[str, Field(pattern=UID_PATTERN)]
Amount = Annotated[Decimal, BeforeValidator(_decimal),
                   WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN, "description": "a decimal number"})]
ClearableAmount = Annotated[Optional[Decimal], BeforeValidator(_clearable_decimal),
                            WithJsonSchema({"type": "string", "pattern": r"^\s*$|" + DECIMAL_PATTERN})]
Flag = Annotated[bool, BeforeValidator(_flag)]
ListType = Annotated[str, BeforeValidator(_list_type),
                     WithJsonSchema({"type": "string", "enum": list(LIST_TYPES), "default": "full",
                                     "description": "`simple`: the ids only; `full`: the objects"})]
OperationId = Annotated[str, AfterValidator(_operation_id),
                        WithJsonSchema({"type": "string", "pattern": OPERATION_ID_PATTERN,
                                        "description": "the caller's unique id of this operation: a retry with "
                                                       "the same id has the first call's effect only"})]


def page_size(default: int, maximum: int) -> Any:
    """A page size of 1 to `maximum` (the views' `request.limit(default, maximum)`)."""
    return Annotated[int, BeforeValidator(_integer),
                     AfterValidator(_within(1, maximum, f"limit must be 1 to {maximum}")),
                     Field(json_schema_extra={"minimum": 1, "maximum": maximum, "default": default})]


def within(low: int, high: int, message: str, **schema: Any) -> Any:
    return Annotated[int, BeforeValidator(_integer), AfterValidator(_within(low, high, message)),
                     Field(json_schema_extra={"minimum": low, "maximum": high, **schema})]


# --- models ------------------------------------------------------------------------------------------

class OrgParams(BaseModel):
    """What every call sends besides its own parameters (`signature` is the security scheme's)."""

    model_config = ConfigDict(extra="allow")

    timestamp: Integer = Field(description="epoch milliseconds of the call; signed")
    recvWindow: Optional[Integer] = Field(None, description="how old (ms) the call may be when it arrives; "
                                                            "default 5000, at most 60000")


class Uplink(OrgParams):
    """A call that changes something: the caller names it once for all retries."""

    client_order_id: OperationId = named("client_order_id", "operation_id", "clientOrderId")


class Listing(OrgParams):
    listType: Optional[ListType] = named("listType", "list_type", default=None)


class UserListing(Listing):
    uid: Uid = named("uid", "user_id")


class OneUser(OrgParams):
    uid: Uid = named("uid", "user_id")


class Page(UserListing):
    """A user's history, newest first, between ids and times."""

    token_id: Optional[str] = None
    from_id: Optional[Id] = Field(None, description="only entries older than this id")
    to_id: Optional[Id] = Field(None, description="only entries newer than this id")
    start_time: Optional[TimeMs] = None
    end_time: Optional[TimeMs] = None
    limit: Optional[page_size(20, 500)] = None


# --- validation --------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _first_names(model: type[BaseModel]) -> dict[str, str]:
    """Every name a model's fields are read under -> the field's first name."""
    names = {}
    for field_name, info in model.model_fields.items():
        names[field_name] = field_name
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            choices = [str(choice) for choice in alias.choices]
            for choice in choices:
                names[choice] = choices[0]
        elif isinstance(alias, str):
            names[alias] = alias
    return names


def validate(model: type[BaseModel], params: dict[str, str], files: dict[str, tuple[str, bytes]]) -> BaseModel:
    """The call's parameters (and uploaded files' bytes) as `model`; the first refusal in
    the model's field order is the family's error."""
    values: dict[str, Any] = {name: value for name, value in params.items()
                              if value != "" and name != org_signature.SIGNATURE}
    values.update({name: data for name, (_, data) in files.items()})
    try:
        return model.model_validate(values)
    except ValidationError as failure:
        errors = failure.errors()
        # the views read these after everything else, so they are reported last
        errors.sort(key=lambda error: bool(error.get("loc")) and
                    _first_names(model).get(str(error["loc"][0])) in READ_LAST)
        raise _family_error(model, errors[0]) from None


def _family_error(model: type[BaseModel], error: dict) -> InvalidParameter:
    ctx = error.get("ctx") or {}
    loc = [str(part) for part in error.get("loc", ())]
    name = _first_names(model).get(loc[0], loc[0]) if loc else ctx.get("name", "body")
    message = ctx.get("message") or None if error["type"] in (INVALID, MISSING) else None
    if error["type"] == "missing":
        return MissingParameter(name, MISSING_MESSAGES.get(name))
    if error["type"] == MISSING:
        return MissingParameter(name, message)
    return InvalidParameter(name, message)


__all__ = ["Amount", "ClearableAmount", "Flag", "Id", "Integer", "ListType", "OperationId", "OrgParams", "Page",
           "TimeMs", "Uid", "Uplink", "UserListing", "Listing", "OneUser", "page_size", "within", "named", "invalid",
           "missing", "validate"]
