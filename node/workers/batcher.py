"""The batcher: closes batches of accepted documents by size or age, wraps, stores, anchors.

One batch goes through three durable steps (see :mod:`node.outbox`):

1. *claim*: up to ``batch_size`` pending documents of one type become an open batch,
   when that many are waiting or the oldest has waited ``max_latency`` seconds;
2. *sign*: the documents are salted, hashed, put in a Merkle tree whose root the
   node's issuer key signs (``certificates.BatchBuilder``); each wrapped document goes
   into the content store (a confidential one sealed for this node's member and its
   addressees' members, :mod:`node.confidential`); root, wrapped documents and CIDs are
   committed;
3. *anchor*: the root is anchored through the ledger's transaction manager under the
   key ``anchor/<chain>/<batch>`` and the receipts completed once it is mined.

After a crash, :meth:`Batcher.resume` redoes step 2 for open batches (nothing was
sent for them) and step 3 for signed ones (the journal sends their transaction once).

:meth:`Batcher.run` (the ``docex run`` thread) pipelines the steps over three threads,
so that batch N+1 is wrapped and signed (CPU, under the GIL) while batch N's content is
written and synced (file-system time, outside the GIL) and batch N-1's anchor is mined:

- *signer* (the calling thread): claims a due batch, salts, hashes and signs it, in
  memory only;
- *storer*: puts the wrapped documents in the content store, made durable as a group,
  then commits the signed batch (root, CIDs, wrapped documents): the order of step 2;
- *anchorer*: sends the anchors of every signed batch waiting (several may share a
  block), then waits for each and completes its receipts.

Hand-overs are bounded queues of one batch: a slow stage holds the ones before it back
instead of piling up claimed batches. Nothing a later stage needs is kept only in a
queue: a batch dropped from the pipeline by a stop or a crash is still open or signed in
the outbox and finished by :meth:`Batcher.resume` on the next start.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from adapters import ContentStore, EmbeddedContentStore
from certificates import BatchBuilder, DocexError, SignedBatch
from certificates.json_types import JsonObject
from ledger import ContractReverted, LedgerError
from node.confidential import MemberDirectory, seal_wrapped
from node.ledger_link import LedgerLink
from node.metrics import NodeMetrics
from node.outbox import BatchState, ClaimedBatch, Outbox, SignedDocument

_log = logging.getLogger("docex.node.batcher")

#: how long a failing stage waits before it tries the same batch again
_RETRY_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class _Issuable:
    """An accepted document as ``BatchBuilder`` takes it (it passed its schema at 202)."""

    type_id: str
    data: JsonObject
    addressees: tuple[str, ...]

    def addressee_countries(self) -> tuple[str, ...]:
        return self.addressees


@dataclass(frozen=True, slots=True)
class _SignedInMemory:
    """A claimed batch wrapped and signed, not stored yet (the signer -> storer hand-over)."""

    batch: ClaimedBatch
    signed: SignedBatch


@dataclass(frozen=True, slots=True)
class _ToAnchor:
    """A batch committed as signed (the storer -> anchorer hand-over)."""

    batch: ClaimedBatch
    root: bytes
    addressees: tuple[str, ...]


class Batcher:
    def __init__(
        self,
        outbox: Outbox,
        store: ContentStore,
        ledger: LedgerLink,
        metrics: NodeMetrics,
        *,
        batch_size: int,
        max_latency: float,
        country: str = "",
        members: MemberDirectory | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.outbox = outbox
        self.store = store
        self.ledger = ledger
        self.metrics = metrics
        self.batch_size = batch_size
        self.max_latency = max_latency
        self.country = country
        self.members = members or MemberDirectory(())
        self._clock = clock
        self._wake = threading.Event()

    def wake(self) -> None:
        """Look for a due batch now (called when documents are accepted)."""
        self._wake.set()

    def run_once(self, *, force: bool = False) -> int:
        """Finish unfinished batches, then close and anchor every due batch; return the
        number of documents anchored. ``force`` closes batches whatever their age."""
        anchored = self.resume()
        while (
            batch_id := self.outbox.claim_batch(self.batch_size, self.max_latency, force=force)
        ) is not None:
            anchored += self._process(batch_id)
        return anchored

    def resume(self) -> int:
        """Finish every batch a previous run left open or signed."""
        return sum(self._process(batch_id) for batch_id in self.outbox.unfinished_batches())

    def run(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set; a failing chain is retried, never fatal."""
        poll = min(self.max_latency / 4, 0.25)
        while not stop.is_set():
            try:
                self.run_once()
            except (LedgerError, DocexError) as error:
                _log.warning("batcher will retry", extra={"error": str(error)})
                stop.wait(1.0)
            except Exception:
                _log.exception("batcher failed; retrying")
                stop.wait(1.0)
            self._wake.wait(poll)
            self._wake.clear()

    def _process(self, batch_id: str) -> int:
        batch = self.outbox.batch(batch_id)
        if batch.state is BatchState.OPEN:
            self._sign_and_store(batch)
            batch = self.outbox.batch(batch_id)
        if batch.state is not BatchState.SIGNED or batch.root is None:
            return 0
        try:
            confirmed = self.ledger.anchor(
                batch.id, batch.root, batch.document_type, len(batch.documents), batch.addressees
            )
        except ContractReverted as error:
            # the chain refuses this batch for good (issuer not authorised, ...): say so
            _log.error("batch refused on chain", extra={"batch": batch.id, "error": str(error)})
            self.outbox.record_failed(batch.id, f"{error.code}: {error}")
            return 0
        self.outbox.record_anchored(batch.id, confirmed.tx_hash, confirmed.block_number)
        receipt = self.outbox.receipt(batch.documents[0][0])
        if receipt is not None:
            self.metrics.anchoring_latency.observe(max(self._clock() - receipt.accepted_at, 0.0))
        self.metrics.documents_anchored.inc(len(batch.documents))
        self.metrics.batch_size.observe(len(batch.documents))
        _log.info(
            "batch anchored",
            extra={
                "batch": batch.id,
                "documents": len(batch.documents),
                "block": confirmed.block_number,
                "tx": confirmed.tx_hash,
            },
        )
        return len(batch.documents)

    def _sign_and_store(self, batch: ClaimedBatch) -> None:
        builder = BatchBuilder()
        for _, document_json, addressees in batch.documents:
            data: JsonObject = json.loads(document_json)
            builder.add(_Issuable(batch.document_type, data, addressees))
        signed = builder.sign(signing_key=self.ledger.signing_key, domain=self.ledger.domain)
        stored: list[SignedDocument] = []
        # the embedded store makes the whole batch durable at once (two file-system
        # syncs, not two fsyncs per document), before the CIDs are committed below; a
        # crash before then leaves the batch open and it is signed and stored again
        grouped = (
            self.store.grouped_writes()
            if isinstance(self.store, EmbeddedContentStore)
            else contextlib.nullcontext()
        )
        with grouped:
            for (receipt_id, _, addressees), wrapped in zip(batch.documents, signed, strict=True):
                raw = json.dumps(
                    wrapped.to_json(), ensure_ascii=False, separators=(",", ":")
                ).encode()
                content = raw
                if receipt_id in batch.confidential:
                    recipients = self.members.recipients((self.country, *addressees))
                    content = seal_wrapped(raw, signed.anchor.root, wrapped.target_hash, recipients)
                cid = self.store.put(content)
                stored.append(SignedDocument(receipt_id, wrapped.target_hash, str(cid), raw))
        self.outbox.record_signed(batch.id, signed.anchor.root, signed.anchor.addressees, stored)
