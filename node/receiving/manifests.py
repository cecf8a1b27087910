"""Batch manifests (ADR 0041): how a receiving node learns the CIDs of an anchored batch.

The chain carries a batch's root, type, count and addressee countries, not its CIDs. The
issuing node answers ``GET /v1/batches/0x<root>/manifest`` with the batch's target
hashes in batch order and, for each, its CID, addressee countries and whether it is
sealed. The manifest needs no signature: the receiver rebuilds the Merkle root from the
listed target hashes and compares it (and the count) with the anchored record, so the
hashes are the chain's; every CID is then checked by hashing the content fetched, and
the content must open (if sealed) and verify to the listed target hash. A peer that
lies can only make reception fail, and is reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
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


def manifest_path(root: bytes) -> str:
    return f"/v1/batches/0x{root.hex()}/manifest"


def manifest_json(
    batch: AnchoredBatchDocuments, readable: Callable[[BatchDocumentEntry], bool]
) -> JsonObject:
    """The manifest as served to one member: a CID only where ``readable`` (ADR 0023: the
    member may fetch that document), ``null`` elsewhere; every target hash and its terms
    stay, so that the receiver rebuilds the anchored root."""
    return {
        "format": MANIFEST_FORMAT,
        "root": to_hex(batch.root),
        "documentType": batch.document_type,
        "documentCount": len(batch.documents),
        "documents": [
            {
                "targetHash": to_hex(entry.target_hash),
                "cid": entry.cid if readable(entry) else None,
                "addressees": list(entry.addressees),
                "confidential": entry.confidential,
                "allowance": entry.allowance,
            }
            for entry in batch.documents
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
