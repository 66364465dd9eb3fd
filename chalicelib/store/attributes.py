"""Exact decimal storage for pynamodb (its built-in number attribute round-trips through float)."""
from __future__ import annotations

import decimal
from decimal import Decimal

from pynamodb.attributes import Attribute
from pynamodb.constants import NUMBER

# DynamoDB numbers hold 38 significant digits; anything more must fail loudly, not round.
_DYNAMO_CONTEXT = decimal.Context(
    prec=38, traps=[decimal.Inexact, decimal.Rounded, decimal.InvalidOperation]
)


def to_fixed_point(value: Decimal) -> str:
    """Fixed-point text: DynamoDB accepts exponents, but moto crashes on them."""
    _DYNAMO_CONTEXT.create_decimal(value)
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {value}")
    return format(value, "f")


class DecimalAttribute(Attribute[Decimal]):
    attr_type = NUMBER

    def serialize(self, value):
        return to_fixed_point(value if isinstance(value, Decimal) else Decimal(value))

    def deserialize(self, value):
        return Decimal(value)


class IntegerAttribute(Attribute[int]):
    """Exact integers (ids, versions, epoch times) without a float round trip."""

    attr_type = NUMBER

    def serialize(self, value):
        return str(int(value))

    def deserialize(self, value):
        return int(Decimal(value))
