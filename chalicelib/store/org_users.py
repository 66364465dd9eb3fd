"""Items only the Org API needs, and the staged writes it commits with its idempotency records.

Own items:

| entity | pk | sk |
|---|---|---|
| freeze state of a user (what the org froze) | `ORGFREEZE#<org_id>` | `<uid:020d>` |
| favorite symbol of a user (shared with the User API) | `FAV#<uid>` | `<symbol>` |
| delivery cursor of an org socket | `ORGWS#<connection_id>` | `CURSOR` |

Staged writes to other stores' records (users, KYC, org listings): the Org API commits
each uplink in one transaction with its idempotency record and its events, and those
stores offer only immediate writes. The functions in the second half build the same
items on a caller's transaction; they move to their stores once those have `stage_*`
functions (see docs/ORG_API.md, "changes asked of other modules").
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Optional

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from chalicelib.domain.errors import ConcurrentUpdate, NotFound
from chalicelib.store import catalog as catalog_store
from chalicelib.store import content
from chalicelib.store import kyc as kyc_store
from chalicelib.store import users as user_store
from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity, padded
from chalicelib.store.transaction import Transaction

CURSOR_LIFETIME_SECONDS = 2 * 3600 + 600  # as long as an API Gateway socket lives


def now_ms() -> int:
    return int(time.time() * 1000)


def _dump(value) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


# --- freeze state ------------------------------------------------------------------------------

class FreezeRecord(Entity):
    uid = UnicodeAttribute()
    org_id = UnicodeAttribute()
    login = BooleanAttribute(default=False)
    withdraw = BooleanAttribute(default=False)
    trade_all = BooleanAttribute(default=False)
    trade_symbols = UnicodeAttribute(default="[]")
    assets = UnicodeAttribute(default="{}")  # token -> frozen amount (decimal text)
    version = IntegerAttribute()
    updated_at = IntegerAttribute()


@dataclass(frozen=True)
class FreezeState:
    org_id: str
    uid: str
    login: bool = False
    withdraw: bool = False
    trade_all: bool = False
    trade_symbols: tuple[str, ...] = ()
    assets: dict[str, Decimal] = field(default_factory=dict)
    version: int = 0
    updated_at: int = 0

    @property
    def active(self) -> bool:
        return self.login or self.withdraw or self.trade_all or bool(self.trade_symbols) or bool(self.assets)


def _freeze_key(org_id: str) -> str:
    return f"ORGFREEZE#{org_id}"


def _to_state(record: FreezeRecord) -> FreezeState:
    return FreezeState(record.org_id, record.uid, record.login, record.withdraw, record.trade_all,
                       tuple(json.loads(record.trade_symbols or "[]")),
                       {token: Decimal(amount) for token, amount in json.loads(record.assets or "{}").items()},
                       record.version, record.updated_at)


def get_freeze(org_id: str, uid: str) -> FreezeState:
    try:
        return _to_state(FreezeRecord.get(_freeze_key(org_id), padded(int(uid)), consistent_read=True))
    except FreezeRecord.DoesNotExist:
        return FreezeState(org_id, uid)


def stage_freeze(tx: Transaction, before: FreezeState, after: FreezeState) -> None:
    """Writes `after` if nobody changed the state since `before` was read."""
    record = FreezeRecord(
        _freeze_key(after.org_id), padded(int(after.uid)), uid=after.uid, org_id=after.org_id, login=after.login,
        withdraw=after.withdraw, trade_all=after.trade_all, trade_symbols=_dump(sorted(after.trade_symbols)),
        assets=_dump({token: format(amount, "f") for token, amount in after.assets.items()}),
        version=before.version + 1, updated_at=now_ms())
    condition = FreezeRecord.pk.does_not_exist() if before.version == 0 else FreezeRecord.version == before.version
    tx.put(record, condition, on_condition_failed=ConcurrentUpdate)


def frozen_users(org_id: str, *, before_uid: Optional[str] = None, limit: int = 100) -> list[FreezeState]:
    """Users of the org with anything frozen, newest uid first."""
    condition = FreezeRecord.sk < padded(int(before_uid)) if before_uid else None
    found: list[FreezeState] = []
    for record in FreezeRecord.query(_freeze_key(org_id), condition, scan_index_forward=False,
                                     consistent_read=True, page_size=max(limit, 50)):
        state = _to_state(record)
        if state.active:
            found.append(state)
            if len(found) >= limit:
                break
    return found


# --- favorites -----------------------------------------------------------------------------------

# The User API keeps the same favorites (store.content): one list per user, whoever edits it.
favorites = content.favorites


def stage_favorite(tx: Transaction, uid: str, symbol: str, present: bool) -> None:
    record = content.FavoriteRecord(content.favorite_key(uid), symbol, symbol=symbol, created_at=now_ms())
    if present:
        tx.put(record)
    else:
        tx.delete(record)


# --- delivery cursors of org sockets ---------------------------------------------------------------

class CursorRecord(Entity):
    stream = UnicodeAttribute()
    delivered = IntegerAttribute()
    lease_owner = UnicodeAttribute(null=True)
    lease_until = IntegerAttribute(default=0)
    dirty = BooleanAttribute(default=False)


def _cursor_key(connection_id: str) -> str:
    return f"ORGWS#{connection_id}"


def _failed_condition(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def start_cursor(connection_id: str, stream: str, delivered: int) -> None:
    """A socket's cursor: everything after `delivered` is still to be sent to it."""
    CursorRecord(_cursor_key(connection_id), "CURSOR", stream=stream, delivered=delivered, lease_until=0,
                 dirty=False, expires_at=int(time.time()) + CURSOR_LIFETIME_SECONDS).save()


def cursor_position(connection_id: str) -> Optional[int]:
    try:
        return CursorRecord.get(_cursor_key(connection_id), "CURSOR", consistent_read=True).delivered
    except CursorRecord.DoesNotExist:
        return None


def acquire_cursor(connection_id: str, owner: str, lease_ms: int) -> Optional[int]:
    """Takes the socket's send lease; the delivered position, or None if someone holds it
    (or the socket has no cursor)."""
    now = now_ms()
    record = CursorRecord(_cursor_key(connection_id), "CURSOR")
    try:
        record.update(actions=[CursorRecord.lease_owner.set(owner), CursorRecord.lease_until.set(now + lease_ms),
                               CursorRecord.dirty.set(False)],
                      condition=CursorRecord.pk.exists() & (CursorRecord.lease_until < now))
    except Exception as error:  # pynamodb UpdateError
        if _failed_condition(error):
            return None
        raise
    return record.delivered


def mark_dirty(connection_id: str) -> bool:
    """Tells the lease holder more arrived; True if a live lease is still held (it will send)."""
    record = CursorRecord(_cursor_key(connection_id), "CURSOR")
    try:
        record.update(actions=[CursorRecord.dirty.set(True)], condition=CursorRecord.pk.exists())
    except Exception as error:
        if _failed_condition(error):
            return True  # the socket is gone: nothing to send
        raise
    return record.lease_until >= now_ms()


def advance_cursor(connection_id: str, owner: str, delivered: int) -> None:
    """Records what the lease holder has sent so far (keeps the lease)."""
    try:
        CursorRecord(_cursor_key(connection_id), "CURSOR").update(
            actions=[CursorRecord.delivered.set(delivered)], condition=CursorRecord.lease_owner == owner)
    except Exception as error:
        if not _failed_condition(error):
            raise


def release_cursor(connection_id: str, owner: str, delivered: int) -> bool:
    """Gives the lease back; False if more arrived meanwhile (the flag is cleared and the
    holder keeps the lease to send it)."""
    record = CursorRecord(_cursor_key(connection_id), "CURSOR")
    try:
        record.update(actions=[CursorRecord.delivered.set(delivered), CursorRecord.lease_until.set(0),
                               CursorRecord.lease_owner.remove()],
                      condition=(CursorRecord.lease_owner == owner) & (CursorRecord.dirty == False))  # noqa: E712
        return True
    except Exception as error:
        if not _failed_condition(error):
            raise
    try:
        record.update(actions=[CursorRecord.delivered.set(delivered), CursorRecord.dirty.set(False)],
                      condition=CursorRecord.lease_owner == owner)
    except Exception as error:
        if _failed_condition(error):
            return True  # the lease was lost (expired and taken): the new holder sends
        raise
    return False


def drop_cursor(connection_id: str) -> None:
    CursorRecord(_cursor_key(connection_id), "CURSOR").delete()


# --- staged writes to other stores' records ---------------------------------------------------------

def stage_user_update(tx: Transaction, org_id: str, uid: str, changes: dict) -> None:
    """Sets (None: removes) attributes of a user record of this org (attribute names of
    `store.users.UserRecord`)."""
    actions = [user_store.UserRecord.updated_at.set(now_ms())]
    for name, value in changes.items():
        attribute = getattr(user_store.UserRecord, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    tx.update(user_store.UserRecord(f"USER#{uid}", "META"), actions,
              user_store.UserRecord.pk.exists() & (user_store.UserRecord.org_id == org_id),
              on_condition_failed=NotFound("User not found"))


def stage_lookup_move(tx: Transaction, uid: str, old_key: Optional[str], new_key: Optional[str],
                      taken_error) -> None:
    """Moves a unique look-up item (email, mobile) of a user: the new one must be free."""
    if old_key == new_key:
        return
    if old_key:
        tx.delete(user_store.UserLookupRecord(old_key, "META"), user_store.UserLookupRecord.uid == uid,
                  on_condition_failed=ConcurrentUpdate)
    if new_key:
        tx.put(user_store.UserLookupRecord(new_key, "META", uid=uid), user_store.UserLookupRecord.pk.does_not_exist(),
               on_condition_failed=taken_error)


def stage_kyc(tx: Transaction, application: kyc_store.Application, expected_version: int) -> None:
    """The same item `store.kyc.save` writes, on a transaction."""
    pending = application.status == kyc_store.PENDING
    record = kyc_store.KycRecord(
        f"KYC#{application.uid}", "META",
        gsi1pk=f"KYCPENDING#{application.org_id}" if pending else None,
        gsi1sk=f"{padded(application.submitted_at)}#{application.uid}" if pending else None,
        uid=application.uid, org_id=application.org_id, level=application.level, status=application.status,
        basic=_dump(application.basic), card_no_ciphertext=application.card_no_ciphertext,
        documents=_dump(application.documents), reason=application.reason, reviewed_by=application.reviewed_by,
        submitted_at=application.submitted_at, reviewed_at=application.reviewed_at, version=application.version)
    condition = kyc_store.KycRecord.pk.does_not_exist() if expected_version == 0 \
        else kyc_store.KycRecord.version == expected_version
    tx.put(record, condition, on_condition_failed=ConcurrentUpdate)


def org_record(org_id: str) -> catalog_store.OrgRecord:
    record = catalog_store.org(org_id)
    if record is None:
        raise NotFound(f"Org '{org_id}' does not exist")
    return record


def stage_org_settings(tx: Transaction, record: catalog_store.OrgRecord, settings: dict) -> None:
    """Replaces the org's settings if nobody changed the org since `record` was read."""
    tx.update(catalog_store.OrgRecord(record.pk, record.sk),
              [catalog_store.OrgRecord.settings.set(json.dumps(settings, sort_keys=True)),
               catalog_store.OrgRecord.updated_at.set(now_ms())],
              catalog_store.OrgRecord.updated_at == record.updated_at, on_condition_failed=ConcurrentUpdate)


def org_token(org_id: str, token: str) -> Optional[catalog_store.OrgTokenRecord]:
    try:
        return catalog_store.OrgTokenRecord.get(catalog_store.org_key(org_id), f"TOKEN#{token}", consistent_read=True)
    except catalog_store.OrgTokenRecord.DoesNotExist:
        return None


def stage_org_token(tx: Transaction, record: catalog_store.OrgTokenRecord, changes: dict) -> None:
    actions = [catalog_store.OrgTokenRecord.updated_at.set(now_ms())]
    actions += [getattr(catalog_store.OrgTokenRecord, name).set(value) for name, value in changes.items()]
    tx.update(catalog_store.OrgTokenRecord(record.pk, record.sk), actions,
              catalog_store.OrgTokenRecord.updated_at == record.updated_at, on_condition_failed=ConcurrentUpdate)
