"""Which document a printable certificate is of, who may print it, and the facts of its
anchoring: the node's side of ``GET /v1/documents/{id}/certificate.pdf``.

A document is named by its receipt id (issued here) or its target hash (issued here, or
received in the inbox). Who may print it:

- an **issuer**: the documents it issued itself (another issuer's, or another member's: 403);
- a **customs officer**: documents addressed to this node's country (others: 403);
- **auditors** and **admins**: any document this node holds.

A document not anchored yet is 409: a certificate is printed only with its anchoring
transaction and block, taken from the event index (or, for one issued here that the
index has not reached yet, from its receipt).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

import adapters.printing as printing
from adapters.printing import AnchoringFacts
from certificates.hashes import to_hex
from ledger import queries
from node.access.roles import Role
from node.access.users import Principal
from node.errors import DocumentNotAnchored, DocumentNotFound, NotAuthorised
from node.issuing.outbox import RECEIPT_ID, TARGET_HASH, DocumentState, Outbox, Receipt
from node.receiving.inbox import Inbox


@dataclass(frozen=True, slots=True)
class PrintableDocument:
    """An anchored document this node holds, ready to print."""

    wrapped: dict[str, Any]
    target_hash: bytes
    anchoring: AnchoringFacts

    @property
    def target_hash_hex(self) -> str:
        return to_hex(self.target_hash)


@dataclass(frozen=True, slots=True)
class PrintedCertificate:
    pdf: bytes
    target_hash_hex: str
    document_type: str


def _addressees(wrapped: dict[str, Any]) -> list[str]:
    addressees = wrapped.get("batch", {}).get("addressees", [])
    return [code for code in addressees if isinstance(code, str)]


def _indexed_anchoring(index: Engine, root: bytes) -> AnchoringFacts | None:
    batch = queries.batch(index, root)
    if batch is None:
        return None
    return AnchoringFacts(
        tx_hash=to_hex(batch.tx_hash),
        block_number=batch.block_number,
        anchored_at=datetime.fromtimestamp(batch.timestamp, UTC),
    )


def _officer_may_read(country: str, principal: Principal, addressees: list[str]) -> None:
    if principal.role is Role.CUSTOMS_OFFICER and country not in addressees:
        raise NotAuthorised(
            f"this node's country {country} is not an addressee of the document "
            f"(addressees: {', '.join(addressees) or 'none'})"
        )


class CertificatePrinting:
    """Printable certificates of the documents this node holds (issued or received),
    for those who may print them. Built once by the runtime."""

    def __init__(
        self, *, country: str, base_url: str, outbox: Outbox, inbox: Inbox, index: Engine
    ) -> None:
        self._country = country
        self._base_url = base_url
        self._outbox = outbox
        self._inbox = inbox
        self._index = index

    def _issued_document(self, principal: Principal, receipt: Receipt) -> PrintableDocument:
        if principal.role is Role.ISSUER and receipt.user_id != principal.user_id:
            raise NotAuthorised("this document belongs to another issuer")
        if (
            receipt.state is not DocumentState.ANCHORED
            or receipt.wrapped_json is None
            or receipt.target_hash is None
            or receipt.batch_root is None
        ):
            state = "pending" if receipt.state is DocumentState.BATCHED else receipt.state.value
            raise DocumentNotAnchored(
                f"document {receipt.id} is {state}: a certificate is printed once it is anchored"
            )
        wrapped = json.loads(receipt.wrapped_json)
        _officer_may_read(self._country, principal, _addressees(wrapped))
        anchoring = _indexed_anchoring(self._index, receipt.batch_root)
        if anchoring is None:
            if receipt.tx_hash is None or receipt.block_number is None:
                raise DocumentNotAnchored(f"document {receipt.id} has no anchoring transaction yet")
            anchoring = AnchoringFacts(
                tx_hash=receipt.tx_hash,
                block_number=receipt.block_number,
                anchored_at=datetime.fromtimestamp(receipt.anchored_at or receipt.accepted_at, UTC),
            )
        return PrintableDocument(wrapped, receipt.target_hash, anchoring)

    def printable_document(self, principal: Principal, document_id: str) -> PrintableDocument:
        """The anchored document ``document_id`` names, if ``principal`` may print it:
        :class:`DocumentNotFound` (404), :class:`NotAuthorised` (403) or
        :class:`DocumentNotAnchored` (409) otherwise."""
        named = document_id.lower()
        if not (RECEIPT_ID.fullmatch(named) or TARGET_HASH.fullmatch(named)):
            raise DocumentNotFound(
                f"no document {document_id[:80]!r}: name it by its receipt id (32 hex digits) "
                "or its target hash (0x + 64 hex digits)"
            )
        receipt = self._outbox.receipt_of(named)
        if receipt is not None:
            return self._issued_document(principal, receipt)
        received = (
            self._inbox.document(bytes.fromhex(named[2:])) if TARGET_HASH.fullmatch(named) else None
        )
        if received is None:
            raise DocumentNotFound(f"this node holds no document {document_id}")
        if principal.role is Role.ISSUER:
            raise NotAuthorised(
                f"document {document_id} was issued by another member ({received.issuer_country})"
            )
        wrapped = json.loads(received.wrapped_json)
        _officer_may_read(self._country, principal, _addressees(wrapped))
        anchoring = _indexed_anchoring(self._index, received.batch_root)
        if anchoring is None:
            raise DocumentNotAnchored(
                f"batch 0x{received.batch_root.hex()} is not in this node's event index"
            )
        return PrintableDocument(wrapped, received.target_hash, anchoring)

    def print_certificate(
        self, principal: Principal, document_id: str, language: str = "en"
    ) -> PrintedCertificate:
        """The PDF of the document ``document_id`` names, its QR code carrying the public link
        ``{base_url}/v/{target hash}``, its own words in ``language``."""
        document = self.printable_document(principal, document_id)
        link = f"{self._base_url}/v/{document.target_hash_hex}"
        pdf = printing.render_certificate(
            document.wrapped, document.anchoring, link, language=language
        )
        return PrintedCertificate(
            pdf=pdf,
            target_hash_hex=document.target_hash_hex,
            document_type=str(document.wrapped.get("batch", {}).get("documentType", "")),
        )
