"""TransactWriteItems with named failures.

pynamodb's own TransactWrite regroups items by kind (checks, deletes, puts, updates),
so its cancellation reasons follow that order, not the caller's. This builder keeps
the caller's order and sends the items itself, so each reason maps back to the item
that caused it and to the domain error its caller named.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

from pynamodb.connection.base import TRANSACT_WRITE_ITEMS
from botocore.exceptions import ClientError
from pynamodb.exceptions import PynamoDBException

from chalicelib.domain.errors import (
    BrokerError,
    ConcurrentUpdate,
    TransactionTooLarge,
)
from chalicelib.store import faults

MAX_ITEMS = 100

# Called with the outbox id after a commit that emitted events (the event relay).
_commit_listeners: list[Callable[[int], None]] = []


def on_commit_with_events(listener: Callable[[int], None]) -> None:
    if listener not in _commit_listeners:
        _commit_listeners.append(listener)

# A failed condition on an item becomes this: an exception, an exception class, or a
# function of the old item (raw DynamoDB JSON, None when it did not exist).
FailureMapping = Union[BrokerError, type, Callable[[Optional[dict]], BaseException], None]


class TransactionCancelled(Exception):
    """Raised when no failure mapping names the cause; carries the raw reasons."""

    def __init__(self, reasons: list):
        super().__init__(f"transaction cancelled: {reasons}")
        self.reasons = reasons


@dataclass
class _Item:
    operation: dict
    on_condition_failed: FailureMapping


class Transaction:
    """Collects writes, then commits them all or none."""

    def __init__(self) -> None:
        self._events: list = []
        self._items: list[_Item] = []
        self._keys: set[tuple] = set()
        self._connection = None

    def __len__(self) -> int:
        return len(self._items)

    def put(self, model, condition=None, *, on_condition_failed: FailureMapping = None) -> None:
        kwargs = model.get_save_kwargs_from_instance(
            condition=condition,
            return_values_on_condition_failure="ALL_OLD" if condition is not None else None,
        )
        self._add("Put", kwargs, model, on_condition_failed)

    def update(self, model, actions, condition=None, *, on_condition_failed: FailureMapping = None) -> None:
        kwargs = model.get_update_kwargs_from_instance(
            actions=actions,
            condition=condition,
            return_values_on_condition_failure="ALL_OLD" if condition is not None else None,
        )
        self._add("Update", kwargs, model, on_condition_failed)

    def delete(self, model, condition=None, *, on_condition_failed: FailureMapping = None) -> None:
        kwargs = model.get_delete_kwargs_from_instance(condition=condition)
        self._add("Delete", kwargs, model, on_condition_failed)

    def check(self, model_cls, hash_key, range_key, condition, *, on_condition_failed: FailureMapping = None) -> None:
        kwargs = model_cls.get_operation_kwargs_from_class(hash_key, range_key=range_key, condition=condition)
        self._add("ConditionCheck", kwargs, model_cls, on_condition_failed)

    def _add(self, kind: str, kwargs: dict, model, on_condition_failed: FailureMapping) -> None:
        key = _item_key(kwargs)
        if key in self._keys:
            raise TransactionTooLarge(f"item {key} is touched twice in one transaction")
        if len(self._items) >= MAX_ITEMS:
            raise TransactionTooLarge(f"more than {MAX_ITEMS} items in one transaction")
        self._keys.add(key)
        self._items.append(_Item({kind: kwargs}, on_condition_failed))
        if self._connection is None:
            self._connection = model._get_connection().connection

    def emit(self, *events) -> None:
        """Events commit with the writes (as one outbox item) and are relayed after."""
        self._events.extend(events)

    def commit(self) -> None:
        outbox_id = None
        if self._events:
            from chalicelib.domain.ids import new_id
            from chalicelib.store.events import stage_outbox

            outbox_id = new_id()
            stage_outbox(self, outbox_id, self._events)
        if not self._items:
            return
        faults.reach("transaction.before_commit")
        try:
            self._connection.dispatch(
                TRANSACT_WRITE_ITEMS,
                {"TransactItems": [item.operation for item in self._items]},
            )
        except (ClientError, PynamoDBException) as error:
            raise self._translate(error) from error
        faults.reach("transaction.after_commit")
        if outbox_id is not None:
            for listener in _commit_listeners:
                listener(outbox_id)

    def _translate(self, error: Exception) -> BaseException:
        reasons = list(getattr(error, "cancellation_reasons", None) or [])
        if not reasons:
            code = getattr(error, "cause_response_code", None) or getattr(error, "response", {}).get(
                "Error", {}).get("Code")
            if code in ("TransactionConflictException", "ThrottlingException",
                        "ProvisionedThroughputExceededException"):
                return ConcurrentUpdate()
            return error
        for item, reason in zip(self._items, reasons):
            if reason is None:
                continue
            if reason.code == "ConditionalCheckFailed":
                return _resolve(item.on_condition_failed, reason.raw_item)
            if reason.code in ("TransactionConflict", "ThrottlingError"):
                return ConcurrentUpdate()
        return TransactionCancelled(reasons)


def _resolve(mapping: FailureMapping, old_item: Optional[dict]) -> BaseException:
    if mapping is None:
        return ConcurrentUpdate()
    if isinstance(mapping, BaseException):
        return mapping
    if isinstance(mapping, type) and issubclass(mapping, BaseException):
        return mapping()
    return mapping(old_item)


def _item_key(kwargs: dict) -> tuple:
    table = kwargs.get("TableName")
    key = kwargs.get("Key") or {name: kwargs["Item"][name] for name in ("pk", "sk") if name in kwargs.get("Item", {})}
    return (table,) + tuple(sorted((name, next(iter(value.values()))) for name, value in key.items()))


def run_with_retries(build_and_commit: Callable[[], Any], attempts: int = 25) -> Any:
    """Re-run an optimistic read-compute-commit until no concurrent writer got in between."""
    import random
    import time

    for attempt in range(attempts):
        try:
            return build_and_commit()
        except ConcurrentUpdate:
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
    raise ConcurrentUpdate()
