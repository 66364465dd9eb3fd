"""App2App requests, approval-page sessions and the daily execute_contract count.

| entity | pk | sk | notes |
|---|---|---|---|
| request | `A2A#<request key>` | `META` | version-conditioned; TTL a week past expiration |
| approval session | `A2ASESSION#<sha256 of token>` | `META` | TTL; bound to one request and user |
| execute count | `A2AEXEC#<uid>` | `<UTC day>` | conditioned ADD, TTL two days |
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import Optional

from pynamodb.attributes import UnicodeAttribute

from chalicelib.domain.errors import A2AExecuteContractDailyLimit, ConcurrentUpdate
from chalicelib.domain.klip import RECORD_RETENTION, RequestType, Status
from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity
from chalicelib.store.transaction import Transaction


class A2ARecord(Entity):
    request_key = UnicodeAttribute()
    request_type = UnicodeAttribute()
    bapp_name = UnicodeAttribute()
    callback_success = UnicodeAttribute(null=True)
    callback_fail = UnicodeAttribute(null=True)
    transaction = UnicodeAttribute()
    message = UnicodeAttribute()
    status = UnicodeAttribute()
    result = UnicodeAttribute(null=True)
    error_code = IntegerAttribute(null=True)
    error_message = UnicodeAttribute(null=True)
    expiration_time = IntegerAttribute()
    org_id = UnicodeAttribute(null=True)
    uid = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
    withdrawal_id = UnicodeAttribute(null=True)
    version = IntegerAttribute()
    created_at = IntegerAttribute()
    updated_at = IntegerAttribute()


class ApprovalSessionRecord(Entity):
    uid = UnicodeAttribute()
    org_id = UnicodeAttribute()
    request_key = UnicodeAttribute()
    valid_until = IntegerAttribute()


class ExecuteCountRecord(Entity):
    count = IntegerAttribute(null=True)


@dataclass(frozen=True)
class A2ARequest:
    request_key: str
    type: RequestType
    bapp_name: str
    callback_success: Optional[str]
    callback_fail: Optional[str]
    transaction: dict
    message: dict
    status: Status
    expiration_time: int
    version: int
    created_at: int
    updated_at: int
    result: Optional[dict] = None
    error_code: Optional[int] = None
    error_message: Optional[str] = None
    org_id: Optional[str] = None
    uid: Optional[str] = None
    address: Optional[str] = None
    withdrawal_id: Optional[str] = None


@dataclass(frozen=True)
class ApprovalSession:
    uid: str
    org_id: str
    request_key: str
    valid_until: int


def now() -> int:
    return int(time.time())


def _key(request_key: str) -> str:
    return f"A2A#{request_key}"


def _record(r: A2ARequest) -> A2ARecord:
    return A2ARecord(
        _key(r.request_key), "META", request_key=r.request_key, request_type=r.type.value, bapp_name=r.bapp_name,
        callback_success=r.callback_success, callback_fail=r.callback_fail,
        transaction=json.dumps(r.transaction, sort_keys=True), message=json.dumps(r.message, sort_keys=True),
        status=r.status.value, result=json.dumps(r.result, sort_keys=True) if r.result is not None else None,
        error_code=r.error_code, error_message=r.error_message, expiration_time=r.expiration_time,
        org_id=r.org_id, uid=r.uid, address=r.address, withdrawal_id=r.withdrawal_id, version=r.version,
        created_at=r.created_at, updated_at=r.updated_at, expires_at=r.expiration_time + RECORD_RETENTION)


def _to_request(r: A2ARecord) -> A2ARequest:
    return A2ARequest(
        r.request_key, RequestType(r.request_type), r.bapp_name, r.callback_success, r.callback_fail,
        json.loads(r.transaction), json.loads(r.message), Status(r.status), r.expiration_time, r.version,
        r.created_at, r.updated_at, json.loads(r.result) if r.result else None, r.error_code, r.error_message,
        r.org_id, r.uid, r.address, r.withdrawal_id)


def create(request: A2ARequest) -> None:
    _record(request).save(A2ARecord.pk.does_not_exist())


def get(request_key: str) -> Optional[A2ARequest]:
    try:
        return _to_request(A2ARecord.get(_key(request_key), "META", consistent_read=True))
    except A2ARecord.DoesNotExist:
        return None


def stage_update(tx: Transaction, before: A2ARequest, after: A2ARequest) -> A2ARequest:
    """Writes `after` if the stored version is still `before`'s; returns what is written."""
    written = replace(after, version=before.version + 1, updated_at=now())
    tx.put(_record(written), A2ARecord.version == before.version, on_condition_failed=ConcurrentUpdate)
    return written


def update(before: A2ARequest, after: A2ARequest) -> A2ARequest:
    tx = Transaction()
    written = stage_update(tx, before, after)
    tx.commit()
    return written


# --- approval sessions --------------------------------------------------------------------

def put_session(token_hash: str, session: ApprovalSession) -> None:
    ApprovalSessionRecord(f"A2ASESSION#{token_hash}", "META", uid=session.uid, org_id=session.org_id,
                          request_key=session.request_key, valid_until=session.valid_until,
                          expires_at=session.valid_until + 3600).save(ApprovalSessionRecord.pk.does_not_exist())


def get_session(token_hash: str) -> Optional[ApprovalSession]:
    try:
        r = ApprovalSessionRecord.get(f"A2ASESSION#{token_hash}", "META", consistent_read=True)
    except ApprovalSessionRecord.DoesNotExist:
        return None
    return ApprovalSession(r.uid, r.org_id, r.request_key, r.valid_until)


# --- execute_contract daily count -------------------------------------------------------------

def stage_execute_count(tx: Transaction, uid: str, day: str, limit: int) -> None:
    record = ExecuteCountRecord(f"A2AEXEC#{uid}", day)
    tx.update(record, [ExecuteCountRecord.count.add(1), ExecuteCountRecord.expires_at.set(now() + 2 * 86400)],
              ExecuteCountRecord.count.does_not_exist() | (ExecuteCountRecord.count < limit),
              on_condition_failed=A2AExecuteContractDailyLimit)
