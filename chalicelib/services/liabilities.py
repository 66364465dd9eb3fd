"""Proof of liabilities: per org and token, a summation Merkle tree over user balances.

`recompute_all` (scheduled hourly) snapshots every balance, builds one tree per org and
token, stores its chunks and publishes its root; `proof` answers one user's inclusion
proof from the stored chunks (one query and one batch read, whatever the tree's size).

Snapshot consistency: one strongly consistent scan of the balance items. Each leaf is a
balance as committed at the moment the scan read it (with its version), so every user's
leaf is a real state of their own balance; the scan is *not* a point-in-time cut across
users. Value that moved between two accounts while the scan ran may be counted twice or
not at all. The root records the scan window, and the report states the drift (users
plus system accounts, which is zero for a cut with no activity), so an auditor sees how
far from a cut a snapshot is. docs/PROOF_OF_LIABILITIES.md says why that is acceptable
and how to get an exact cut (a DynamoDB point-in-time export) when it is not.

Salts: one platform secret, generated once, kept only as KMS ciphertext (`LIABKEY`). A
leaf's salt is HMAC(secret, org, token, root id, uid): secret per user, fresh per root,
so leaves are unlinkable across snapshots, and nothing per user needs storing.
"""
from __future__ import annotations

import decimal
import logging
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Optional

from chalicelib.domain import merkle
from chalicelib.domain.errors import InternalError, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.ledger import SYSTEM_SEPARATOR, Balance, account_kind
from chalicelib.gateways import kms
from chalicelib.store import accounts
from chalicelib.store import liabilities as store
from chalicelib.store.liabilities import StoredRoot

log = logging.getLogger(__name__)

CHUNK_SIZE = 512  # even: a node's sibling is always in its own chunk
TREE_RETENTION_SECONDS = 7 * 24 * 3600  # proofs of older roots are gone; roots stay for good
SALT_PURPOSE = "broker-liability-leaf/1"
_KEY_CONTEXT = {"purpose": "liability-salt"}
ZERO = Decimal(0)


def _now_ms() -> int:
    return int(time.time() * 1000)


def signed_text(value: Decimal) -> str:
    """An amount's canonical text, with a minus sign where it is negative (system accounts)."""
    return "-" + merkle.amount_text(-value) if value < 0 else merkle.amount_text(value)


# --- snapshot --------------------------------------------------------------------------

@dataclass
class Snapshot:
    started_at: int
    finished_at: int = 0
    # (org, token) → uid → [Balance]
    users: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    # (org, token) → system account kind → sum of its balances
    systems: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(Decimal)))
    unowned: list = field(default_factory=list)

    def groups(self) -> list[tuple[str, str]]:
        return sorted(set(self.users) | set(self.systems))


def take_snapshot(org_id: Optional[str] = None) -> Snapshot:
    """Every balance (of one org, or of all), grouped by org and token; see the module notes."""
    snapshot = Snapshot(_now_ms())
    owners = {account_id: (org, uid) for account_id, org, uid in store.scan_account_owners()}
    with decimal.localcontext(merkle.EXACT):
        for balance in store.scan_balances():
            _place(snapshot, owners, balance, org_id)
    snapshot.finished_at = _now_ms()
    return snapshot


def _place(snapshot: Snapshot, owners: dict, balance: Balance, only_org: Optional[str]) -> None:
    if SYSTEM_SEPARATOR in balance.account_id:
        org = balance.account_id.split(SYSTEM_SEPARATOR)[0]
        if only_org in (None, org):
            snapshot.systems[(org, balance.token)][account_kind(balance.account_id).name.lower()] += balance.total
        return
    org, uid = owners.get(balance.account_id) or _owner(balance.account_id)
    if not uid:
        snapshot.unowned.append(balance)
    elif only_org in (None, org):
        snapshot.users[(org, balance.token)][uid].append(balance)


def _owner(account_id: str) -> tuple[Optional[str], Optional[str]]:
    """An account created after the owner scan: look it up on its own."""
    owner = accounts.owner_of(account_id)
    return (owner.org_id, owner.uid) if owner else (None, None)


# --- the salt secret -------------------------------------------------------------------

def _salt_secret() -> bytes:
    ciphertext = store.key_ciphertext()
    if ciphertext is None:
        store.create_key(kms.encrypt(secrets.token_hex(32), _KEY_CONTEXT), _now_ms())
        ciphertext = store.key_ciphertext()  # the first writer's key, if two raced
    return bytes.fromhex(kms.decrypt(ciphertext, _KEY_CONTEXT))


def _salt(secret: bytes, org_id: str, token: str, root_id: int, uid: str) -> str:
    return merkle.derive_salt(secret, SALT_PURPOSE, org_id, token, str(root_id), uid)


# --- building and publishing -----------------------------------------------------------

def recompute_all() -> dict:
    """The scheduled job: a fresh root for every org and token that has balances."""
    roots = recompute()
    return {"roots": len(roots), "orgs": len({r.org_id for r in roots}), "leaves": sum(r.leaf_count for r in roots)}


def recompute(org_id: Optional[str] = None) -> list[StoredRoot]:
    snapshot = take_snapshot(org_id)
    if snapshot.unowned:
        log.error("liabilities: balances of accounts without an owner are left out: %s",
                  [(b.account_id, b.token, str(b.total)) for b in snapshot.unowned[:50]])
    secret = _salt_secret()
    return [_publish(org, token, snapshot, secret) for org, token in snapshot.groups()]


def _publish(org_id: str, token: str, snapshot: Snapshot, secret: bytes) -> StoredRoot:
    root_id = new_id()
    rows, excluded = [], []
    with decimal.localcontext(merkle.EXACT):
        for uid, balances in snapshot.users.get((org_id, token), {}).items():
            amount = sum((b.total for b in balances), ZERO)
            if amount < 0:  # the ledger forbids it; a summation tree must not net it off either
                excluded.append({"uid": uid, "total": str(amount)})
                continue
            rows.append((_salt(secret, org_id, token, root_id, uid), uid, amount,
                         [[b.account_id, b.version] for b in balances]))
    if excluded:
        log.error("liabilities: negative user balances left out of %s %s: %s", org_id, token, excluded[:50])
    rows.sort(key=lambda row: row[0])  # salt order: a pseudo-random shuffle nobody else can reproduce
    tree = merkle.build(merkle.Leaf(salt, uid, token, amount).node for salt, uid, amount, _ in rows)
    leaves = [[uid, merkle.amount_text(amount), node.hash.hex(), versions]
              for (_, uid, amount, versions), node in zip(rows, tree.levels[0])]
    leaf_chunks = [(rows[start][0], start, leaves[start:start + CHUNK_SIZE])
                   for start in range(0, len(leaves), CHUNK_SIZE)]
    node_chunks = [(level, start // CHUNK_SIZE, [[n.hash.hex(), merkle.amount_text(n.sum)]
                                                 for n in tree.levels[level][start:start + CHUNK_SIZE]])
                   for level in range(1, len(tree.levels) - 1)
                   for start in range(0, len(tree.levels[level]), CHUNK_SIZE)]
    store.put_tree(root_id, leaf_chunks, node_chunks, int(time.time()) + TREE_RETENTION_SECONDS)
    root = StoredRoot(
        root_id, org_id, token, tree.root.hash.hex(), tree.root.sum, tree.leaf_count, CHUNK_SIZE, _now_ms(),
        snapshot.started_at, snapshot.finished_at,
        {kind: signed_text(total) for kind, total in sorted(snapshot.systems.get((org_id, token), {}).items())},
        excluded,
    )
    store.publish_root(root)
    return root


# --- reading ---------------------------------------------------------------------------

def latest_roots(org_id: str) -> list[StoredRoot]:
    return sorted(store.latest_roots(org_id), key=lambda root: root.token)


def history(org_id: str, *, token: Optional[str] = None, before_id: Optional[int] = None,
            limit: int = 50) -> list[StoredRoot]:
    return store.history(org_id, token=token, before_id=before_id, limit=limit)


@dataclass(frozen=True)
class Report:
    """A root with what an auditor compares it to."""

    root: StoredRoot

    @property
    def system_total(self) -> Decimal:
        with decimal.localcontext(merkle.EXACT):
            return sum((Decimal(v) for v in self.root.system_totals.values()), ZERO)

    @property
    def custody_should_hold(self) -> Decimal:
        """The custody account is minus everything deposited and not withdrawn."""
        return -Decimal(self.root.system_totals.get("custody", "0"))

    @property
    def scan_drift(self) -> Decimal:
        """Users plus system accounts: zero for a snapshot no transfer overlapped."""
        with decimal.localcontext(merkle.EXACT):
            return self.root.total + self.system_total


def reports(org_id: str, roots: Optional[list[StoredRoot]] = None) -> list[Report]:
    return [Report(root) for root in (latest_roots(org_id) if roots is None else roots)]


@dataclass(frozen=True)
class Proof:
    root: StoredRoot
    uid: str
    token: str
    amount: Decimal
    salt: str
    path: list[merkle.Step]
    balances: list  # [[account_id, version], ...] as the snapshot read them


def proof(org_id: str, uid: str, token: str, root_id: Optional[int] = None) -> Proof:
    """The user's inclusion proof in the latest root of a token (or in a given root)."""
    root = store.root(org_id, token, root_id) if root_id is not None else store.latest_root(org_id, token)
    if root is None:
        raise NotFound(f"No liability root of {token} has been published" if root_id is None
                       else f"No liability root {root_id} of {token}")
    salt = _salt(_salt_secret(), org_id, token, root.root_id, uid)
    chunk = store.leaf_chunk_for(root.root_id, salt)
    if chunk is None and root.leaf_count:
        raise NotFound(f"The tree of root {root.root_id} is no longer kept")
    position = next((i for i, entry in enumerate(chunk.entries) if entry[0] == uid), None) if chunk else None
    if position is None:
        raise NotFound(f"No {token} balance of yours is counted in root {root.root_id}")
    index = chunk.offset + position
    _, amount_text, leaf_hex, versions = chunk.entries[position]
    amount = merkle.parse_amount(amount_text)
    sizes = merkle.level_sizes(root.leaf_count)
    size = root.chunk_size
    stored = store.node_chunks(root.root_id,
                               [(level, (index >> level) // size) for level in range(1, len(sizes) - 1)])

    def node_at(level: int, at: int) -> merkle.Node:
        if level == 0:
            entry = chunk.entries[at - chunk.offset]
            return merkle.Node(bytes.fromhex(entry[2]), merkle.parse_amount(entry[1]))
        entries = stored.get((level, at // size))
        if entries is None:
            raise NotFound(f"The tree of root {root.root_id} is no longer kept")
        hash_hex, sum_text = entries[at % size]
        return merkle.Node(bytes.fromhex(hash_hex), merkle.parse_amount(sum_text))

    path = merkle.proof_path(index, sizes, node_at)
    leaf = merkle.Leaf(salt, uid, token, amount).node
    published = merkle.Node(bytes.fromhex(root.root_hash), root.total)
    if leaf.hash.hex() != leaf_hex or not merkle.verify(leaf, path, published):
        log.error("liabilities: stored tree of root %s does not prove uid %s", root.root_id, uid)
        raise InternalError()
    return Proof(root, uid, token, amount, salt, path, versions)
