"""Verifying a document this node holds, named by reference (``GET /v1/verify/{ref}``).

The answer is the verdict ``POST /v1/verify`` gives for the held wrapped document, plus
what a person checking it wants to see beside the checks:

- ``document``: type, issuer country, target hash, batch root, CID, the batch's addressees
  (as anchored on chain), the anchoring block, time and transaction (from the index).
  **No field of the document** (ADR 0023): this answer is public and a target hash is
  no proof of having seen the document, so ``data`` and ``issuerName`` are null for
  every document, and the checks whose reasons would quote a field (``expired``,
  ``country-mismatch``, ``addressee-mismatch``) say so without the value. Whoever holds
  the document presents it to ``POST /v1/verify``; whoever holds a share link reads it
  with ``GET /v1/shared/{token}``;
- ``history``: the document's on-chain events in chain order (the events of
  ``GET /v1/documents/{id}/history``), with block, time and transaction;
- ``supersededBy``: the replacement's target hash and public link, when amended.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from sqlalchemy import Engine

from certificates.check_codes import CheckCode
from certificates.errors import DocexError
from certificates.hashes import to_hex
from certificates.json_types import JsonObject, JsonValue
from ledger import queries
from node.documents.held_documents import HeldDocument, find_held_document, parse_reference
from node.documents.lifecycle import DocumentLifecycle
from node.errors import DocumentNotFound, NotReady
from node.observability.metrics import NodeMetrics
from node.verification.verifier import Verifier

_log = logging.getLogger("docex.node.verify")


def public_link(base_url: str, target_hash: bytes) -> str:
    """The document's public link (what its QR code carries): ``{base}/v/0x<target hash>``."""
    return f"{base_url}/v/0x{target_hash.hex()}"


def _member(value: JsonValue, key: str) -> JsonValue:
    return value.get(key) if isinstance(value, dict) else None


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
        # the batch's addressees, public on chain (the document's own are in its terms)
        "addressees": _member(batch_json, "addressees") or [],
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
    # no field of the document, confidential or not (ADR 0023)
    summary["data"] = None
    summary["issuerName"] = None
    return summary


#: check codes whose reason or data quote a field of the document, and what a public
#: answer says instead
_FIELD_QUOTING: Final = {
    CheckCode.EXPIRED.value: "expired: the validity its issuer signed has ended",
    CheckCode.COUNTRY_MISMATCH.value: (
        "the document's issuing country is not that of the member that anchored it"
    ),
    CheckCode.ADDRESSEE_MISMATCH.value: (
        "the document's addressees are not those its batch was signed and anchored for"
    ),
}


def undisclosed_checks(checks: JsonValue) -> JsonValue:
    """The checks of a verdict with no field of the document in them."""
    if not isinstance(checks, list):
        return checks
    shown: list[JsonValue] = []
    for check in checks:
        code = _member(check, "code")
        if isinstance(check, dict) and isinstance(code, str) and code in _FIELD_QUOTING:
            check = {**check, "reason": _FIELD_QUOTING[code], "data": {}}
        shown.append(check)
    return shown


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
        verdict_json = verdict.to_json()
        body: dict[str, Any] = {
            **verdict_json,
            "checks": undisclosed_checks(verdict_json.get("checks")),
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
