"""The single table every entity lives in, and the base its models share."""
from __future__ import annotations

from typing import Optional

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib import settings
from chalicelib.store.attributes import IntegerAttribute


class TableMeta:
    table_name = settings.table_name()
    region = settings.region()


class _GsiMeta:
    projection = AllProjection()


class Gsi1(GlobalSecondaryIndex):
    class Meta(_GsiMeta):
        index_name = "gsi1"

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex):
    class Meta(_GsiMeta):
        index_name = "gsi2"

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class Gsi3(GlobalSecondaryIndex):
    class Meta(_GsiMeta):
        index_name = "gsi3"

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class Entity(Model):
    """Base of every stored entity: generic string keys plus an optional TTL.

    `expires_at` holds epoch seconds; DynamoDB's TTL deletes the item after it.
    """

    class Meta(TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    expires_at = IntegerAttribute(null=True)


def padded(number: int, width: int = 20) -> str:
    """Sort keys of numeric ids, zero-padded so string order is numeric order."""
    return f"{number:0{width}d}"


NOTHING = object()  # an id range no id can fall in: the caller answers empty without a query


def id_range(range_attr, *, before_id: Optional[int] = None, after_id: Optional[int] = None):
    """The key condition for padded ids strictly between `after_id` and `before_id`.

    None when neither bound is given; NOTHING when no id can lie between them (DynamoDB
    rejects a BETWEEN whose low end is above its high end).
    """
    low = padded(after_id + 1) if after_id is not None else None
    high = padded(before_id - 1) if before_id is not None else None
    if low and high:
        return NOTHING if low > high else range_attr.between(low, high)
    if low:
        return range_attr >= low
    if high:
        return range_attr <= high
    return None
