"""moto 5.2.5 answers every DynamoDB Query by sorting the whole table first.

`Table.query` starts from `all_items()`, which collects and sorts every item of the table
(with DynamoType comparisons), and only then keeps the queried partition. A query costs
O(n log n) in the table size: ~0.2 s per query at ~20,000 items, so a long random run
slows down quadratically (the event relay queries each stream's subscribers per event).

This patch hands `query` only the candidates it would keep anyway: the items of the
queried partition for a table query, the items whose index hash attributes match for an
index query. moto then sorts, pages, filters and projects them exactly as before, so
answers are unchanged (tests/fault/test_moto_query_speed.py compares both).
Importing the module applies it; it belongs next to `infra.local.moto_patch`.
"""
from __future__ import annotations

import functools
import inspect

from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

_original_query = Table.query


def _partition(table: Table, hash_key) -> list:
    found = table.items.get(hash_key)
    if found is None:
        return []
    return list(found.values()) if table.range_key_attr else [found]


def _matching(table: Table, conditions: list) -> list:
    wanted = [(name, value.type, value.value) for name, value in conditions]
    found = []
    for hash_set in table.items.values():
        for item in (hash_set.values() if table.range_key_attr else [hash_set]):
            attrs = item.attrs
            for name, kind, value in wanted:
                got = attrs.get(name)
                if got is None or got.type != kind or got.value != value:
                    break
            else:
                found.append(item)
    return found


_SIGNATURE = inspect.signature(_original_query)


@functools.wraps(_original_query)
def _query(self: Table, *args, **kwargs):
    bound = _SIGNATURE.bind(self, *args, **kwargs).arguments
    hash_key, index_name = bound.get("hash_key"), bound.get("index_name")
    conditions = bound.get("hash_key_conditions")
    if index_name is None and isinstance(hash_key, DynamoType):
        candidates = _partition(self, hash_key)
    elif index_name is not None and conditions:
        candidates = _matching(self, conditions)
    else:
        return _original_query(self, *args, **kwargs)
    self.all_items = lambda: candidates  # an instance attribute shadows the method for this call
    try:
        return _original_query(self, *args, **kwargs)
    finally:
        del self.all_items


def apply() -> None:
    Table.query = _query


def remove() -> None:
    Table.query = _original_query


apply()
