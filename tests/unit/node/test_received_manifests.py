"""A manifest read from several holders: merged CIDs, kept and served as received."""

from __future__ import annotations

import pytest

from certificates import DocumentTerms, MerkleTree
from node.receiving.manifests import (
    BatchManifest,
    InvalidManifest,
    ManifestEntry,
    parse_manifest,
    received_manifest_json,
)

HASHES = (b"\x01" * 32, b"\x02" * 32, b"\x03" * 32)
ADDRESSEES = (("VN",), ("SG", "VN"), ("SG",))


def manifest(*cids: str | None) -> BatchManifest:
    terms = [DocumentTerms(addressees) for addressees in ADDRESSEES]
    root = MerkleTree.build_with_terms(list(zip(HASHES, terms, strict=True))).root
    entries = [
        ManifestEntry(target_hash, cid, addressees, confidential=False)
        for target_hash, cid, addressees in zip(HASHES, cids, ADDRESSEES, strict=True)
    ]
    return BatchManifest(root, "declaration/1", tuple(entries))


def test_cids_a_holder_lacks_are_taken_from_the_next() -> None:
    from_sg = manifest(None, "bafysgknows", "bafysgonly")
    from_issuer = manifest("bafyvn", "bafysgknows", "bafysgonly")
    assert from_sg.missing_cids("VN") == 1
    assert from_sg.missing_cids("SG") == 0

    merged = from_sg.with_cids_of(from_issuer)

    assert [e.cid for e in merged.documents] == ["bafyvn", "bafysgknows", "bafysgonly"]
    assert merged.missing_cids("VN") == 0
    assert from_sg.with_cids_of(manifest(None, None, None)) == from_sg  # nothing to add


def test_a_manifest_of_another_batch_is_never_merged() -> None:
    other = BatchManifest(b"\x09" * 32, "declaration/1", manifest(None, None, None).documents)
    with pytest.raises(InvalidManifest):
        manifest(None, None, None).with_cids_of(other)


def test_a_kept_manifest_round_trips_and_is_served_per_reader() -> None:
    kept = manifest(None, "bafyboth", "bafysgonly")
    value = kept.to_json()
    again = parse_manifest(value, root=kept.root, document_type="declaration/1", document_count=3)
    assert again == kept

    # to SG: the CIDs of its documents that this node knows; never one it does not know
    served = received_manifest_json(kept, lambda entry: "SG" in entry.addressees)
    assert [d["cid"] for d in served["documents"]] == [None, "bafyboth", "bafysgonly"]
    served = received_manifest_json(kept, lambda entry: "VN" in entry.addressees)
    assert [d["cid"] for d in served["documents"]] == [None, "bafyboth", None]
