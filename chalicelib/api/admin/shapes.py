"""Parameter models and answer shapes the admin actions share.

Paging: page-numbered lists answer `{"current", "pageSize", "total", "list"}`; lists where a
total would cost a full read (audit log, orders, trades) answer a cursor instead:
`{"list", "next_before_id"}` (pass it back as `before_id`).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal, Optional, Sequence

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from chalicelib.domain import money
from chalicelib.domain.errors import InvalidParameter


def _split(value: Any) -> Any:
    """A list from a JSON array or a comma-separated string (query strings and forms)."""
    if value is None or isinstance(value, (list, tuple)):
        return value
    return [part.strip() for part in str(value).split(",") if part.strip()]


CsvList = Annotated[list[str], BeforeValidator(_split)]


class Params(BaseModel):
    """Base of admin parameter models: unknown fields are refused, strings trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class PageParams(Params):
    current: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=200, alias="pageSize")


class CursorParams(Params):
    before_id: Optional[str] = Field(None, pattern=r"^\d{1,20}$")
    limit: int = Field(50, ge=1, le=200)


class Operation(Params):
    """For actions that move money or change state irreversibly: the caller's operation id."""

    operation_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")


def page(items: Sequence[Any], current: int, page_size: int) -> dict:
    start = (current - 1) * page_size
    return {"current": current, "pageSize": page_size, "total": len(items),
            "list": list(items[start:start + page_size])}


def cursor_page(rows: list[dict], limit: int, id_field: str = "id") -> dict:
    return {"list": rows, "next_before_id": str(rows[-1][id_field]) if len(rows) >= limit and rows else None}


def token_field(default: Any = ...) -> Any:
    return Field(default, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_]+$")


def uid_field(default: Any = ...) -> Any:
    return Field(default, min_length=1, max_length=20, pattern=r"^\d+$")


def _amount(value: Any) -> Decimal:
    try:
        return money.parse(value, "amount")
    except InvalidParameter:
        raise ValueError("not a plain decimal number") from None


# Exact decimals from text: no floats' rounding, no exponents (money.parse).
Amount = Annotated[Decimal, BeforeValidator(_amount)]


class NoParams(Params):
    """An action without parameters: any parameter is refused."""


class Window(Params):
    granularity: Literal["day", "hour", "minute"] = "day"
    start_time: Optional[int] = Field(None, ge=0, description="ms since the epoch; bucket containing it first")
    end_time: Optional[int] = Field(None, ge=0, description="ms since the epoch; defaults to now")
