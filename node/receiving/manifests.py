"""Batch manifests (ADR 0041): how a receiving node learns the CIDs of an anchored batch.

The chain carries a batch's root, type, count and addressee countries, not its CIDs. The
issuing node answers ``GET /v1/batches/0x<root>/manifest`` with the batch's target
hashes in batch order and, for each, its CID, addressee countries and whether it is
sealed. The manifest needs no signature: the receiver rebuilds the Merkle root from the
listed target hashes and compares it (and the count) with the anchored record, so the
hashes are the chain's; every CID is then checked by hashing the content fetched, and
the content must open (if sealed) and verify to the listed target hash. A peer that
lies can only make reception fail, and is reported.

Every node that received a batch keeps its manifest and serves it the same way (a CID
only to the members that may fetch that document, and only the CIDs it learnt itself):
when the issuing member's host is gone, an addressee reads it from another addressee.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Final

from certificates import DocumentTerms, MerkleTree
from certificates.hashes import HASH_RE, to_hex
from certificates.json_types import JsonObject, JsonValue
from node.issuing.outbox import AnchoredBatchDocuments, BatchDocumentEntry

MANIFEST_FORMAT: Final = "docex-batch-manifest/1"
_COUNTRY: Final = re.compile(r"^[A-Z]{2}$")
_CID: Final = re.compile(r"^[A-Za-z0-9]{1,128}$")


class InvalidManifest(ValueError):
    """A manifest that is malformed or does not match the anchored batch."""


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    target_hash: bytes
    #: None where the serving node does not let this member fetch the document
    cid: str | None
    addressees: tuple[str, ...]
    confidential: bool
    #: the allowance committed beside the document's leaf (absent from a manifest: 1)
    allowance: int = 1


@dataclass(frozen=True, slots=True)
class BatchManifest:
    root: bytes
    document_type: str
    documents: tuple[ManifestEntry, ...]

    def missing_cids(self, country: str) -> int:
        """Documents addressed to ``country`` whose CID this manifest does not list."""
        return sum(1 for e in self.documents if country in e.addressees and e.cid is None)

    def with_cids_of(self, other: BatchManifest) -> BatchManifest:
        """This manifest with the CIDs it lacks taken from ``other``, a manifest of the
        same root (its target hashes and terms are then the same, checked by the root)."""
        if other.root != self.root or len(other.documents) != len(self.documents):
            raise InvalidManifest("the manifests are of different batches")
        merged = tuple(
            mine if mine.cid is not None else replace(mine, cid=theirs.cid)
            for mine, theirs in zip(self.documents, other.documents, strict=True)
        )
        return replace(self, documents=merged)

    def to_json(self) -> JsonObject:
        """As served (``docex-batch-manifest/1``), a CID wherever this manifest has one."""
        return received_manifest_json(self, lambda _entry: True)


def manifest_path(root: bytes) -> str:
    return f"/v1/batches/0x{root.hex()}/manifest"


def manifest_json(
    batch: AnchoredBatchDocuments, readable: Callable[[BatchDocumentEntry], bool]
) -> JsonObject:
    """The manifest as served to one member: a CID only where ``readable`` (ADR 0023: the
    member may fetch that document), ``null`` elsewhere; every target hash and its terms
    stay, so that the receiver rebuilds the anchored root."""
    return _manifest_object(batch.root, batch.document_type, batch.documents, readable)


def received_manifest_json(
    manifest: BatchManifest, readable: Callable[[BatchDocumentEntry], bool]
) -> JsonObject:
    """A manifest this node received, as served to one member of the batch: a CID only
    where ``readable`` and known here (this node learnt the CIDs of its own documents)."""
    entries = [
        BatchDocumentEntry(e.target_hash, e.cid or "", e.addressees, e.confidential, e.allowance)
        for e in manifest.documents
    ]
    return _manifest_object(
        manifest.root,
        manifest.document_type,
        entries,
        lambda entry: bool(entry.cid) and readable(entry),
    )


def _manifest_object(
    root: bytes,
    document_type: str,
    documents: Sequence[BatchDocumentEntry],
    readable: Callable[[BatchDocumentEntry], bool],
) -> JsonObject:
    return {
        "format": MANIFEST_FORMAT,
        "root": to_hex(root),
        "documentType": document_type,
        "documentCount": len(documents),
        "documents": [
            {
                "targetHash": to_hex(entry.target_hash),
                "cid": entry.cid if readable(entry) else None,
                "addressees": list(entry.addressees),
                "confidential": entry.confidential,
                "allowance": entry.allowance,
            }
            for entry in documents
        ],
    }


def _string(value: dict[str, JsonValue], key: str, where: str) -> str:
    field = value.get(key)
    if not isinstance(field, str):
        raise InvalidManifest(f"{where}/{key} is missing or not a string")
    return field


def parse_manifest(
    value: JsonValue, *, root: bytes, document_type: str, document_count: int
) -> BatchManifest:
    """The manifest in ``value``, checked against the anchored batch (root, type, count)."""
    if not isinstance(value, dict) or value.get("format") != MANIFEST_FORMAT:
        raise InvalidManifest(f"not a {MANIFEST_FORMAT} object")
    if value.get("root") != to_hex(root):
        raise InvalidManifest("the manifest is for another root")
    if value.get("documentType") != document_type:
        raise InvalidManifest("the manifest's document type differs from the anchored one")
    raw_documents = value.get("documents")
    if not isinstance(raw_documents, list) or len(raw_documents) != document_count:
        raise InvalidManifest(f"the anchored batch has {document_count} documents")
    entries: list[ManifestEntry] = []
    for index, raw in enumerate(raw_documents):
        where = f"/documents/{index}"
        if not isinstance(raw, dict):
            raise InvalidManifest(f"{where} is not an object")
        target = _string(raw, "targetHash", where)
        cid = raw.get("cid")
        if cid is not None and not isinstance(cid, str):
            raise InvalidManifest(f"{where}/cid is not a string or null")
        addressees = raw.get("addressees")
        confidential = raw.get("confidential")
        if not isinstance(addressees, list):
            raise InvalidManifest(f"{where}/addressees is missing or not an array")
        if not isinstance(confidential, bool):
            raise InvalidManifest(f"{where}/confidential is missing or not a boolean")
        if not HASH_RE.match(target):
            raise InvalidManifest(f"{where}/targetHash is not 0x and 64 hex digits")
        if cid is not None and not _CID.match(cid):
            raise InvalidManifest(f"{where}/cid is not a CID")
        if not all(isinstance(c, str) and _COUNTRY.match(c) for c in addressees):
            raise InvalidManifest(f"{where}/addressees are not country codes")
        codes = [str(c) for c in addressees]
        if codes != sorted(set(codes)):
            raise InvalidManifest(f"{where}/addressees are not sorted and distinct")
        allowance = raw.get("allowance", 1)
        if (
            not isinstance(allowance, int)
            or isinstance(allowance, bool)
            or not 0 < allowance < 2**96
        ):
            raise InvalidManifest(f"{where}/allowance is not a positive integer below 2**96")
        entries.append(
            ManifestEntry(
                bytes.fromhex(target[2:]),
                cid,
                tuple(codes),
                confidential,
                allowance,
            )
        )
    documents = [
        (entry.target_hash, DocumentTerms(entry.addressees, entry.allowance)) for entry in entries
    ]
    if MerkleTree.build_with_terms(documents).root != root:
        raise InvalidManifest("the listed target hashes do not build the anchored root")
    return BatchManifest(root, document_type, tuple(entries))
