"""Decimal parsing and rendering at the edges: exact, never float, never exponent form."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from chalicelib.domain.errors import InvalidParameter

MAX_DIGITS = 38


def parse(value, param: str) -> Decimal:
    """A decimal from wire text; rejects floats' lossy forms, NaN, infinity and exponents."""
    if isinstance(value, bool) or value is None:
        raise InvalidParameter(param)
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip()
    if not text or any(ch in text for ch in "eE") or text.lower() in ("nan", "inf", "-inf", "infinity"):
        raise InvalidParameter(param)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidParameter(param) from None
    if not number.is_finite() or len(number.as_tuple().digits) > MAX_DIGITS:
        raise InvalidParameter(param)
    return number


def text(value: Decimal) -> str:
    """Plain text without trailing zeros: '0.1', '100', '0' (BHEX's stripTrailingZeros)."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def on_grid(value: Decimal, step: Decimal) -> bool:
    return step > 0 and (value % step) == 0
