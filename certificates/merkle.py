"""Batches: a keccak-256 Merkle tree over documents' target hashes (ADR 0001).

Leaves and inner nodes are domain-separated (``0x00`` / ``0x01`` prefixes), an odd
node is promoted to the next level unchanged (never paired with itself, the
CVE-2012-2459 ambiguity), and pairs are hashed in sorted order so that a proof is just
the sibling hashes from the leaf up: the same check a Solidity contract runs with
OpenZeppelin's ``MerkleProof.processProof`` and a ``0x01``-prefixing hasher.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from certificates.errors import InvalidInput
from certificates.keccak import keccak256

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32
#: A tree of 2**64 leaves is 64 levels deep; a longer proof is malformed on its face.
MAX_PROOF_LENGTH = 64


class InvalidMerkleInput(InvalidInput):
    code = "invalid-merkle-input"


def leaf_hash(target_hash: bytes) -> bytes:
    """The tree leaf of a document's target hash."""
    return keccak256(LEAF_PREFIX + target_hash)


def node_hash(left: bytes, right: bytes) -> bytes:
    """An inner node: the two children in ascending byte order, domain-separated."""
    if right < left:
        left, right = right, left
    return keccak256(NODE_PREFIX + left + right)


@dataclass(frozen=True, slots=True)
class MerkleTree:
    """All levels of a batch tree, leaves first; ``levels[-1]`` holds only the root."""

    levels: tuple[tuple[bytes, ...], ...]

    @classmethod
    def build(cls, target_hashes: Sequence[bytes]) -> MerkleTree:
        """Build the tree over ``target_hashes`` in the given order."""
        if not target_hashes:
            raise InvalidMerkleInput("a batch needs at least one document")
        for index, target in enumerate(target_hashes):
            _require_hash(target, f"/{index}")
        level = tuple(leaf_hash(target) for target in target_hashes)
        levels = [level]
        while len(level) > 1:
            paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                paired.append(level[-1])  # promoted, never duplicated
            level = tuple(paired)
            levels.append(level)
        return cls(tuple(levels))

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def proof(self, index: int) -> tuple[bytes, ...]:
        """Sibling hashes from leaf ``index`` up to the root (promoted levels add none)."""
        if not 0 <= index < self.size:
            raise InvalidMerkleInput(f"leaf index {index} outside a batch of {self.size}")
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


def root_from_proof(target_hash: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` ties ``target_hash`` to."""
    _require_hash(target_hash, "targetHash")
    if len(proof) > MAX_PROOF_LENGTH:
        raise InvalidMerkleInput(f"a proof has at most {MAX_PROOF_LENGTH} hashes")
    node = leaf_hash(target_hash)
    for index, sibling in enumerate(proof):
        _require_hash(sibling, f"proof/{index}")
        node = node_hash(node, sibling)
    return node


def verify_proof(target_hash: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """True when ``proof`` shows ``target_hash`` is a document of the batch with ``root``."""
    _require_hash(root, "root")
    return root_from_proof(target_hash, proof) == root


def _require_hash(value: bytes, where: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise InvalidMerkleInput(f"{where} must be a {HASH_SIZE}-byte hash")
