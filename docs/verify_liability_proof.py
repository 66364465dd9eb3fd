#!/usr/bin/env python3
"""Checks a proof of liabilities against a published root. Standard library only.

    python3 verify_liability_proof.py PROOF.json ROOT.json [--balance AMOUNT]

PROOF.json: the answer of `GET /api/asset/liability_proof?token=BTC` (your own proof).
ROOT.json:  the root as published, fetched separately: the answer of
            `GET /api/asset/liability_root` (all tokens), or one root object from it.
--balance:  optionally, the balance you expect the snapshot to count for you.

Prints "OK ..." and exits 0 when your leaf, hashed with your salt, leads through the
proof's siblings to exactly the published root hash and total, and no sum on the way is
negative. Prints "FAILED: reason" and exits 1 otherwise. The construction and its
encodings are described in docs/PROOF_OF_LIABILITIES.md.
"""
import decimal
import hashlib
import hmac
import json
import sys
from decimal import Decimal

FORMAT = "broker-liability-proof/1"
EXACT = decimal.Context(prec=200, traps=[decimal.Inexact, decimal.Rounded, decimal.InvalidOperation])


class Failed(Exception):
    pass


def canonical(value):
    if value == 0:
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def amount(text, what):
    """A non-negative amount in its one canonical spelling ("0", "12", "0.5")."""
    try:
        value = Decimal(text)
    except (decimal.InvalidOperation, TypeError, ValueError):
        raise Failed(f"{what} is not an amount: {text!r}")
    if not value.is_finite() or value < 0 or canonical(value) != text:
        raise Failed(f"{what} is not a canonical non-negative amount: {text!r}")
    return value


def expected(text):
    """The balance the user expects: any plain decimal spelling ("10.0" is 10)."""
    try:
        value = Decimal(text)
    except (decimal.InvalidOperation, TypeError, ValueError):
        raise Failed(f"--balance is not an amount: {text!r}")
    if not value.is_finite():
        raise Failed(f"--balance is not an amount: {text!r}")
    return value


def field(text):
    data = str(text).encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def digest(text, what):
    try:
        raw = bytes.fromhex(text)
    except (TypeError, ValueError):
        raise Failed(f"{what} is not hex")
    if len(raw) != 32:
        raise Failed(f"{what} is not a SHA-256 hash")
    return raw


def parent(left, right):
    (left_hash, left_sum), (right_hash, right_sum) = left, right
    joined = b"\x01" + left_hash + field(canonical(left_sum)) + right_hash + field(canonical(right_sum))
    return hashlib.sha256(joined).digest(), EXACT.add(left_sum, right_sum)


def published_root(published, proof):
    """The published root this proof answers to: same root id (or, without one, same token)."""
    if isinstance(published, dict) and isinstance(published.get("roots"), list):
        published = published["roots"]
    candidates = published if isinstance(published, list) else [published]
    candidates = [c for c in candidates if isinstance(c, dict) and c.get("token") == proof.get("token")]
    if not candidates:
        raise Failed(f"no published root for token {proof.get('token')!r}")
    for candidate in candidates:
        if str(candidate.get("rootId")) == str(proof.get("rootId")):
            return candidate
    raise Failed(f"the proof is for root {proof.get('rootId')}, the published {proof.get('token')} root is "
                 f"{candidates[0].get('rootId')}")


def verify(proof, published, expected_balance=None):
    if proof.get("format") != FORMAT:
        raise Failed(f"unknown proof format {proof.get('format')!r}")
    leaf = proof["leaf"]
    if leaf.get("token") != proof.get("token"):
        raise Failed("the leaf is for another token")
    balance = amount(leaf["balance"], "leaf balance")
    if expected_balance is not None and balance != expected(expected_balance):
        raise Failed(f"the snapshot counts {leaf['balance']}, not {expected_balance}")
    leaf_fields = field(leaf["salt"]) + field(leaf["uid"]) + field(leaf["token"]) + field(leaf["balance"])
    node = (hashlib.sha256(b"\x00" + leaf_fields).digest(), balance)
    for number, step in enumerate(proof["path"]):
        sibling = (digest(step["hash"], f"step {number} hash"), amount(step["sum"], f"step {number} sum"))
        if step.get("side") == "left":
            node = parent(sibling, node)
        elif step.get("side") == "right":
            node = parent(node, sibling)
        else:
            raise Failed(f"step {number} has no side")
    root = published_root(published, proof)
    root_hash, root_total = digest(root["rootHash"], "published root hash"), amount(root["total"], "published total")
    if not hmac.compare_digest(node[0], root_hash):
        raise Failed(f"the proof leads to root hash {node[0].hex()}, the published one is {root['rootHash']}")
    if node[1] != root_total:
        raise Failed(f"the proof leads to total {canonical(node[1])}, the published total is {root['total']}")
    return (f"OK: balance {leaf['balance']} {leaf['token']} of user {leaf['uid']} is included in root "
            f"{root['rootId']} ({root['rootHash']}, total {root['total']})")


def load(path):
    with (sys.stdin if path == "-" else open(path, encoding="utf-8")) as handle:
        return json.load(handle)


def main(argv):
    args = list(argv)
    expected = None
    if "--balance" in args:
        at = args.index("--balance")
        if at + 1 >= len(args):
            print("FAILED: --balance needs a value")
            return 1
        expected = args[at + 1]
        del args[at:at + 2]
    if len(args) != 2:
        print("FAILED: usage: verify_liability_proof.py PROOF.json ROOT.json [--balance AMOUNT]")
        return 1
    try:
        print(verify(load(args[0]), load(args[1]), expected))
        return 0
    except Failed as failure:
        print(f"FAILED: {failure}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as failure:
        print(f"FAILED: unreadable proof or root ({type(failure).__name__}: {failure})")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
