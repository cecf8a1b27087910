"""What happens to a document after it is issued: revoke, amend (supersede), use, reject,
and its provenance.

Each change is one DocumentRegistry transaction sent through the node's
:class:`~ledger.TransactionManager` under a journal key that names the intended effect
(``revoke/<chain>/<root>/<target hash>/<reason>``, ...): a retry of the same request waits
for the first transaction instead of sending a second. A revert is raised by the gas
estimate, before anything is signed or journalled, as the ledger's typed error (403, 404,
409 with the contract's reason).

A document is named by its receipt id (the ``id`` of ``POST /v1/documents``) when this
node issued it; a document another member issued, which this node has no receipt for, is
named by its target hash (``0x`` + 64 hex digits): the node takes it from its inbox (what
the receiver filed) or from the wrapped form the caller presents.

An amendment is a replacement document issued through the outbox like any other; once
both the original and the replacement are anchored, :meth:`DocumentLifecycle.complete_amendments`
sends ``supersede(original -> replacement)`` (run by :func:`follow_amendments`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from certificates import (
    CheckStatus,
    InvalidWrappedDocument,
    WrappedDocument,
    verify_offline,
    verify_proof,
)
from certificates.errors import DocexError
from certificates.hashes import to_hex
from certificates.json_types import JsonObject, JsonValue
from certificates.keccak import keccak256
from certificates.merkle import DocumentTerms
from ledger import (
    ConfirmedTransaction,
    ContractReverted,
    TxRequest,
    country_code,
    queries,
    use_request,
)
from ledger.index_schema import Batch, ChainEvent
from ledger.queries import BatchRecord
from node.access.roles import Role
from node.access.users import Principal
from node.chain.index_watch import IndexWatch
from node.chain.ledger_link import LedgerLink
from node.db.tables import AmendmentRow
from node.errors import (
    DocumentNotAnchored,
    DocumentNotCurrent,
    DocumentNotFound,
    NotAuthorised,
)
from node.issuing.outbox import (
    TARGET_HASH,
    DocumentState,
    NewDocument,
    Outbox,
    Receipt,
    StoredResponse,
)
from node.observability.metrics import NodeMetrics
from node.receiving.inbox import Inbox

_log = logging.getLogger("docex.node.lifecycle")

#: an amendment whose replacement never reached the outbox (a crash between the two
#: commits) is abandoned after this many seconds
ABANDON_AFTER: Final = 60.0


class AmendmentState(StrEnum):
    PENDING = "pending"  # waiting for both documents to be anchored
    SUPERSEDED = "superseded"  # supersede(original -> replacement) is mined
    FAILED = "failed"  # a document failed to anchor, or the chain refused the supersede


#: A document anchored without terms: no addressee can use or reject it on chain.
NO_TERMS: Final = DocumentTerms((), 1)


@dataclass(frozen=True, slots=True)
class AnchoredDocument:
    """A document as the DocumentRegistry names it: its batch root and proof."""

    target_hash: bytes
    root: bytes
    proof: tuple[bytes, ...]
    #: its own addressees and allowance, as committed beside its leaf (none: not usable)
    terms: DocumentTerms = NO_TERMS


@dataclass(frozen=True, slots=True)
class Amendment:
    original_id: str
    replacement_id: str
    state: AmendmentState
    tx_hash: str | None
    block_number: int | None
    error: str | None

    def to_json(self) -> JsonObject:
        return {
            "original": self.original_id,
            "replacement": self.replacement_id,
            "status": self.state.value,
            "txHash": self.tx_hash,
            "blockNumber": self.block_number,
            "error": self.error,
        }


def transaction_json(action: str, document_id: str, confirmed: ConfirmedTransaction) -> JsonObject:
    return {
        "id": document_id,
        "action": action,
        "txHash": confirmed.tx_hash,
        "blockNumber": confirmed.block_number,
    }


def _anchored_from_wrapped(wrapped_json: bytes) -> AnchoredDocument:
    wrapped = json.loads(wrapped_json)
    terms = wrapped["batch"].get("terms")
    return AnchoredDocument(
        target_hash=bytes.fromhex(wrapped["targetHash"][2:]),
        root=bytes.fromhex(wrapped["batch"]["root"][2:]),
        proof=tuple(bytes.fromhex(sibling[2:]) for sibling in wrapped["batch"]["proof"]),
        terms=NO_TERMS
        if terms is None
        else DocumentTerms(tuple(terms["addressees"]), int(terms["allowance"])),
    )


def _json_safe(value: Any) -> JsonValue:
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, bytes):
        return to_hex(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


class DocumentLifecycle:
    """Revoke, amend, use, reject; history and inbox. Stateless over the node's services."""

    def __init__(
        self,
        *,
        country: str,
        database: Engine,
        outbox: Outbox,
        inbox: Inbox,
        ledger: LedgerLink,
        metrics: NodeMetrics,
        wake_batcher: Callable[[], None],
        index_watch: IndexWatch,
        index_wait_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._country = country
        self._database = database
        self._outbox = outbox
        self._inbox = inbox
        self._ledger = ledger
        self._metrics = metrics
        self._wake_batcher = wake_batcher
        self._index_watch = index_watch
        self._index_wait_seconds = index_wait_seconds
        self._clock = clock

    # --- naming a document ------------------------------------------------------------

    def receipt_of(self, document_id: str) -> Receipt | None:
        """The receipt of a document this node issued, by receipt id or target hash."""
        return self._outbox.receipt_of(document_id)

    def _own_receipt(self, principal: Principal, document_id: str) -> Receipt:
        """A document this node issued, for its own issuer (404 unknown, 403 another's)."""
        receipt = self.receipt_of(document_id)
        if receipt is None:
            raise DocumentNotFound(f"this node issued no document {document_id}")
        if receipt.user_id != principal.user_id:
            raise NotAuthorised("this document belongs to another issuer")
        return receipt

    @staticmethod
    def _anchored(receipt: Receipt) -> AnchoredDocument:
        if receipt.state is not DocumentState.ANCHORED or receipt.wrapped_json is None:
            raise DocumentNotAnchored(
                f"document {receipt.id} is {receipt.state.value}: it is not anchored yet"
            )
        return _anchored_from_wrapped(receipt.wrapped_json)

    def _presented(self, document_id: str, presented: JsonObject | None) -> AnchoredDocument:
        """A document to use or reject: one issued here, or the wrapped form of another."""
        receipt = self.receipt_of(document_id)
        if receipt is not None:
            return self._anchored(receipt)
        if not TARGET_HASH.fullmatch(document_id):
            raise DocumentNotFound(f"this node issued no document {document_id}")
        if presented is None:
            # what the receiver filed was fetched by CID and verified before filing
            received = self._inbox.document(bytes.fromhex(document_id[2:]))
            if received is not None:
                return _anchored_from_wrapped(received.wrapped_json)
            raise DocumentNotFound(
                f"no document {document_id} in this node's outbox or inbox: send its wrapped "
                "form as `document`"
            )
        try:
            wrapped = WrappedDocument.from_json(presented)
        except InvalidWrappedDocument as error:
            error.path = f"/document{error.path or ''}"
            raise
        if to_hex(wrapped.target_hash) != document_id:
            raise InvalidWrappedDocument(
                f"the wrapped document's target hash is not {document_id}",
                path="/document/targetHash",
            )
        root = wrapped.batch.anchor.root
        if not verify_proof(wrapped.target_hash, wrapped.batch.proof, root):
            raise InvalidWrappedDocument(
                "the Merkle proof does not lead to the batch root", path="/document/batch/proof"
            )
        # what the officer acts on must be what its issuer signed for this deployment: an
        # altered content, signer or domain is refused, not recorded against the genuine hash
        for check in verify_offline(wrapped, self._ledger.domain).checks:
            if check.status is not CheckStatus.VALID:
                raise InvalidWrappedDocument(
                    f"the presented document fails {check.name}: {check.reason}", path="/document"
                )
        return AnchoredDocument(
            wrapped.target_hash,
            root,
            tuple(wrapped.batch.proof),
            wrapped.batch.terms or NO_TERMS,
        )

    def _addressed_batch(self, document: AnchoredDocument) -> BatchRecord:
        """The document's batch, which must be addressed to this node's country, and the
        document itself too: being an addressee of another document in the same batch
        gives no right to use or reject this one."""
        batch = queries.batch(self._ledger.index, document.root)
        if batch is None:
            raise DocumentNotAnchored(
                f"batch {to_hex(document.root)} is not anchored as far as this node's index knows"
            )
        country = self._country
        if country not in batch.addressees:
            raise NotAuthorised(
                f"this node's country {country} is not an addressee of the document "
                f"(addressees: {', '.join(batch.addressees)})"
            )
        # the document's own addressees, as its issuer committed them beside its leaf (the
        # chain refuses a use or rejection that does not prove them)
        own = document.terms.addressees
        if country not in own:
            raise NotAuthorised(
                f"this node's country {country} is not an addressee of this document "
                f"(its addressees: {', '.join(own) or 'none'}), only of another document "
                "in its batch"
            )
        return batch

    def _send(self, request: TxRequest) -> ConfirmedTransaction:
        ledger = self._ledger
        ledger.manager.submit(ledger.issuer.address, request)
        confirmed = ledger.manager.wait(request.key)
        # read-your-writes: answer once this node's verdicts show the change (bounded:
        # past it the change is mined all the same and shows at the index's next pass)
        self._index_watch.wait_for(confirmed.block_number, self._index_wait_seconds)
        return confirmed

    def _record_with_reason(
        self,
        action: str,
        outcome: str,
        document_id: str,
        document: AnchoredDocument,
        reason_code: int,
        *,
        function: str | None = None,
    ) -> JsonObject:
        """Send ``function`` (default: ``action``) of the DocumentRegistry for a document
        and a reason code (revoke, reject) under its journal key; the confirmed result."""
        function = function or action
        # a rejection proves the document's own addressees (its terms) beside its leaf
        terms = (
            ([country_code(c) for c in document.terms.addressees], document.terms.allowance)
            if function == "recordRejection"
            else ()
        )
        request = self._ledger.documents.request(
            self._key(action, document, reason_code),
            function,
            document.root,
            document.target_hash,
            list(document.proof),
            *terms,
            reason_code,
        )
        confirmed = self._send(request)
        return {
            **transaction_json(outcome, document_id, confirmed),
            "targetHash": to_hex(document.target_hash),
            "reasonCode": reason_code,
        }

    def _key(self, action: str, document: AnchoredDocument, *parts: object) -> str:
        chain_id = self._ledger.deployment.chain_id
        tail = "".join(f"/{part}" for part in parts)
        return f"{action}/{chain_id}/{document.root.hex()}/{document.target_hash.hex()}{tail}"

    # --- the issuer's actions -------------------------------------------------------------

    def revoke(self, principal: Principal, document_id: str, reason_code: int) -> JsonObject:
        """Revoke a document the caller issued (final)."""
        document = self._anchored(self._own_receipt(principal, document_id))
        return self._record_with_reason("revoke", "revoked", document_id, document, reason_code)

    def amend(
        self, principal: Principal, document_id: str, replacement: NewDocument
    ) -> tuple[StoredResponse, str]:
        """Accept ``replacement`` into the outbox as the amendment of ``document_id``; the
        response and the replacement's receipt id."""
        original = self._own_receipt(principal, document_id)
        if replacement.document_type != original.document_type:
            raise NotAuthorised(
                f"an amendment of a {original.document_type} document is a "
                f"{original.document_type} document, not {replacement.document_type}",
                path="/documentType",
            )
        if original.state is DocumentState.FAILED:
            raise DocumentNotCurrent(f"document {original.id} failed to anchor")
        if original.state is DocumentState.ANCHORED:
            anchored = self._anchored(original)
            status = queries.document_status(
                self._ledger.index, anchored.target_hash, root=anchored.root
            )
            if status.state in ("revoked", "superseded"):
                raise DocumentNotCurrent(f"document {original.id} is {status.state}")
        with Session(self._database) as session:
            previous = session.get(AmendmentRow, original.id)
            if previous is not None and previous.state != AmendmentState.FAILED.value:
                raise DocumentNotCurrent(
                    f"document {original.id} is already amended by {previous.replacement_id}"
                )

        replacement_ids: list[str] = []

        def respond(ids: list[str]) -> StoredResponse:
            replacement_ids.append(ids[0])
            # committed before the replacement itself: an amendment row without its
            # replacement is harmless (abandoned later); the reverse would never supersede
            self._record_amendment(original.id, ids[0], principal.user_id)
            body = {
                "receipts": [{"id": ids[0], "status": "pending", "url": f"/v1/receipts/{ids[0]}"}],
                "amendment": {"original": original.id, "replacement": ids[0], "status": "pending"},
            }
            return StoredResponse(202, json.dumps(body, separators=(",", ":")).encode())

        stored = self._outbox.enqueue(principal.user_id, [replacement], respond)
        self._metrics.documents_accepted.inc()
        self._wake_batcher()
        return stored, replacement_ids[0]

    def _record_amendment(self, original_id: str, replacement_id: str, user_id: int) -> None:
        with Session(self._database) as session:
            row = session.get(AmendmentRow, original_id)
            if row is None:
                row = AmendmentRow(original_id=original_id)
                session.add(row)
            row.replacement_id = replacement_id
            row.user_id = user_id
            row.created_at = self._clock()
            row.state = AmendmentState.PENDING.value
            row.tx_hash = row.block_number = row.error = None
            session.commit()

    def amendment_of(self, original_id: str) -> Amendment | None:
        with Session(self._database) as session:
            row = session.get(AmendmentRow, original_id)
            return None if row is None else _amendment(row)

    def complete_amendments(self) -> int:
        """Send ``supersede`` for every amendment whose two documents are anchored; return
        how many were completed. A chain refusal marks the amendment failed with its reason."""
        with Session(self._database) as session:
            pending = [
                _amendment(row)
                for row in session.scalars(
                    select(AmendmentRow).where(AmendmentRow.state == AmendmentState.PENDING.value)
                )
            ]
        completed = 0
        for amendment in pending:
            completed += self._complete(amendment)
        return completed

    def _complete(self, amendment: Amendment) -> int:
        outbox = self._outbox
        original = outbox.receipt(amendment.original_id)
        replacement = outbox.receipt(amendment.replacement_id)
        if original is None or replacement is None:
            created = self._created_at(amendment.original_id)
            if self._clock() - created > ABANDON_AFTER:
                self._finish(amendment, AmendmentState.FAILED, error="replacement never stored")
            return 0
        if DocumentState.FAILED in (original.state, replacement.state):
            self._finish(amendment, AmendmentState.FAILED, error="a document failed to anchor")
            return 0
        if DocumentState.ANCHORED is not original.state or (
            DocumentState.ANCHORED is not replacement.state
        ):
            return 0
        old, new = self._anchored(original), self._anchored(replacement)
        ledger = self._ledger
        request = ledger.documents.request(
            self._key("supersede", old, new.root.hex(), new.target_hash.hex()),
            "supersede",
            old.root,
            old.target_hash,
            list(old.proof),
            new.root,
            new.target_hash,
            list(new.proof),
        )
        try:
            confirmed = self._send(request)
        except ContractReverted as error:
            self._finish(amendment, AmendmentState.FAILED, error=f"{error.code}: {error}")
            return 0
        self._finish(
            amendment,
            AmendmentState.SUPERSEDED,
            tx_hash=confirmed.tx_hash,
            block_number=confirmed.block_number,
        )
        return 1

    def _created_at(self, original_id: str) -> float:
        with Session(self._database) as session:
            row = session.get(AmendmentRow, original_id)
            return row.created_at if row is not None else 0.0

    def _finish(
        self,
        amendment: Amendment,
        state: AmendmentState,
        *,
        tx_hash: str | None = None,
        block_number: int | None = None,
        error: str | None = None,
    ) -> None:
        with Session(self._database) as session:
            row = session.get(AmendmentRow, amendment.original_id)
            if row is None:
                return
            row.state = state.value
            row.tx_hash = tx_hash
            row.block_number = block_number
            row.error = None if error is None else error[:2000]
            session.commit()
        if error is not None:
            _log.error(
                "amendment failed", extra={"original": amendment.original_id, "error": error}
            )

    # --- the addressee's actions --------------------------------------------------------

    def record_use(
        self,
        document_id: str,
        declaration_reference: str,
        quantity: int,
        allowed_quantity: int | None,
        presented: JsonObject | None,
    ) -> JsonObject:
        """Record that this node's administration used the document against a declaration.

        The journal key names the document, the declaration and the quantity: the same
        request again returns the first transaction, never a second use."""
        document = self._presented(document_id, presented)
        self._addressed_batch(document)
        ledger = self._ledger
        declaration_ref = keccak256(declaration_reference.encode("utf-8"))
        # the allowance is the one the issuer committed; a different one given here is
        # passed on and refused by the chain (InvalidTermsProof)
        terms = document.terms
        if allowed_quantity is not None and allowed_quantity != terms.allowance:
            terms = DocumentTerms(terms.addressees, allowed_quantity)
        request = use_request(
            ledger.documents,
            self._key("use", document, declaration_ref.hex(), quantity),
            root=document.root,
            target_hash=document.target_hash,
            proof=document.proof,
            terms=terms,
            declaration_ref=declaration_ref,
            quantity=quantity,
        )
        confirmed = self._send(request)
        return {
            **transaction_json("used", document_id, confirmed),
            "targetHash": to_hex(document.target_hash),
            "declarationRef": to_hex(declaration_ref),
            "quantity": quantity,
        }

    def record_rejection(
        self, document_id: str, reason_code: int, presented: JsonObject | None
    ) -> JsonObject:
        """Record that this node's administration rejected the document (the reason flows
        back to the issuer as an on-chain event)."""
        document = self._presented(document_id, presented)
        self._addressed_batch(document)
        return self._record_with_reason(
            "reject", "rejected", document_id, document, reason_code, function="recordRejection"
        )

    # --- reading ----------------------------------------------------------------------------

    def history(self, principal: Principal, document_id: str) -> JsonObject:
        """The document's on-chain events in chain order, with block, time and transaction;
        an issuer reads only its own documents' (:meth:`provenance` for everyone else)."""
        if principal.role is Role.ISSUER:
            receipt = self.receipt_of(document_id)
            if receipt is None:
                raise DocumentNotFound(f"this node issued no document {document_id}")
            if receipt.user_id != principal.user_id:
                raise NotAuthorised("this document belongs to another issuer")
        return self.provenance(document_id)

    def provenance(self, document_id: str) -> JsonObject:
        """The document's on-chain events in chain order, with block, time and transaction,
        for any reader (the chain's events are the consortium's public record)."""
        receipt = self.receipt_of(document_id)
        body: dict[str, Any] = {"id": document_id}
        if receipt is not None:
            body["receipt"] = receipt.id
            amendment = self.amendment_of(receipt.id)
            if amendment is not None:
                body["amendment"] = amendment.to_json()
            if receipt.state is not DocumentState.ANCHORED or receipt.target_hash is None:
                body.update({"status": receipt.state.value, "events": []})
                if receipt.state is DocumentState.BATCHED:
                    body["status"] = "pending"
                return body
            target_hash, root = receipt.target_hash, receipt.batch_root
        elif TARGET_HASH.fullmatch(document_id):
            target_hash = bytes.fromhex(document_id[2:])
            received = self._inbox.document(target_hash)
            root = received.batch_root if received is not None else None
        else:
            raise DocumentNotFound(f"no document {document_id}")
        ledger = self._ledger
        entries = queries.document_history(ledger.index, target_hash)
        if root is not None and not any(e.event == "BatchAnchored" for e in entries):
            # a document with no events of its own: its history is its batch's anchoring
            entries = _batch_anchoring(ledger, root) + entries
        status = queries.document_status(ledger.index, target_hash, root=root)
        if not entries and receipt is None:
            raise DocumentNotFound(f"the chain has no events of document {document_id}")
        times = self._block_times(ledger, entries)
        body.update(
            {
                "targetHash": to_hex(target_hash),
                "status": status.state,
                "events": [
                    {
                        "event": entry.event,
                        "blockNumber": entry.block_number,
                        "logIndex": entry.log_index,
                        "timestamp": times.get(entry.block_number),
                        "txHash": to_hex(entry.tx_hash),
                        "arguments": _json_safe(entry.arguments),
                    }
                    for entry in entries
                ],
            }
        )
        if status.superseded_by is not None:
            successor, successor_root = status.superseded_by
            body["supersededBy"] = {
                "targetHash": to_hex(successor),
                "root": to_hex(successor_root),
                "receipt": self._outbox.receipt_id_of(successor),
            }
        return body

    @staticmethod
    def _block_times(ledger: LedgerLink, entries: list[queries.HistoryEntry]) -> dict[int, int]:
        """Each event's block time: from the event when it carries one, else the block."""
        times: dict[int, int] = {}
        for entry in entries:
            stamp = entry.arguments.get("timestamp")
            if isinstance(stamp, int):
                times[entry.block_number] = stamp
        for number in {e.block_number for e in entries} - set(times):
            block = ledger.chain.request("eth_getBlockByNumber", [hex(number), False])
            if isinstance(block, dict) and "timestamp" in block:
                times[number] = int(str(block["timestamp"]), 16)
        return times


def _batch_anchoring(ledger: LedgerLink, root: bytes) -> list[queries.HistoryEntry]:
    """The indexed event that anchored batch ``root`` (empty while the index lacks it)."""
    with Session(ledger.index) as session:
        batch = session.get(Batch, root)
        if batch is None:
            return []
        rows = session.scalars(
            select(ChainEvent).where(
                ChainEvent.block_number == batch.block_number,
                ChainEvent.log_index == batch.log_index,
            )
        ).all()
        return [
            queries.HistoryEntry(
                r.block_number, r.log_index, r.tx_hash, r.name, json.loads(r.arguments)
            )
            for r in rows
        ]


def _amendment(row: AmendmentRow) -> Amendment:
    return Amendment(
        original_id=row.original_id,
        replacement_id=row.replacement_id,
        state=AmendmentState(row.state),
        tx_hash=row.tx_hash,
        block_number=row.block_number,
        error=row.error,
    )


def follow_amendments(
    lifecycle: DocumentLifecycle, stop: threading.Event, poll: float = 0.5
) -> None:
    """Complete amendments every ``poll`` seconds until ``stop``; failures are retried."""
    while not stop.is_set():
        try:
            lifecycle.complete_amendments()
        except DocexError as error:
            _log.warning("amendments will retry", extra={"error": str(error)})
        except Exception:
            _log.exception("amendments failed; retrying")
        stop.wait(poll)
