"""Proof-of-liabilities storage: published roots, the trees behind them, the salt key.

Keys (docs/ARCHITECTURE.md):

* root: `LIABROOT#<org>#<token>` / `<root_id:020d>`, gsi1 `LIABROOTS#<org>` / `<root_id:020d>`
  (history, kept for good);
* latest root of a token: `LIABLATEST#<org>` / `<token>` (a copy, moved forward only);
* leaf chunk: `LIABLEAF#<root_id>` / `<salt of its first leaf>`: leaves sorted by salt, so
  the chunk holding a user's leaf is one query (`sk <= salt`, newest first, limit 1);
* node chunk: `LIABNODE#<root_id>` / `<level:02d>#<chunk:010d>`: the inner levels;
* salt key: `LIABKEY` / `META`: the KMS ciphertext of the secret leaf salts derive from.

Chunks hold at most `chunk_size` entries (even, so a node and its sibling share a chunk)
and stay far below DynamoDB's 400 KB item limit; they expire with TTL, roots do not.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Iterator, Optional

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PutError

from chalicelib.domain.ledger import Balance
from chalicelib.store.accounts import AccountRecord
from chalicelib.store.attributes import DecimalAttribute, IntegerAttribute
from chalicelib.store.ledger import BalanceRecord
from chalicelib.store.table import Entity, Gsi1, padded

MAX_CHUNK_BYTES = 350_000  # DynamoDB refuses items above 400 KB (names and keys included)


class LiabilityRootRecord(Entity):
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    root_id = IntegerAttribute()
    org_id = UnicodeAttribute()
    token = UnicodeAttribute()
    root_hash = UnicodeAttribute()
    total = DecimalAttribute()
    leaf_count = IntegerAttribute()
    chunk_size = IntegerAttribute()
    created_at = IntegerAttribute()
    scan_started_at = IntegerAttribute()
    scan_finished_at = IntegerAttribute()
    system_totals = UnicodeAttribute()  # JSON {kind: amount}
    excluded = UnicodeAttribute()  # JSON [{account_id, total}]: negative user balances left out


class LiabilityLeafChunkRecord(Entity):
    offset = IntegerAttribute()
    entries = UnicodeAttribute()  # JSON [[uid, amount, leaf hash hex, [[account_id, version], ...]], ...]


class LiabilityNodeChunkRecord(Entity):
    entries = UnicodeAttribute()  # JSON [[hash hex, sum], ...]


class LiabilityKeyRecord(Entity):
    ciphertext = UnicodeAttribute()
    created_at = IntegerAttribute()


@dataclass(frozen=True)
class StoredRoot:
    root_id: int
    org_id: str
    token: str
    root_hash: str
    total: Decimal
    leaf_count: int
    chunk_size: int
    created_at: int
    scan_started_at: int
    scan_finished_at: int
    system_totals: dict = field(default_factory=dict)
    excluded: list = field(default_factory=list)


@dataclass(frozen=True)
class LeafChunk:
    offset: int
    entries: list  # [uid, amount, leaf hash hex, [[account_id, version], ...]]


def _root_key(org_id: str, token: str) -> str:
    return f"LIABROOT#{org_id}#{token}"


def _latest_key(org_id: str) -> str:
    return f"LIABLATEST#{org_id}"


def _leaf_key(root_id: int) -> str:
    return f"LIABLEAF#{root_id}"


def _node_key(root_id: int) -> str:
    return f"LIABNODE#{root_id}"


def _node_sort_key(level: int, chunk: int) -> str:
    return f"{level:02d}#{chunk:010d}"


def _packed(entries: list) -> str:
    text = json.dumps(entries, separators=(",", ":"))
    if len(text.encode("utf-8")) > MAX_CHUNK_BYTES:
        raise ValueError(f"a tree chunk of {len(text)} bytes does not fit in one item: lower the chunk size")
    return text


def _record(root: StoredRoot, pk: str, sk: str, *, indexed: bool) -> LiabilityRootRecord:
    return LiabilityRootRecord(
        pk, sk, gsi1pk=f"LIABROOTS#{root.org_id}" if indexed else None,
        gsi1sk=padded(root.root_id) if indexed else None, root_id=root.root_id, org_id=root.org_id,
        token=root.token, root_hash=root.root_hash, total=root.total, leaf_count=root.leaf_count,
        chunk_size=root.chunk_size, created_at=root.created_at, scan_started_at=root.scan_started_at,
        scan_finished_at=root.scan_finished_at, system_totals=json.dumps(root.system_totals, sort_keys=True),
        excluded=json.dumps(root.excluded),
    )


def _to_root(record: LiabilityRootRecord) -> StoredRoot:
    return StoredRoot(record.root_id, record.org_id, record.token, record.root_hash, record.total,
                      record.leaf_count, record.chunk_size, record.created_at, record.scan_started_at,
                      record.scan_finished_at, json.loads(record.system_totals), json.loads(record.excluded))


# --- snapshot reads ------------------------------------------------------------------

def scan_account_owners() -> Iterator[tuple[str, str, str]]:
    """(account_id, org_id, uid) of every user account (system accounts have no record)."""
    for record in AccountRecord.scan(AccountRecord.pk.startswith("ACCOUNT#"), consistent_read=True):
        yield record.account_id, record.org_id, record.uid


def scan_balances() -> Iterator[Balance]:
    """Every balance as last committed when the scan reached it (strongly consistent reads)."""
    for record in BalanceRecord.scan(BalanceRecord.pk.startswith("BAL#"), consistent_read=True):
        yield Balance(record.account_id, record.token, record.available, record.locked, record.position,
                      record.version)


# --- the salt key --------------------------------------------------------------------

def key_ciphertext() -> Optional[str]:
    try:
        return LiabilityKeyRecord.get("LIABKEY", "META", consistent_read=True).ciphertext
    except LiabilityKeyRecord.DoesNotExist:
        return None


def create_key(ciphertext: str, now_ms: int) -> None:
    """Stores the key unless one exists (then the existing one stays: callers re-read)."""
    try:
        LiabilityKeyRecord("LIABKEY", "META", ciphertext=ciphertext, created_at=now_ms).save(
            condition=LiabilityKeyRecord.pk.does_not_exist())
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


# --- trees -----------------------------------------------------------------------------

def put_tree(root_id: int, leaf_chunks: Iterable[tuple[str, int, list]],
             node_chunks: Iterable[tuple[int, int, list]], expires_at: int) -> None:
    """Leaf chunks as (first salt, offset, entries); node chunks as (level, chunk, entries)."""
    with LiabilityLeafChunkRecord.batch_write() as batch:
        for first_salt, offset, entries in leaf_chunks:
            batch.save(LiabilityLeafChunkRecord(_leaf_key(root_id), first_salt, offset=offset,
                                                entries=_packed(entries), expires_at=expires_at))
    with LiabilityNodeChunkRecord.batch_write() as batch:
        for level, chunk, entries in node_chunks:
            batch.save(LiabilityNodeChunkRecord(_node_key(root_id), _node_sort_key(level, chunk),
                                                entries=_packed(entries), expires_at=expires_at))


def leaf_chunk_for(root_id: int, salt: str) -> Optional[LeafChunk]:
    """The chunk whose salt range holds `salt` (the last chunk starting at or before it)."""
    for record in LiabilityLeafChunkRecord.query(_leaf_key(root_id), LiabilityLeafChunkRecord.sk <= salt,
                                                 scan_index_forward=False, limit=1, consistent_read=True):
        return LeafChunk(record.offset, json.loads(record.entries))
    return None


def node_chunks(root_id: int, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], list]:
    """Node chunks by (level, chunk); missing ones (expired trees) are absent."""
    keys = [(_node_key(root_id), _node_sort_key(level, chunk)) for level, chunk in dict.fromkeys(wanted)]
    found = {}
    for record in LiabilityNodeChunkRecord.batch_get(keys, consistent_read=True):
        level, chunk = record.sk.split("#")
        found[(int(level), int(chunk))] = json.loads(record.entries)
    return found


# --- roots -----------------------------------------------------------------------------

def publish_root(root: StoredRoot) -> bool:
    """Stores the root in the history, then moves the latest pointer forward to it.

    False when a newer root of the token was published meanwhile (it stays the latest).
    """
    _record(root, _root_key(root.org_id, root.token), padded(root.root_id), indexed=True).save(
        condition=LiabilityRootRecord.pk.does_not_exist())
    try:
        _record(root, _latest_key(root.org_id), root.token, indexed=False).save(
            condition=LiabilityRootRecord.pk.does_not_exist() | (LiabilityRootRecord.root_id < root.root_id))
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
    return True


def latest_roots(org_id: str) -> list[StoredRoot]:
    return [_to_root(r) for r in LiabilityRootRecord.query(_latest_key(org_id), consistent_read=True)]


def latest_root(org_id: str, token: str) -> Optional[StoredRoot]:
    try:
        return _to_root(LiabilityRootRecord.get(_latest_key(org_id), token, consistent_read=True))
    except LiabilityRootRecord.DoesNotExist:
        return None


def root(org_id: str, token: str, root_id: int) -> Optional[StoredRoot]:
    try:
        return _to_root(LiabilityRootRecord.get(_root_key(org_id, token), padded(root_id), consistent_read=True))
    except LiabilityRootRecord.DoesNotExist:
        return None


def history(org_id: str, *, token: Optional[str] = None, before_id: Optional[int] = None,
            limit: int = 50) -> list[StoredRoot]:
    """Roots of an org (or of one token), newest first, paged by root id (exclusive)."""
    if token:
        condition = LiabilityRootRecord.sk < padded(before_id) if before_id else None
        records = LiabilityRootRecord.query(_root_key(org_id, token), condition, scan_index_forward=False,
                                            limit=limit)
    else:
        condition = LiabilityRootRecord.gsi1sk < padded(before_id) if before_id else None
        records = LiabilityRootRecord.gsi1.query(f"LIABROOTS#{org_id}", condition, scan_index_forward=False,
                                                 limit=limit)
    return [_to_root(record) for record in records]
