"""Build an audit report (``docex-audit/1``) from the node's event index and the documents
it holds: every on-chain event of each document, with what an auditor needs to re-check
it alone (chain id, genesis and deployment block hashes, contract addresses, target
hash, batch root, Merkle proof). The JSON form is the source of truth; CSV and HTML are
renderings of it (:mod:`node.audit.csv_report`, :mod:`node.audit.html_report`).

A report names documents this node holds (issued here, or received in its inbox): only
for those does it have the Merkle proof that ties a target hash to its anchored root.

- ``document``: one document's whole provenance.
- ``issuer`` / ``addressee`` with a period: every held document of that issuer country
  (or addressed to that country) that was anchored in the period, or had an event in it;
  each with its whole provenance (events outside the period included, so that a line is
  never read without its anchoring).

Issuers see only the documents they issued themselves; auditors and admins see all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import Engine, or_, select, tuple_
from sqlalchemy.orm import Session

from certificates.hashes import to_hex
from ledger.index_schema import Batch, ChainEvent, Checkpoint, DocumentEvent
from ledger.registry_logs import readable_arguments
from node.access.roles import Role
from node.access.users import Principal
from node.audit.errors import AuditReportTooLarge
from node.audit.query import AuditQuery, ReportScope
from node.audit.report_format import REPORT_FORMAT
from node.chain.ledger_link import LedgerLink
from node.db.tables import WrappedJsonRow
from node.documents.held_documents import DocumentOrigin, find_held_document, parse_reference
from node.errors import DocumentNotAnchored, DocumentNotFound, NotAuthorised
from node.issuing.outbox import BatchRow, DocumentState, Outbox, SubmissionRow
from node.receiving.inbox import InboxRow

#: a report lists at most this many events unless the caller says otherwise
DEFAULT_MAX_EVENTS: Final = 10_000
#: SQLite binds at most 32,766 variables per statement; stay well below
_CHUNK: Final = 500


@dataclass(frozen=True, slots=True)
class AuditedDocument:
    """A document the node holds, as the report names it."""

    target_hash: bytes
    root: bytes
    proof: tuple[bytes, ...]
    origin: DocumentOrigin
    receipt_id: str | None


class Anchoring(NamedTuple):
    """A batch as the index holds it, and the indexed event that anchored it."""

    batch: Batch
    event: ChainEvent


def utc_text(seconds: int) -> str:
    """``2026-11-24T14:00:00Z``."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _audited(wrapped: Any, origin: DocumentOrigin, receipt_id: str | None) -> AuditedDocument:
    """What a report needs of a wrapped document (``docex-wrapped/1``, parsed)."""
    return AuditedDocument(
        target_hash=bytes.fromhex(wrapped["targetHash"][2:]),
        root=bytes.fromhex(wrapped["batch"]["root"][2:]),
        proof=tuple(bytes.fromhex(sibling[2:]) for sibling in wrapped["batch"]["proof"]),
        origin=origin,
        receipt_id=receipt_id,
    )


class AuditReports:
    """Builds reports over one node's services (stateless)."""

    def __init__(
        self, *, country: str, base_url: str, database: Engine, outbox: Outbox, ledger: LedgerLink
    ) -> None:
        self._country = country
        self._base_url = base_url
        self._database = database
        self._outbox = outbox
        self._ledger = ledger

    # --- which documents ----------------------------------------------------------------

    def _one_document(self, principal: Principal, reference_text: str) -> list[AuditedDocument]:
        held = find_held_document(self._database, self._country, parse_reference(reference_text))
        if held is None:
            raise DocumentNotFound(
                f"this node holds no document {reference_text[:80]} (an audit report needs "
                "the document's Merkle proof: ask the node that issued or received it)"
            )
        if principal.role is Role.ISSUER:
            receipt = self._outbox.receipt(held.receipt_id) if held.receipt_id else None
            if receipt is None or receipt.user_id != principal.user_id:
                raise NotAuthorised("an issuer audits the documents it issued, not this one")
        return [_audited(held.wrapped, held.origin, held.receipt_id)]

    def _country_documents(
        self, principal: Principal, query: AuditQuery, index: Engine
    ) -> list[AuditedDocument]:
        country = query.subject
        with Session(index) as session:
            batches = select(Batch.root)
            if query.scope is ReportScope.ISSUER:
                batches = batches.where(Batch.issuer_country == country)
            else:
                batches = batches.where(
                    or_(
                        Batch.addressees == country,
                        Batch.addressees.like(f"{country},%"),
                        Batch.addressees.like(f"%,{country}"),
                        Batch.addressees.like(f"%,{country},%"),
                    )
                )
            in_period = batches
            if query.start is not None:
                in_period = in_period.where(Batch.timestamp >= query.start)
            if query.end is not None:
                in_period = in_period.where(Batch.timestamp < query.end)
            roots = set(session.scalars(in_period))
            events = select(DocumentEvent.target_hash, DocumentEvent.root)
            if query.start is not None:
                events = events.where(DocumentEvent.timestamp >= query.start)
            if query.end is not None:
                events = events.where(DocumentEvent.timestamp < query.end)
            touched = session.execute(events).all()
            event_roots = sorted({root for _, root in touched} - roots)
            country_roots: set[bytes] = set()
            for chunk in _chunks(event_roots):
                country_roots.update(session.scalars(batches.where(Batch.root.in_(chunk))))
            targets = sorted({target for target, root in touched if root in country_roots})
        documents: dict[bytes, AuditedDocument] = {}
        with Session(self._database) as session:
            issued = (
                select(SubmissionRow.id, WrappedJsonRow.wrapped_json, SubmissionRow.user_id)
                .join(BatchRow, SubmissionRow.batch_id == BatchRow.id)
                .join(WrappedJsonRow, WrappedJsonRow.receipt_id == SubmissionRow.id)
                .where(SubmissionRow.state == DocumentState.ANCHORED.value)
            )
            if principal.role is Role.ISSUER:
                issued = issued.where(SubmissionRow.user_id == principal.user_id)
            rows: list[Any] = []
            for chunk in _chunks(sorted(roots)):
                rows += session.execute(issued.where(BatchRow.root.in_(chunk))).all()
            for chunk in _chunks(targets):
                rows += session.execute(issued.where(SubmissionRow.target_hash.in_(chunk))).all()
            for receipt_id, wrapped_json, _ in rows:
                document = _audited(json.loads(wrapped_json), DocumentOrigin.ISSUED, receipt_id)
                documents[document.target_hash] = document
            if principal.role is not Role.ISSUER:
                received: list[Any] = []
                for chunk in _chunks(sorted(roots)):
                    received += session.scalars(
                        select(InboxRow.wrapped_json).where(InboxRow.batch_root.in_(chunk))
                    ).all()
                for chunk in _chunks(targets):
                    received += session.scalars(
                        select(InboxRow.wrapped_json).where(InboxRow.target_hash.in_(chunk))
                    ).all()
                for wrapped_json in received:
                    document = _audited(json.loads(wrapped_json), DocumentOrigin.RECEIVED, None)
                    documents.setdefault(document.target_hash, document)
        return list(documents.values())

    # --- the report ---------------------------------------------------------------------

    def build(
        self, principal: Principal, query: AuditQuery, *, max_events: int = DEFAULT_MAX_EVENTS
    ) -> dict[str, Any]:
        """The ``docex-audit/1`` report of ``query`` as ``principal`` may see it."""
        if principal.role not in (Role.AUDITOR, Role.ADMIN, Role.ISSUER):
            raise NotAuthorised("audit reports are for auditors, admins and issuers")
        ledger = self._ledger
        if query.scope is ReportScope.DOCUMENT:
            documents = self._one_document(principal, query.subject)
        else:
            documents = self._country_documents(principal, query, ledger.index)
        if len(documents) > max_events:
            raise self._too_large(len(documents), max_events)
        anchors, events = self._events(ledger.index, documents)
        for document in documents:
            if document.root not in anchors and query.scope is ReportScope.DOCUMENT:
                raise DocumentNotAnchored(
                    f"batch {to_hex(document.root)} is not anchored as far as this node's "
                    "index knows; try again once the index has caught up"
                )
        documents = [d for d in documents if d.root in anchors]
        documents.sort(
            key=lambda d: (
                anchors[d.root].batch.block_number,
                anchors[d.root].batch.log_index,
                d.target_hash,
            )
        )
        count = sum(1 + len(events.get(d.target_hash, ())) for d in documents)
        if count > max_events:
            raise self._too_large(count, max_events)
        return self._assemble(ledger, query, documents, anchors, events)

    @staticmethod
    def _too_large(count: int, max_events: int) -> AuditReportTooLarge:
        return AuditReportTooLarge(
            f"this report would list at least {count:,} events, more than this node's cap of "
            f"{max_events:,} (DOCEX_AUDIT_MAX_EVENTS): narrow the period with `from` and `to`"
        )

    @staticmethod
    def _events(
        index: Engine, documents: Sequence[AuditedDocument]
    ) -> tuple[dict[bytes, Anchoring], dict[bytes, list[tuple[ChainEvent, int]]]]:
        """Each root's anchoring and each document's own events (chain order, with their
        block time), from the index."""
        roots = sorted({d.root for d in documents})
        batches: dict[bytes, Batch] = {}
        events: dict[bytes, list[tuple[ChainEvent, int]]] = {}
        with Session(index, expire_on_commit=False) as session:
            for chunk in _chunks(roots):
                for batch in session.scalars(select(Batch).where(Batch.root.in_(chunk))):
                    batches[batch.root] = batch
            members = {
                d.target_hash: batches[d.root].issuer_member for d in documents if d.root in batches
            }
            document_events: list[DocumentEvent] = []
            for chunk in _chunks(sorted(members)):
                document_events += session.scalars(
                    select(DocumentEvent).where(DocumentEvent.target_hash.in_(chunk))
                ).all()
            # one issuer member's document: another member's hash collision is not ours
            document_events = [
                e for e in document_events if members.get(e.target_hash) == e.issuer_member
            ]
            positions = {(e.block_number, e.log_index) for e in document_events}
            positions |= {(b.block_number, b.log_index) for b in batches.values()}
            chain_events: dict[tuple[int, int], ChainEvent] = {}
            for chunk in _chunks(sorted(positions)):
                for row in session.scalars(
                    select(ChainEvent).where(
                        tuple_(ChainEvent.block_number, ChainEvent.log_index).in_(list(chunk))
                    )
                ):
                    chain_events[(row.block_number, row.log_index)] = row
            session.expunge_all()
        for event in sorted(document_events, key=lambda e: (e.block_number, e.log_index)):
            found = chain_events.get((event.block_number, event.log_index))
            if found is not None:
                events.setdefault(event.target_hash, []).append((found, event.timestamp))
        anchors = {
            root: Anchoring(batch, chain_events[(batch.block_number, batch.log_index)])
            for root, batch in batches.items()
            if (batch.block_number, batch.log_index) in chain_events
        }
        return anchors, events

    def _assemble(
        self,
        ledger: LedgerLink,
        query: AuditQuery,
        documents: Sequence[AuditedDocument],
        anchors: dict[bytes, Anchoring],
        events: dict[bytes, list[tuple[ChainEvent, int]]],
    ) -> dict[str, Any]:
        deployment = ledger.deployment
        genesis, deployed = ledger.chain.batch(
            [
                ("eth_getBlockByNumber", ["0x0", False]),
                ("eth_getBlockByNumber", [hex(deployment.deployed_block), False]),
            ]
        )
        with Session(ledger.index) as session:
            checkpoint = session.get(Checkpoint, ledger.indexer.stream)
            as_of = checkpoint.block_number if checkpoint is not None else deployment.deployed_block
        lines: list[dict[str, Any]] = []
        report_documents: list[dict[str, Any]] = []
        for document in documents:
            batch, anchored = anchors[document.root]
            own = events.get(document.target_hash, [])
            rows = [(anchored, batch.timestamp), *own]
            names = {row.name for row, _ in own}
            status = (
                "revoked"
                if "DocumentRevoked" in names
                else "superseded"
                if "DocumentSuperseded" in names
                else "valid"
            )
            target = to_hex(document.target_hash)
            first_line = len(lines) + 1
            for row, block_time in rows:
                lines.append(
                    {
                        "line": len(lines) + 1,
                        "targetHash": target,
                        "event": row.name,
                        "blockNumber": row.block_number,
                        "blockHash": to_hex(row.block_hash),
                        "blockTime": block_time,
                        "blockTimeUtc": utc_text(block_time),
                        "txHash": to_hex(row.tx_hash),
                        "logIndex": row.log_index,
                        "contract": row.contract,
                        "arguments": readable_arguments(json.loads(row.arguments)),
                    }
                )
            report_documents.append(
                {
                    "targetHash": target,
                    "batchRoot": to_hex(document.root),
                    "proof": [to_hex(sibling) for sibling in document.proof],
                    "documentType": batch.document_type,
                    "issuer": to_hex(batch.issuer),
                    "issuerMember": batch.issuer_member,
                    "issuerCountry": batch.issuer_country,
                    "addressees": batch.addressees.split(",") if batch.addressees else [],
                    "origin": document.origin.value,
                    "receiptId": document.receipt_id,
                    "status": status,
                    "link": f"{self._base_url}/v/{target}",
                    "lines": [first_line, len(lines)],
                }
            )
        return {
            "format": REPORT_FORMAT,
            "generatedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "generatedBy": {"country": self._country, "node": self._base_url},
            "query": {
                "document": query.subject if query.scope is ReportScope.DOCUMENT else None,
                "issuer": query.subject if query.scope is ReportScope.ISSUER else None,
                "addressee": query.subject if query.scope is ReportScope.ADDRESSEE else None,
                "from": query.period_from,
                "to": query.period_to,
            },
            "chain": {
                "chainId": deployment.chain_id,
                "genesisHash": str(genesis["hash"]).lower() if isinstance(genesis, dict) else None,
                "documentRegistry": deployment.document_registry.lower(),
                "consortiumRegistry": deployment.consortium_registry.lower(),
                "deployedBlock": deployment.deployed_block,
                "deployedBlockHash": (
                    str(deployed["hash"]).lower() if isinstance(deployed, dict) else None
                ),
                "asOfBlock": as_of,
            },
            "summary": {"documents": len(report_documents), "events": len(lines)},
            "documents": report_documents,
            "events": lines,
        }
