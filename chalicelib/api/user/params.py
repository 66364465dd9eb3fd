"""The User API's params models: their base, and the field types and mixins routes share.

Values come from the query, a form or a JSON body, and the models read them as the hand
parsing they replaced did: a blank or null value is absent (web forms send empty fields),
a JSON number sent for a text field is its text, names a model does not declare are
ignored. A value a service answers its own code for (a wrong verification code counts as
a guess, a wrong side is 4003) stays free text with a length bound; ids, times and limits
are bounded integers so that no value reaches the store that it cannot hold.
"""
from __future__ import annotations

from typing import Annotated, Any, Optional, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

MAX_ID = 2**63 - 1  # ids are 63-bit (`domain.ids`)
ID_PATTERN = r"^[0-9]{1,19}$"
SYMBOL_PATTERN = r"^[A-Za-z0-9_\-]{1,32}$"
DECIMAL_PATTERN = r"^(\d{1,38}(\.\d{0,38})?|\.\d{1,38})$"


class UserParams(BaseModel):
    """Base of the family's params models."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        return {name: value for name, value in values.items()
                if value is not None and not (isinstance(value, str) and not value.strip())}


class NoParams(UserParams):
    """The operation takes no parameters."""


Id = Annotated[int, Field(ge=0, le=MAX_ID)]
Cursor = Annotated[int, Field(ge=1, le=MAX_ID)]
Millis = Annotated[int, Field(ge=0, le=MAX_ID, description="milliseconds since the epoch")]
# Amounts stay text for the view to parse exactly; a JSON client may send a whole number,
# never a fraction as a JSON number (a binary float is not the amount the client wrote).
Amount = Union[Annotated[str, Field(strict=True, pattern=DECIMAL_PATTERN)], Annotated[int, Field(ge=0, le=MAX_ID)]]
Symbol = Annotated[str, Field(pattern=SYMBOL_PATTERN)]
ClientOrderId = Annotated[str, Field(min_length=1, max_length=64)]
# Enumerations stay free text: the services answer their own codes for a wrong value
# (4003 side, 4004 type, 4005 time in force), not the generic 2001.
Side = Annotated[str, Field(max_length=16, description="BUY or SELL, any case")]


def _comma_separated(value: Any) -> Any:
    """Comma-separated text (a query or form) or a JSON list, as a list without blanks."""
    if isinstance(value, str):
        value = value.split(",")
    if isinstance(value, list):
        return [item for item in value if not (isinstance(item, str) and not item.strip())]
    return value


def comma_list(item: Any, max_items: int) -> Any:
    """A list of at most `max_items`, sent as comma-separated text or a JSON list."""
    return Annotated[list[item], BeforeValidator(_comma_separated), Field(max_length=max_items)]


# Field specs (`Field(**VERIFY_CODE)`) of the one-time codes routes take.
GA_CODE_IF_BOUND = dict(max_length=16, description="Google Authenticator code, when GA is bound")
VERIFY_CODE = dict(max_length=16, description="the code sent by email or SMS (6 digits)")
CODE_ORDER_ID = dict(pattern=ID_PATTERN, description="the `orderId` send_verify_code answered with the code")


class SecondFactor(UserParams):
    """What `ctx.second_factor()` reads: `ga_code` with GA bound, else a code of the
    operation's type sent to the user's own email or mobile (`verify_code` with the
    `order_id` send_verify_code answered). Codes are free text: a wrong one counts as a
    guess (1017 / 1060), not as a malformed parameter."""

    ga_code: Optional[str] = Field(None, **GA_CODE_IF_BOUND)
    verify_code: Optional[str] = Field(None, **VERIFY_CODE)
    order_id: Optional[str] = Field(None, **CODE_ORDER_ID)
    auth_type: Optional[str] = Field(None, max_length=16, pattern=r"^[A-Za-z0-9]+$",
                                     description="where the code was sent: email (the default) or mobile")
