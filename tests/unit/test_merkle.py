"""The summation Merkle tree: proofs of every leaf verify, and any change breaks them."""
from __future__ import annotations

import decimal
import hashlib
from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given, settings, strategies as st

from chalicelib.domain import merkle
from chalicelib.domain.merkle import LEFT, RIGHT, Leaf, MerkleError, Node, Step

amounts = st.decimals(min_value=0, max_value=D("1e20"), places=8, allow_nan=False, allow_infinity=False)
uids = st.text(alphabet="0123456789", min_size=1, max_size=19)


@st.composite
def leaves(draw, min_size=1, max_size=40):
    count = draw(st.integers(min_size, max_size))
    balances = draw(st.lists(amounts, min_size=count, max_size=count))
    return [Leaf(f"salt-{i}", str(1000 + i), "BTC", balance) for i, balance in enumerate(balances)]


def tree_of(items):
    return merkle.build(leaf.node for leaf in items)


@settings(max_examples=60, deadline=None)
@given(leaves())
def test_every_leafs_proof_verifies_against_the_root_and_the_root_sum_is_the_total(items):
    tree = tree_of(items)
    with decimal.localcontext(prec=100):
        assert tree.root.sum == sum((leaf.amount for leaf in items), D(0))
    for index, leaf in enumerate(items):
        assert merkle.verify(leaf.node, tree.proof(index), tree.root)


@settings(max_examples=60, deadline=None)
@given(leaves(), st.data())
def test_changing_any_balance_breaks_that_leafs_proof(items, data):
    tree = tree_of(items)
    index = data.draw(st.integers(0, len(items) - 1))
    delta = data.draw(st.decimals(min_value=D("0.00000001"), max_value=D(5), places=8))
    changed = replace(items[index], amount=merkle.EXACT.add(items[index].amount, delta))
    assert not merkle.verify(changed.node, tree.proof(index), tree.root)


@settings(max_examples=60, deadline=None)
@given(leaves(min_size=2), st.data())
def test_changing_any_siblings_hash_or_sum_breaks_the_proof(items, data):
    tree = tree_of(items)
    index = data.draw(st.integers(0, len(items) - 1))
    path = tree.proof(index)
    at = data.draw(st.integers(0, len(path) - 1))
    step = path[at]
    flipped = bytes([step.hash[0] ^ 1]) + step.hash[1:]
    for tampered in (replace(step, hash=flipped), replace(step, sum=merkle.EXACT.add(step.sum, D("0.00000001"))),
                     replace(step, side=LEFT if step.side == RIGHT else RIGHT)):
        broken = path[:at] + [tampered] + path[at + 1:]
        assert not merkle.verify(items[index].node, broken, tree.root)


@settings(max_examples=40, deadline=None)
@given(leaves(min_size=2), st.data())
def test_moving_value_between_siblings_changes_the_root_though_the_total_stays(items, data):
    index = data.draw(st.integers(0, len(items) - 2))
    moved = min(items[index].amount, D(1))
    shifted = list(items)
    shifted[index] = replace(items[index], amount=merkle.EXACT.subtract(items[index].amount, moved))
    shifted[index + 1] = replace(items[index + 1], amount=merkle.EXACT.add(items[index + 1].amount, moved))
    if moved:
        assert tree_of(shifted).root.hash != tree_of(items).root.hash
    assert tree_of(shifted).root.sum == tree_of(items).root.sum


@pytest.mark.parametrize("count", [1, 2, 3, 5, 7, 8, 9, 33])
def test_odd_and_even_leaf_counts_give_one_proof_step_per_level_with_a_sibling(count):
    items = [Leaf("s", str(i), "ETH", D(i)) for i in range(count)]
    tree = tree_of(items)
    assert merkle.level_sizes(count)[-1] == 1 and len(tree.levels) == len(merkle.level_sizes(count))
    for index, leaf in enumerate(items):
        path = tree.proof(index)
        assert len(path) <= len(tree.levels) - 1
        assert merkle.verify(leaf.node, path, tree.root)
    if count % 2 and count > 1:
        # the last leaf of an odd level rises without a sibling at that level
        assert len(tree.proof(count - 1)) < len(tree.levels) - 1


def test_a_one_leaf_tree_has_the_leaf_as_its_root_and_an_empty_proof():
    leaf = Leaf("salt", "42", "BTC", D("1.5"))
    tree = tree_of([leaf])
    assert tree.root == leaf.node and tree.proof(0) == []
    assert merkle.verify(leaf.node, [], tree.root)
    assert not merkle.verify(replace(leaf, amount=D("1.4")).node, [], tree.root)


def test_the_empty_tree_has_a_fixed_root_and_no_proofs():
    tree = merkle.build([])
    assert tree.root == Node(hashlib.sha256(b"\x02").digest(), D(0))
    with pytest.raises(MerkleError):
        tree.proof(0)


def test_a_negative_balance_cannot_enter_the_tree_nor_hide_in_a_proof():
    with pytest.raises(MerkleError):
        Leaf("s", "1", "BTC", D("-1")).node
    with pytest.raises(MerkleError):
        merkle.build([Node(b"\x00" * 32, D("-1"))])
    items = [Leaf("s", str(i), "BTC", D(5)) for i in range(2)]
    tree = tree_of(items)
    # a negative sibling would let a prover shrink the total: the verifier refuses to fold it
    negative = [Step(RIGHT, tree.proof(0)[0].hash, D("-5"))]
    with pytest.raises(MerkleError):
        merkle.fold(items[0].node, negative)
    assert not merkle.verify(items[0].node, negative, Node(tree.root.hash, D(0)))


def test_the_leaf_hash_is_the_documented_encoding():
    expected = hashlib.sha256(
        b"\x00" + b"\x00\x00\x00\x04salt" + b"\x00\x00\x00\x0242" + b"\x00\x00\x00\x03BTC" + b"\x00\x00\x00\x031.5"
    ).digest()
    assert merkle.leaf_hash("salt", "42", "BTC", D("1.50")) == expected


@pytest.mark.parametrize("value, text", [(D("0"), "0"), (D("0E-8"), "0"), (D("-0"), "0"), (D("100"), "100"),
                                         (D("1E+2"), "100"), (D("1.2300"), "1.23"), (D("0.00000001"), "0.00000001")])
def test_amounts_have_one_canonical_spelling(value, text):
    assert merkle.amount_text(value) == text
    assert merkle.parse_amount(text) == value


@pytest.mark.parametrize("text", ["1.50", "-1", "+1", "1e3", " 1", "NaN", "Infinity", "", "0.0"])
def test_other_spellings_of_amounts_are_refused(text):
    with pytest.raises(MerkleError):
        merkle.parse_amount(text)


def test_derived_salts_differ_per_context_and_secret():
    salts = {merkle.derive_salt(b"k", "7002", "BTC", "1", "42"), merkle.derive_salt(b"k", "7002", "BTC", "2", "42"),
             merkle.derive_salt(b"k", "7002", "ETH", "1", "42"), merkle.derive_salt(b"j", "7002", "BTC", "1", "42"),
             merkle.derive_salt(b"k", "7002", "BTC1", "", "42")}
    assert len(salts) == 5 and all(len(salt) == 64 for salt in salts)


def _docs_script():
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "verify_liability_proof.py")
    spec = importlib.util.spec_from_file_location("verify_liability_proof", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _docs_script()


@settings(max_examples=40, deadline=None)
@given(leaves(), st.data())
def test_the_standalone_docs_script_accepts_exactly_what_the_domain_accepts(items, data):
    tree = tree_of(items)
    index = data.draw(st.integers(0, len(items) - 1))
    leaf = items[index]
    proof = {"format": SCRIPT.FORMAT, "rootId": "1", "token": "BTC",
             "leaf": {"uid": leaf.uid, "token": "BTC", "balance": merkle.amount_text(leaf.amount), "salt": leaf.salt},
             "path": [{"side": s.side, "hash": s.hash.hex(), "sum": merkle.amount_text(s.sum)}
                      for s in tree.proof(index)]}
    root = {"rootId": "1", "token": "BTC", "rootHash": tree.root.hash.hex(), "total": merkle.amount_text(tree.root.sum)}
    assert SCRIPT.verify(proof, [root]).startswith("OK")
    tampered = dict(proof, leaf=dict(proof["leaf"], balance=merkle.amount_text(merkle.EXACT.add(leaf.amount, D(1)))))
    with pytest.raises(SCRIPT.Failed):
        SCRIPT.verify(tampered, {"roots": [root]})
