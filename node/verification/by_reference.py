"""Verifying a document this node holds, named by reference (``GET /v1/verify/{ref}``).

The answer is the verdict ``POST /v1/verify`` gives for the held wrapped document, plus
what a person checking it wants to see beside the checks:

- ``document``: type, issuer country, target hash, batch root, CID, addressees, the
  anchoring block, time and transaction (from the index), and, for a document that is
  not confidential, its data fields (concealed fields stay concealed). The content of a
  confidential document is never shown: this answer is public;
- ``history``: the document's on-chain events in chain order (the events of
  ``GET /v1/documents/{id}/history``), with block, time and transaction;
- ``supersededBy``: the replacement's target hash and public link, when amended.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from sqlalchemy import Engine

from certificates.errors import DocexError
from certificates.hashes import to_hex
from certificates.json_types import JsonObject, JsonValue
from certificates.schemas.signed_facts import signed_addressees
from ledger import queries
from node.documents.held_documents import HeldDocument, find_held_document, parse_reference
from node.documents.lifecycle import DocumentLifecycle
from node.errors import DocumentNotFound, NotReady
from node.observability.metrics import NodeMetrics
from node.verification.verifier import Verifier

_log = logging.getLogger("docex.node.verify")

#: the member of a document that names the authority that issued it, per document type
_ISSUING_AUTHORITY: Final = ("issuingAuthority", "issuingMinistry", "customsOffice")


def public_link(base_url: str, target_hash: bytes) -> str:
    """The document's public link (what its QR code carries): ``{base}/v/0x<target hash>``."""
    return f"{base_url}/v/0x{target_hash.hex()}"


def _member(value: JsonValue, key: str) -> JsonValue:
    return value.get(key) if isinstance(value, dict) else None


def _issuer_name(data: JsonValue) -> str | None:
    for key in _ISSUING_AUTHORITY:
        name = _member(_member(data, key), "name")
        if isinstance(name, str):
            return name
    return None


def _own_addressees(wrapped: JsonValue) -> list[str] | None:
    data = _member(wrapped, "data")
    document_type = _member(_member(wrapped, "batch"), "documentType")
    if not isinstance(data, dict) or not isinstance(document_type, str):
        return None
    concealed = _member(wrapped, "concealed")
    hidden = list(concealed) if isinstance(concealed, dict) else []
    own = signed_addressees(document_type, data, hidden)
    return list(own) if own else None


def document_summary(base_url: str, index: Engine, held: HeldDocument) -> JsonObject:
    """What the page shows of ``held`` beside the checks; never confidential content."""
    wrapped = held.wrapped
    batch_json = _member(wrapped, "batch")
    root = _member(batch_json, "root")
    summary: dict[str, Any] = {
        "documentType": _member(batch_json, "documentType"),
        "issuerCountry": held.issuer_country,
        "targetHash": to_hex(held.target_hash),
        "batchRoot": root,
        "cid": held.cid,
        # the document's own addressees where it shows them; else its batch's
        "addressees": _own_addressees(wrapped) or _member(batch_json, "addressees") or [],
        "signer": _member(_member(wrapped, "signature"), "signer"),
        "origin": held.origin.value,
        "confidential": held.confidential,
        "link": public_link(base_url, held.target_hash),
        "anchoring": None,
    }
    if isinstance(root, str):
        batch = queries.batch(index, bytes.fromhex(root[2:]))
        if batch is not None:
            summary["issuerCountry"] = batch.issuer_country
            summary["anchoring"] = {
                "blockNumber": batch.block_number,
                "timestamp": batch.timestamp,
                "txHash": to_hex(batch.tx_hash),
                "issuer": batch.issuer,
            }
    if held.confidential:
        summary["data"] = None
        summary["issuerName"] = None
    else:
        data = _member(wrapped, "data")
        summary["data"] = data
        summary["issuerName"] = _issuer_name(data)
        concealed = _member(wrapped, "concealed")
        summary["concealedFields"] = sorted(concealed) if isinstance(concealed, dict) else []
    return summary


def _history(base_url: str, lifecycle: DocumentLifecycle, held: HeldDocument) -> JsonObject:
    document_id = held.receipt_id or to_hex(held.target_hash)
    try:
        found = lifecycle.provenance(document_id)
    except (NotReady, DocumentNotFound):
        # no chain, or no event indexed yet: an empty history, the checks say why
        return {"status": None, "events": []}
    body: dict[str, Any] = {"status": found.get("status"), "events": found.get("events", [])}
    successor = found.get("supersededBy")
    if isinstance(successor, dict) and isinstance(successor.get("targetHash"), str):
        successor_hash = bytes.fromhex(str(successor["targetHash"])[2:])
        body["supersededBy"] = {
            "targetHash": successor["targetHash"],
            "root": successor.get("root"),
            "link": public_link(base_url, successor_hash),
        }
    return body


class ReferenceVerification:
    """``GET /v1/verify/{ref}``: the verdict, summary and history of a document this node
    holds, named by receipt id, target hash or CID. Built once by the runtime."""

    def __init__(
        self,
        *,
        country: str,
        base_url: str,
        database: Engine,
        index: Engine,
        verifier: Verifier,
        metrics: NodeMetrics,
        lifecycle: DocumentLifecycle,
    ) -> None:
        self._country = country
        self._base_url = base_url
        self._database = database
        self._index = index
        self._verifier = verifier
        self._metrics = metrics
        self._lifecycle = lifecycle

    def verify(self, reference_text: str) -> JsonObject:
        """The verdict, document summary and history of the held document
        ``reference_text`` names (422 not a reference, 404 not held here, 409 issued but
        not signed yet)."""
        reference = parse_reference(reference_text)
        held = find_held_document(self._database, self._country, reference)
        if held is None:
            raise DocumentNotFound(
                f"this node holds no document {reference_text} (neither issued here nor received)"
            )
        verdict = self._verifier.verify(held.wrapped)
        self._metrics.verifications.labels("valid" if verdict.valid else "invalid").inc()
        body: dict[str, Any] = {
            **verdict.to_json(),
            "reference": {"kind": reference.kind.value, "value": reference.values[0]},
            "document": document_summary(self._base_url, self._index, held),
        }
        try:
            history = _history(self._base_url, self._lifecycle, held)
        except DocexError as error:
            # the verdict stands without its timeline (e.g. no block time from the chain)
            _log.warning("history not available", extra={"error": str(error)})
            history = {"status": None, "events": []}
        body["history"] = history["events"]
        body["historyStatus"] = history["status"]
        if "supersededBy" in history:
            body["supersededBy"] = history["supersededBy"]
        return body
