"""A summation Merkle tree over balances: the root commits to every leaf and to their total.

Each node is a (hash, sum) pair. A parent's sum is its children's sums added, and its
hash covers both children's hashes *and both of their sums separately*: committing only
to the added sum (Maxwell's first design) lets a prover move value between siblings
(Hu, Zhang and Guo, 2019). No sum may be negative, so a balance cannot cancel another.

Canonical encodings (docs/verify_liability_proof.py repeats them with the standard library):

* amount: a non-negative decimal in plain notation without exponent, leading `+` or
  trailing zeros: "0", "12", "0.5", "1234.00000001". Any other spelling is refused.
* field: 4-byte big-endian length, then the UTF-8 bytes.
* leaf hash: SHA-256(0x00 || field(salt) || field(uid) || field(token) || field(amount)).
* node hash: SHA-256(0x01 || left hash || field(left sum) || right hash || field(right sum)),
  hashes as 32 raw bytes.
* a level with an odd number of nodes carries its last node up unchanged; the proof step
  of that level is then absent.
* the tree of no leaves: hash SHA-256(0x02), sum "0".

Pure: no I/O, no clock. Amount arithmetic runs in a context that refuses to round.
"""
from __future__ import annotations

import decimal
import hashlib
import hmac
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Iterable, Sequence

LEAF_TAG, NODE_TAG, EMPTY_TAG = b"\x00", b"\x01", b"\x02"
LEFT, RIGHT = "left", "right"

# Sums of 38-digit balances stay exact far beyond any real total; rounding raises instead.
EXACT = decimal.Context(prec=200, traps=[decimal.Inexact, decimal.Rounded, decimal.InvalidOperation])


class MerkleError(ValueError):
    """An amount or a proof that the construction refuses."""


@dataclass(frozen=True)
class Node:
    hash: bytes
    sum: Decimal


@dataclass(frozen=True)
class Leaf:
    salt: str
    uid: str
    token: str
    amount: Decimal

    @property
    def node(self) -> Node:
        return Node(leaf_hash(self.salt, self.uid, self.token, self.amount), self.amount)


@dataclass(frozen=True)
class Step:
    """One level of an inclusion proof: the sibling, and the side it sits on."""

    side: str
    hash: bytes
    sum: Decimal


def amount_text(value: Decimal) -> str:
    """The canonical spelling of a non-negative amount."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise MerkleError(f"not a finite decimal: {value!r}")
    if value < 0:
        raise MerkleError(f"negative amount: {value}")
    if value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def parse_amount(text: str) -> Decimal:
    """An amount from its canonical spelling; any other spelling is a MerkleError."""
    try:
        value = Decimal(text)
    except (decimal.InvalidOperation, TypeError, ValueError):
        raise MerkleError(f"not an amount: {text!r}") from None
    if not value.is_finite() or value < 0 or amount_text(value) != text:
        raise MerkleError(f"not a canonical non-negative amount: {text!r}")
    return value


def _field(text: str) -> bytes:
    data = text.encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def leaf_hash(salt: str, uid: str, token: str, amount: Decimal) -> bytes:
    fields = _field(salt) + _field(uid) + _field(token) + _field(amount_text(amount))
    return hashlib.sha256(LEAF_TAG + fields).digest()


def derive_salt(secret: bytes, *context: str) -> str:
    """A leaf salt: HMAC-SHA256 of the context fields under a secret, in hex.

    Only the holder of the secret can link a leaf to its user; each context (org, token,
    root, uid) gets its own salt, so leaves of one user are unlinkable across roots.
    """
    return hmac.new(secret, b"".join(_field(part) for part in context), hashlib.sha256).hexdigest()


def parent(left: Node, right: Node) -> Node:
    digest = hashlib.sha256(
        NODE_TAG + left.hash + _field(amount_text(left.sum)) + right.hash + _field(amount_text(right.sum))
    ).digest()
    return Node(digest, EXACT.add(left.sum, right.sum))


EMPTY = Node(hashlib.sha256(EMPTY_TAG).digest(), Decimal(0))


def level_sizes(leaf_count: int) -> list[int]:
    """Node counts from the leaves up to the root (one entry for a one-leaf tree)."""
    if leaf_count < 0:
        raise MerkleError("negative leaf count")
    sizes = [leaf_count]
    while sizes[-1] > 1:
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


def next_level(nodes: Sequence[Node]) -> list[Node]:
    pairs = [parent(nodes[i], nodes[i + 1]) for i in range(0, len(nodes) - 1, 2)]
    if len(nodes) % 2:
        pairs.append(nodes[-1])
    return pairs


@dataclass(frozen=True)
class Tree:
    levels: tuple[tuple[Node, ...], ...]  # levels[0] are the leaves, levels[-1] the root

    @property
    def root(self) -> Node:
        return self.levels[-1][0] if self.levels[0] else EMPTY

    @property
    def leaf_count(self) -> int:
        return len(self.levels[0])

    def node_at(self, level: int, index: int) -> Node:
        return self.levels[level][index]

    def proof(self, index: int) -> list[Step]:
        return proof_path(index, [len(level) for level in self.levels], self.node_at)


def build(nodes: Iterable[Node]) -> Tree:
    """The tree over leaf nodes in the order given (the caller chooses and records it)."""
    levels = [tuple(nodes)]
    for node in levels[0]:
        amount_text(node.sum)  # refuses a negative or non-finite leaf
    while len(levels[-1]) > 1:
        levels.append(tuple(next_level(levels[-1])))
    return Tree(tuple(levels))


def proof_path(index: int, sizes: Sequence[int], node_at: Callable[[int, int], Node]) -> list[Step]:
    """The siblings from leaf `index` up to the root.

    `node_at(level, i)` may read a stored tree, so a proof needs one node per level, not
    the whole tree.
    """
    if not 0 <= index < (sizes[0] if sizes else 0):
        raise MerkleError(f"leaf {index} is not in a tree of {sizes[0] if sizes else 0} leaves")
    steps: list[Step] = []
    position = index
    for level, size in enumerate(sizes[:-1]):
        sibling = position ^ 1
        if sibling < size:
            node = node_at(level, sibling)
            steps.append(Step(LEFT if sibling < position else RIGHT, node.hash, node.sum))
        position //= 2
    return steps


def fold(leaf: Node, path: Iterable[Step]) -> Node:
    """The root that a leaf and its proof lead to; MerkleError on a malformed step."""
    current = leaf
    amount_text(current.sum)
    for step in path:
        if step.side not in (LEFT, RIGHT) or len(step.hash) != 32:
            raise MerkleError(f"malformed proof step: {step}")
        amount_text(step.sum)
        sibling = Node(step.hash, step.sum)
        current = parent(sibling, current) if step.side == LEFT else parent(current, sibling)
    return current


def verify(leaf: Node, path: Iterable[Step], root: Node) -> bool:
    """True when the leaf and its proof lead to exactly this root hash and total."""
    try:
        reached = fold(leaf, path)
    except MerkleError:
        return False
    return hmac.compare_digest(reached.hash, root.hash) and reached.sum == root.sum
