"""Fixes for moto 5.2.5 that the local stack and the tests must not inherit.

Importing this module applies the patches (``apply()`` is idempotent):

1. **TransactWriteItems snapshots only the items it touches.** Unpatched moto
   ``copy.deepcopy``s the *whole table* once per transaction item and, on failure,
   puts the copy back (``self.tables[name] = copy``). Cost grows with table size
   (~2 tx/s at 5,000 items) and, in server mode, restoring the copy silently undoes
   every write that other requests made meanwhile. The patched version keeps the
   same checks, order, exceptions and CancellationReasons, but before an operation
   touches an item it saves a copy of that one item (or "absent") and on failure
   restores exactly those items, plus truncates the stream records the failed
   transaction appended (unpatched moto's table restore dropped them too).
2. **DynamoDB requests are serialized.** A process-wide lock is held around each
   DynamoDB (and DynamoDB Streams) request's backend dispatch, in-process and in
   server mode alike, so a transaction (or an update's read-modify-write) never
   interleaves with another request. Other services (SQS long polls) stay concurrent.
3. **Number arithmetic with DynamoDB's 38-digit precision.** moto adds and
   subtracts numbers (``ADD``, ``SET a = a + :v``) in Python's default 28-digit
   Decimal context; the patch uses 38 digits, as DynamoDB does, parses operands in
   exponent form (``1E-18``, which crashed moto with a 500) and renders results
   fixed-point.
4. **KMS keys are cheap.** moto generates a 2048-bit RSA private key for *every*
   KMS key, symmetric ones included (~50 ms each; a DynamoDB table with SSE creates
   one). The patch generates it on first use, which symmetric keys never reach.
5. **A Query reads its partition, not the table.** ``Table.query`` starts from
   ``all_items()``, which collects and sorts every item of the table (DynamoType
   comparisons) before keeping the queried partition: O(n log n) in the table size per
   query, ~0.2 s at ~20,000 items, so long runs slow down quadratically. The patch
   hands ``query`` only the candidates it would keep anyway (the queried partition; for
   an index, the items whose index hash attributes match); moto then sorts, pages,
   filters and projects them as before, so answers are unchanged
   (tests/infra/test_moto_patch.py compares both).

Use: ``import infra.local.moto_patch`` before ``mock_aws()`` (tests) or in the process
that runs the moto server (``python -m infra.local.moto_server``).
"""
from __future__ import annotations

import copy
import decimal
import functools
import hashlib
import inspect
import threading
import warnings
from typing import Any

import moto
import moto.dynamodb.models as _ddb_models
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DDBType, DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

__all__ = ['apply', 'applied', 'DYNAMODB_LOCK', 'MOTO_VERSION', 'D38']

MOTO_VERSION = '5.2.5'
# sha256 of inspect.getsource(DynamoDBBackend.transact_write_items) in moto 5.2.5:
# the patched copy below mirrors that code; warn if moto changed under us.
_ORIGINAL_TRANSACT_SHA256 = '81db2cb7d94e39c90b3a2077e1f4bb41a449c558ef9b1b1e2910fdaa39978ad4'

DYNAMODB_LOCK = threading.RLock()
D38 = decimal.Context(prec=38)

_applied = False
_originals: dict[str, Any] = {}


# ------------------------------------------------------------- 1. transactions

def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2.5's transact_write_items with per-item snapshots instead of table copies.

    Kept line for line with the original except where marked PATCH.
    """
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    # PATCH: no whole-table deepcopy; items are saved lazily as they are touched.
    journal = _Journal(self)

    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            journal.rollback()  # PATCH: AWS validates before writing anything
            raise TransactWriteSingleOpException

        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {'ConditionCheck', 'Put', 'Delete', 'Update'}:
                raise ValueError('Unsupported transaction operation')

            table_name = op['TableName']
            condition_expression = op.get('ConditionExpression')
            expression_attribute_names = op.get('ExpressionAttributeNames')
            expression_attribute_values = op.get('ExpressionAttributeValues')
            return_values_on_condition_check_failure = op.get(
                'ReturnValuesOnConditionCheckFailure')

            if op_type == 'Put':
                attrs = op['Item']
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op['Key']

            check_unicity(table_name, key)

            if op_type != 'ConditionCheck':
                journal.save(table_name, key)  # PATCH: snapshot this one item
            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition_op = _ddb_models.get_filter_expression(
                    condition_expression,
                    expression_attribute_names,
                    expression_attribute_values,
                )
                if not condition_op.expr(current):
                    if return_values_on_condition_check_failure == 'ALL_OLD' and current:
                        original_item = current.to_json()['Attributes']
                    raise ConditionalCheckFailed(item=original_item)

            if op_type == 'Put':
                attrs = op['Item']
                self.put_item(
                    table_name,
                    attrs,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == 'Delete':
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == 'Update':
                update_expression = op['UpdateExpression']
                self.update_item(
                    table_name,
                    key,
                    update_expression=update_expression,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            # Rollback to the original state, and reraise the error
            journal.rollback()  # PATCH
            raise
        except ConditionalCheckFailed as e:
            errors.append(('ConditionalCheckFailed', str(e.message), original_item))  # type: ignore
        except Exception as e:  # noqa: BLE001 - same as moto: capture the details
            errors.append((type(e).__name__, str(e), original_item))  # type: ignore

    if any(code is not None for code, _, _ in errors):
        journal.rollback()  # PATCH
        raise TransactionCanceledException(errors)


class _Journal:
    """The pre-images of the items a transaction touched, and how to put them back."""

    def __init__(self, backend: DynamoDBBackend):
        self.backend = backend
        self.items: dict[tuple[str, Any, Any], tuple[Any, Any, Any, Item | None, bool]] = {}
        self.streams: dict[str, tuple[Any, Any, int]] = {}

    def save(self, table_name: str, key: dict[str, Any]) -> None:
        # Raises exactly what backend.get_item(table_name, key) raises for a bad
        # table or key, at the same point, so error handling is unchanged.
        table = self.backend.get_table(table_name)
        hash_key, range_key = self.backend.get_keys_value(table, key)
        ident = (table.name, hash_key, range_key)
        if ident in self.items:
            return
        if table.name not in self.streams:
            shard = table.stream_shard
            self.streams[table.name] = (table, shard, len(shard.items) if shard else 0)
        bucket_existed = hash_key in table.items
        if range_key is not None:
            current = table.items[hash_key].get(range_key) if bucket_existed else None
        else:
            current = table.items.get(hash_key)
        self.items[ident] = (table, hash_key, range_key,
                             copy.deepcopy(current) if current is not None else None,
                             bucket_existed)

    def rollback(self) -> None:
        for table, hash_key, range_key, before, bucket_existed in self.items.values():
            if range_key is not None:
                if before is not None:
                    table.items[hash_key][range_key] = before
                else:
                    bucket = table.items.get(hash_key)
                    if bucket is not None:
                        bucket.pop(range_key, None)
                        if not bucket and not bucket_existed:
                            del table.items[hash_key]
            elif before is not None:
                table.items[hash_key] = before
            else:
                table.items.pop(hash_key, None)
        for table, shard, length in self.streams.values():
            if shard is not None and table.stream_shard is shard and len(shard.items) > length:
                del shard.items[length:]
        self.items.clear()
        self.streams.clear()


# ------------------------------------------------------------ 2. serialization

def _locked(fn: Any) -> Any:
    @functools.wraps(fn)
    def call_action(self: Any) -> Any:
        with DYNAMODB_LOCK:
            return fn(self)
    call_action.__moto_patch__ = True  # type: ignore[attr-defined]
    return call_action


# ------------------------------------------------------------ 3. 38-digit numbers

def _number(value: str) -> decimal.Decimal:
    return decimal.Decimal(value)


def _render(total: decimal.Decimal) -> str:
    text = format(total, 'f')
    return text


def _add(self: DynamoType, other: DynamoType) -> DynamoType:
    if self.type != other.type:
        raise TypeError('Different types of operandi is not allowed.')
    if self.is_number():
        total = D38.add(_number(self.value), _number(other.value))
        return DynamoType({DDBType.NUMBER: _render(total)})
    from moto.dynamodb.exceptions import IncorrectDataType
    raise IncorrectDataType()


def _sub(self: DynamoType, other: DynamoType) -> DynamoType:
    if self.type != other.type:
        raise TypeError('Different types of operandi is not allowed.')
    if self.type == DDBType.NUMBER:
        total = D38.subtract(_number(self.value), _number(other.value))
        return DynamoType({DDBType.NUMBER: _render(total)})
    raise TypeError('Sum only supported for Numbers.')


def _with_d38(fn: Any) -> Any:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with decimal.localcontext(D38):
            return fn(*args, **kwargs)
    return wrapper


# ------------------------------------------------------------------ 4. KMS keys

class _LazyPrivateKey:
    """Stands in for moto's private key object until something actually uses it."""

    def __init__(self, generate: Any, key_spec: str):
        self._generate = generate
        self._key_spec = key_spec
        self._real: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if name.startswith('__') or name in ('_generate', '_key_spec', '_real', '_lock'):
            raise AttributeError(name)
        with self._lock:
            if self._real is None:
                self._real = self._generate(self._key_spec)
        return getattr(self._real, name)


def _lazy_generate_private_key(original: Any) -> Any:
    @functools.wraps(original)
    def generate_private_key(key_spec: str) -> Any:
        if key_spec.startswith(('RSA_', 'ECC_')):
            return original(key_spec)
        return _LazyPrivateKey(original, key_spec)
    return generate_private_key


# ------------------------------------------------------- 5. partition queries

def _partition(table: Table, hash_key: DynamoType) -> list:
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


def _partition_query(original: Any) -> Any:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs).arguments
        hash_key, index_name = bound.get('hash_key'), bound.get('index_name')
        conditions = bound.get('hash_key_conditions')
        if index_name is None and isinstance(hash_key, DynamoType):
            candidates = _partition(self, hash_key)
        elif index_name is not None and conditions:
            candidates = _matching(self, conditions)
        else:
            return original(self, *args, **kwargs)
        # An instance attribute shadows the method for this one call; DynamoDB requests
        # hold DYNAMODB_LOCK (patch 2), so no other request sees it.
        self.all_items = lambda: candidates  # type: ignore[method-assign]
        try:
            return original(self, *args, **kwargs)
        finally:
            del self.all_items

    return query


# ----------------------------------------------------------------------- apply

def _source_sha(fn: Any) -> str:
    return hashlib.sha256(inspect.getsource(fn).encode()).hexdigest()


def apply() -> None:
    """Apply every patch once (idempotent)."""
    global _applied
    if _applied:
        return
    if moto.__version__ != MOTO_VERSION:
        warnings.warn(f'infra.local.moto_patch was written for moto {MOTO_VERSION}, '
                      f'found {moto.__version__}: re-check transact_write_items', stacklevel=2)
    elif _source_sha(DynamoDBBackend.transact_write_items) != _ORIGINAL_TRANSACT_SHA256:
        warnings.warn('moto transact_write_items differs from the code infra.local.moto_patch '
                      'mirrors: re-check the patch', stacklevel=2)

    _originals['transact_write_items'] = DynamoDBBackend.transact_write_items
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]

    _originals['ddb_call_action'] = DynamoHandler.call_action
    DynamoHandler.call_action = _locked(DynamoHandler.call_action)  # type: ignore[method-assign]
    try:
        from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
        _originals['streams_call_action'] = DynamoDBStreamsHandler.call_action
        DynamoDBStreamsHandler.call_action = _locked(  # type: ignore[method-assign]
            DynamoDBStreamsHandler.call_action)
    except ImportError:  # pragma: no cover - extra not installed
        pass

    _originals['add'] = DynamoType.__add__
    _originals['sub'] = DynamoType.__sub__
    DynamoType.__add__ = _add  # type: ignore[method-assign]
    DynamoType.__sub__ = _sub  # type: ignore[method-assign]
    _originals['update_with_attribute_updates'] = Item.update_with_attribute_updates
    Item.update_with_attribute_updates = _with_d38(  # type: ignore[method-assign]
        Item.update_with_attribute_updates)

    import moto.kms.models as kms_models
    _originals['generate_private_key'] = kms_models.generate_private_key
    kms_models.generate_private_key = _lazy_generate_private_key(kms_models.generate_private_key)

    _originals['query'] = Table.query
    Table.query = _partition_query(Table.query)  # type: ignore[method-assign]
    _applied = True


def original(name: str) -> Any:
    """An unpatched function, e.g. ``original('transact_write_items')`` (benchmarks, tests)."""
    return _originals[name]


def unapply() -> None:
    """Undo every patch (benchmarks compare patched and unpatched moto in one process)."""
    global _applied
    if not _applied:
        return
    DynamoDBBackend.transact_write_items = _originals['transact_write_items']  # type: ignore
    DynamoHandler.call_action = _originals['ddb_call_action']  # type: ignore
    if 'streams_call_action' in _originals:
        from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
        DynamoDBStreamsHandler.call_action = _originals['streams_call_action']  # type: ignore
    DynamoType.__add__ = _originals['add']  # type: ignore
    DynamoType.__sub__ = _originals['sub']  # type: ignore
    Item.update_with_attribute_updates = _originals['update_with_attribute_updates']  # type: ignore
    import moto.kms.models as kms_models
    kms_models.generate_private_key = _originals['generate_private_key']
    Table.query = _originals['query']  # type: ignore
    _applied = False


def applied() -> bool:
    return _applied


apply()
