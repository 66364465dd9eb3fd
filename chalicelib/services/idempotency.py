"""Every mutating operation runs through here, keyed by its caller-supplied operation id.

Same id and payload: the stored first response. Same id, other payload: IdempotencyMismatch.
Two at once: both build their writes, the idempotency record is written with a condition
in the same transaction as the effect, so exactly one commits and the other returns the
winner's response.

Powertools' idempotency utility was measured (specs/tooling-facts.md §6) and is not atomic
with the business write, so it cannot guard money; this is the transactional variant.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, Mapping, TypeVar

from chalicelib.domain.errors import IdempotencyMismatch, OperationInProgress
from chalicelib.store import idempotency as records
from chalicelib.store.transaction import Transaction, run_with_retries

T = TypeVar("T")


class _AlreadyDone(Exception):
    def __init__(self, stored):
        self.stored = stored


def payload_hash(payload: Mapping[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(stored: records.StoredOperation, expected_hash: str) -> dict:
    if stored.payload_hash != expected_hash:
        raise IdempotencyMismatch()
    if stored.status != records.COMPLETED:
        raise OperationInProgress()
    return stored.response


def run(scope: str, key: str, payload: Mapping[str, Any],
        build: Callable[[Transaction], dict]) -> dict:
    """Runs `build` (which stages writes on the transaction and returns the response) once.

    `build` may run several times when concurrent writers force a retry; only one run commits.
    """
    expected = payload_hash(payload)
    stored = records.get(scope, key)
    if stored is not None:
        return _replay(stored, expected)

    def attempt() -> dict:
        tx = Transaction()
        response = build(tx)
        tx.put(records.completed_record(scope, key, expected, response),
               records.IdempotencyRecord.pk.does_not_exist(),
               on_condition_failed=lambda old: _AlreadyDone(records.from_raw(old)))
        tx.commit()
        return response

    try:
        return run_with_retries(attempt)
    except _AlreadyDone as done:
        winner = done.stored or records.get(scope, key)
        return _replay(winner, expected)


def run_outside(scope: str, key: str, payload: Mapping[str, Any], effect: Callable[[], dict],
                lease_seconds: int = 60) -> dict:
    """For effects outside DynamoDB (a custody call): a lease, the effect, then the record.

    A crash while the lease is held leaves it to expire; the effect itself must then be
    safe to repeat with the same key (the custody API takes it as its own request id).
    """
    expected = payload_hash(payload)
    stored = records.get(scope, key)
    if stored is not None and stored.status == records.COMPLETED:
        return _replay(stored, expected)
    if stored is not None and stored.payload_hash != expected:
        raise IdempotencyMismatch()
    if not records.claim(scope, key, expected, lease_seconds):
        stored = records.get(scope, key)
        if stored is not None and stored.status == records.COMPLETED:
            return _replay(stored, expected)
        raise OperationInProgress()
    try:
        response = effect()
    except Exception:
        records.release(scope, key)
        raise
    records.complete(scope, key, expected, response)
    return response
