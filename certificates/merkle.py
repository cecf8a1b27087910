"""Batches: a keccak-256 Merkle tree over documents' target hashes (ADR 0001).

Leaves and inner nodes are domain-separated (``0x00`` / ``0x01`` prefixes), an odd
node is promoted to the next level unchanged (never paired with itself, the
CVE-2012-2459 ambiguity), and pairs are hashed in sorted order so that a proof is just
the sibling hashes from the leaf up: the same check a Solidity contract runs with
OpenZeppelin's ``MerkleProof.processProof`` and a ``0x01``-prefixing hasher.

A tree *with terms* (:meth:`MerkleTree.build_with_terms`) pairs each document's leaf with
its terms leaf (``0x02``: the document's own addressees and the allowance its issuer sets),
so the first sibling of a document's proof is its terms leaf: the DocumentRegistry accepts a
use or rejection only from one of those addressees, within that allowance, and the proof of
the document itself is checked exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from certificates.errors import InvalidInput
from certificates.keccak import keccak256

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
TERMS_PREFIX = b"\x02"
#: The largest allowance a terms leaf commits to (uint96 on chain).
MAX_ALLOWANCE = 2**96 - 1
HASH_SIZE = 32
#: A tree of 2**64 leaves is 64 levels deep; a longer proof is malformed on its face.
MAX_PROOF_LENGTH = 64


class InvalidMerkleInput(InvalidInput):
    code = "invalid-merkle-input"


def leaf_hash(target_hash: bytes) -> bytes:
    """The tree leaf of a document's target hash."""
    return keccak256(LEAF_PREFIX + target_hash)


@dataclass(frozen=True, slots=True)
class DocumentTerms:
    """What a document's issuer commits to on chain for its use: its own addressees (sorted,
    distinct ISO 3166-1 alpha-2 codes) and its allowance (the total quantity that may be used;
    1 for a single-use certificate)."""

    addressees: tuple[str, ...]
    allowance: int = 1

    def __post_init__(self) -> None:
        codes = self.addressees
        if list(codes) != sorted(set(codes)) or not all(
            len(code) == 2 and code.isascii() and code.isalpha() and code.isupper()
            for code in codes
        ):
            raise InvalidMerkleInput("addressees must be sorted, distinct country codes")
        if not 0 < self.allowance <= MAX_ALLOWANCE:
            raise InvalidMerkleInput(f"allowance {self.allowance} is outside 1..2**96-1")


def terms_leaf(target_hash: bytes, terms: DocumentTerms) -> bytes:
    """The terms leaf paired with a document's leaf (DocumentRegistry ``termsLeaf``)."""
    _require_hash(target_hash, "targetHash")
    return keccak256(
        TERMS_PREFIX
        + target_hash
        + terms.allowance.to_bytes(32, "big")
        + b"".join(code.encode("ascii").ljust(32, b"\0") for code in terms.addressees)
    )


def node_hash(left: bytes, right: bytes) -> bytes:
    """An inner node: the two children in ascending byte order, domain-separated."""
    if right < left:
        left, right = right, left
    return keccak256(NODE_PREFIX + left + right)


@dataclass(frozen=True, slots=True)
class MerkleTree:
    """All levels of a batch tree, leaves first; ``levels[-1]`` holds only the root."""

    levels: tuple[tuple[bytes, ...], ...]
    #: True when ``levels[0]`` interleaves document and terms leaves (``build_with_terms``).
    with_terms: bool = False

    @classmethod
    def build_with_terms(cls, documents: Sequence[tuple[bytes, DocumentTerms]]) -> MerkleTree:
        """Build the tree over ``(target hash, terms)`` pairs in the given order: each
        document's leaf is paired with its terms leaf, then the pairs form the tree."""
        if not documents:
            raise InvalidMerkleInput("a batch needs at least one document")
        leaves: list[bytes] = []
        for index, (target, terms) in enumerate(documents):
            _require_hash(target, f"/{index}")
            leaves += [leaf_hash(target), terms_leaf(target, terms)]
        return cls(_levels(tuple(leaves)), with_terms=True)

    @classmethod
    def build(cls, target_hashes: Sequence[bytes]) -> MerkleTree:
        """Build the tree over ``target_hashes`` in the given order."""
        if not target_hashes:
            raise InvalidMerkleInput("a batch needs at least one document")
        for index, target in enumerate(target_hashes):
            _require_hash(target, f"/{index}")
        return cls(_levels(tuple(leaf_hash(target) for target in target_hashes)))

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    @property
    def size(self) -> int:
        """The number of documents."""
        return len(self.levels[0]) // 2 if self.with_terms else len(self.levels[0])

    def proof(self, index: int) -> tuple[bytes, ...]:
        """Sibling hashes from document ``index``'s leaf up to the root (promoted levels add
        none); in a tree with terms the first is the document's terms leaf."""
        if not 0 <= index < self.size:
            raise InvalidMerkleInput(f"leaf index {index} outside a batch of {self.size}")
        if self.with_terms:
            index *= 2
        siblings: list[bytes] = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                siblings.append(level[sibling])
            index //= 2
        return tuple(siblings)

    def proofs(self) -> list[tuple[bytes, ...]]:
        """The proof of every leaf, in leaf order."""
        return [self.proof(index) for index in range(self.size)]


def _levels(leaves: tuple[bytes, ...]) -> tuple[tuple[bytes, ...], ...]:
    level = leaves
    levels = [level]
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])  # promoted, never duplicated
        level = tuple(paired)
        levels.append(level)
    return tuple(levels)


def root_from_proof(target_hash: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` ties ``target_hash`` to."""
    _require_hash(target_hash, "targetHash")
    if len(proof) > MAX_PROOF_LENGTH:
        raise InvalidMerkleInput(f"a proof has at most {MAX_PROOF_LENGTH} hashes")
    # node_hash inlined, and memoised: the documents of a batch share the upper part of
    # their proofs, so checking them one after the other recomputes the same inner nodes
    nodes = _INNER_NODES
    node = keccak256(LEAF_PREFIX + target_hash)
    for index, sibling in enumerate(proof):
        if type(sibling) is not bytes or len(sibling) != HASH_SIZE:
            _require_hash(sibling, f"proof/{index}")
        pair = NODE_PREFIX + node + sibling if node <= sibling else NODE_PREFIX + sibling + node
        parent = nodes.get(pair)
        if parent is None:
            parent = keccak256(pair)
            if len(nodes) >= _INNER_NODES_LIMIT:
                nodes.clear()
            nodes[pair] = parent
        node = parent
    return node


#: inner nodes by their hashed input (0x01 ‖ left ‖ right), emptied when full
_INNER_NODES: dict[bytes, bytes] = {}
_INNER_NODES_LIMIT = 1 << 14


def verify_proof(target_hash: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """True when ``proof`` shows ``target_hash`` is a document of the batch with ``root``."""
    _require_hash(root, "root")
    return root_from_proof(target_hash, proof) == root


def _require_hash(value: bytes, where: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise InvalidMerkleInput(f"{where} must be a {HASH_SIZE}-byte hash")
