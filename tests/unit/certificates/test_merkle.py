"""Batch Merkle trees: proofs verify, forgeries do not (ADR 0001)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certificates.keccak import keccak256
from certificates.merkle import (
    DocumentTerms,
    InvalidMerkleInput,
    MerkleTree,
    leaf_hash,
    node_hash,
    root_from_proof,
    terms_leaf,
    verify_proof,
)


def targets(count: int, seed: int = 0) -> list[bytes]:
    return [keccak256(seed.to_bytes(8, "big") + index.to_bytes(8, "big")) for index in range(count)]


def test_single_document_batch_root_is_its_leaf_and_proof_is_empty() -> None:
    (target,) = targets(1)
    tree = MerkleTree.build([target])
    assert tree.root == leaf_hash(target) != target
    assert tree.proof(0) == ()
    assert verify_proof(target, (), tree.root)


def test_odd_node_is_promoted_not_duplicated() -> None:
    a, b, c = targets(3)
    tree = MerkleTree.build([a, b, c])
    assert tree.root == node_hash(node_hash(leaf_hash(a), leaf_hash(b)), leaf_hash(c))
    assert tree.proof(2) == (node_hash(leaf_hash(a), leaf_hash(b)),)


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    a, b = targets(2)
    assert leaf_hash(a) == keccak256(b"\x00" + a)
    assert node_hash(a, b) == node_hash(b, a) == keccak256(b"\x01" + min(a, b) + max(a, b))


def test_empty_batch_and_malformed_hashes_are_refused() -> None:
    with pytest.raises(InvalidMerkleInput):
        MerkleTree.build([])
    with pytest.raises(InvalidMerkleInput):
        MerkleTree.build([b"\x00" * 31])
    with pytest.raises(InvalidMerkleInput):
        root_from_proof(b"\x00" * 32, [b"\x00" * 33])
    with pytest.raises(InvalidMerkleInput):
        root_from_proof(b"\x00" * 32, [b"\x00" * 32] * 65)


RANDOM_TREES = {
    "size": st.integers(min_value=1, max_value=1024),
    "seed": st.integers(min_value=0, max_value=2**32),
    "pick": st.integers(min_value=0, max_value=2**20),
    "forgery": st.sampled_from(
        ["other-leaf-proof", "foreign-target", "flipped-sibling", "duplicate"]
    ),
}


# 1,000 random trees here; `make soak` runs 10,000 (the test below)
@settings(max_examples=1_000, deadline=None)
@given(**RANDOM_TREES)
def test_random_trees_accept_true_proofs_and_reject_forged_ones(
    size: int, seed: int, pick: int, forgery: str
) -> None:
    _true_proofs_hold_and_the_forgery_fails(size, seed, pick, forgery)


@pytest.mark.soak
@settings(max_examples=10_000, deadline=None)
@given(**RANDOM_TREES)
def test_ten_thousand_random_trees_accept_true_proofs_and_reject_forged_ones(
    size: int, seed: int, pick: int, forgery: str
) -> None:
    _true_proofs_hold_and_the_forgery_fails(size, seed, pick, forgery)


def _true_proofs_hold_and_the_forgery_fails(size: int, seed: int, pick: int, forgery: str) -> None:
    leaves = targets(size, seed)
    tree = MerkleTree.build(leaves)
    index = pick % size
    proof = tree.proof(index)
    assert verify_proof(leaves[index], proof, tree.root)

    if forgery == "foreign-target":
        assert not verify_proof(keccak256(b"forged" + leaves[index]), proof, tree.root)
    elif forgery == "other-leaf-proof" and size > 1:
        other = (index + 1 + pick % (size - 1)) % size
        assert other != index
        if tree.proof(other) != proof:
            assert not verify_proof(leaves[index], tree.proof(other), tree.root)
    elif forgery == "flipped-sibling" and proof:
        position = pick % len(proof)
        flipped = bytes([proof[position][0] ^ 1]) + proof[position][1:]
        forged = (*proof[:position], flipped, *proof[position + 1 :])
        assert not verify_proof(leaves[index], forged, tree.root)
    elif forgery == "duplicate":
        # CVE-2012-2459: a batch with its last document repeated must not share the root.
        padded = MerkleTree.build([*leaves, leaves[-1]])
        assert padded.root != tree.root
        assert not verify_proof(leaves[-1], padded.proof(size), tree.root)


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(min_value=2, max_value=256), seed=st.integers(0, 2**32), pick=st.integers(0)
)
def test_inner_node_cannot_pass_as_a_document(size: int, seed: int, pick: int) -> None:
    tree = MerkleTree.build(targets(size, seed))
    # Take any inner node and the part of some leaf's proof above it: presenting the inner
    # node as a target hash must fail, because a leaf is keccak(0x00 || target).
    level_number = 1 + pick % (len(tree.levels) - 1)
    level = tree.levels[level_number]
    position = pick % len(level)
    inner = level[position]
    leaf_index = position << level_number  # the first document under that node
    full_proof = tree.proof(leaf_index)
    # proof length below this level = number of levels with a sibling beneath it
    below = sum(
        1 for depth in range(level_number) if ((leaf_index >> depth) ^ 1) < len(tree.levels[depth])
    )
    upper_proof = full_proof[below:]
    assert root_from_proof(inner, upper_proof) != tree.root
    assert not verify_proof(inner, upper_proof, tree.root)
    # ...whereas as an inner node it does lead to the root: the forgery is real, refused.
    node = inner
    for sibling in upper_proof:
        node = node_hash(node, sibling)
    assert node == tree.root


def test_every_leaf_of_a_large_batch_verifies() -> None:
    leaves = targets(1000)
    tree = MerkleTree.build(leaves)
    assert all(
        verify_proof(leaf, proof, tree.root)
        for leaf, proof in zip(leaves, tree.proofs(), strict=True)
    )
    assert max(len(proof) for proof in tree.proofs()) == 10


def test_a_tree_with_terms_pairs_each_leaf_with_its_terms_leaf() -> None:
    """The document proof still verifies as before; its first hash is the terms leaf."""
    documents = targets(5, seed=7)
    terms = [
        DocumentTerms((code * 2,), allowance)
        for code, allowance in zip("ABCDE", range(1, 6), strict=True)
    ]
    tree = MerkleTree.build_with_terms(list(zip(documents, terms, strict=True)))
    assert tree.size == 5
    for index, (target, own) in enumerate(zip(documents, terms, strict=True)):
        proof = tree.proof(index)
        assert proof[0] == terms_leaf(target, own)
        assert verify_proof(target, proof, tree.root)
    single = MerkleTree.build_with_terms([(documents[0], terms[0])])
    assert single.root == node_hash(leaf_hash(documents[0]), terms_leaf(documents[0], terms[0]))


@pytest.mark.parametrize(
    ("addressees", "allowance"),
    [(("TH", "SG"), 1), (("TH", "TH"), 1), (("th",), 1), (("TH",), 0), (("TH",), 2**96)],
)
def test_terms_are_sorted_country_codes_and_a_positive_allowance(
    addressees: tuple[str, ...], allowance: int
) -> None:
    with pytest.raises(InvalidMerkleInput):
        DocumentTerms(addressees, allowance)
