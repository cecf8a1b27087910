"""The batcher: closes batches of accepted documents by size or age, wraps, stores, anchors.

One batch goes through three durable steps (see :mod:`node.issuing.outbox`):

1. *claim*: up to ``batch_size`` pending documents of one type become an open batch,
   when that many are waiting or the oldest has waited ``max_latency`` seconds;
2. *sign*: the documents are salted, hashed, put in a Merkle tree whose root the
   node's issuer key signs (``certificates.BatchBuilder``, in
   :mod:`node.issuing.wrapping_process`); each wrapped document goes
   into the content store (a confidential one sealed for this node's member and its
   addressees' members, :mod:`node.consortium.member_directory`); root, wrapped documents
   and CIDs are
   committed;
3. *anchor*: the root is anchored through the ledger's transaction manager under the
   key ``anchor/<chain>/<batch>`` and the receipts completed once it is mined.

After a crash, :meth:`Batcher.resume` redoes step 2 for open batches (nothing was
sent for them) and step 3 for signed ones (the journal sends their transaction once).

:meth:`Batcher.run` (the ``docex run`` thread) pipelines the steps over four threads,
so that batch N+1 is wrapped and signed (CPU, in a child process) while batch N's content
is written and synced (file-system time, outside the GIL) and the anchors of the batches
before it are mined:

- *signer* (the calling thread): claims a due batch and has it salted, hashed and
  signed by the wrapping process (a child process: that work is pure CPU, and here it
  would take turns with the API on one core), in memory only;
- *storer*: puts the wrapped documents in the content store, made durable as a group
  (the embedded store's: by the wrapping process too, whose file-system calls would
  otherwise each give the API's thread's GIL away), then commits the signed batch
  (root, CIDs, wrapped documents): the order of step 2;
- *anchorer*: sends each signed batch's anchor as soon as it comes, without waiting
  for the ones before it to be mined (on a chain with a block period, a batch waiting
  for the previous anchor's block would then wait for a block of its own: up to two
  periods more), and hands it to
- *confirmer*: waits for each sent anchor, in sending order, and completes its receipts.

Hand-overs are bounded queues (one batch to the storer, four signed ones to the
anchorer, sixteen sent anchors to the confirmer): a slow stage holds the ones before it
back instead of piling up claimed batches. A failing step (chain down, disk full) is
retried on the same batch every second. Nothing a later stage needs is kept only in a
queue: a batch dropped from the pipeline by a stop or a crash is still open or signed
in the outbox and finished by :meth:`Batcher.resume` on the next start.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from adapters import ContentStore, EmbeddedContentStore
from certificates import DocexError
from ledger import ContractReverted, LedgerError
from ledger.process_records import PidFile
from node.chain.ledger_link import LedgerLink
from node.consortium.member_directory import MemberDirectory, seal_wrapped
from node.issuing.outbox import BatchState, ClaimedBatch, Outbox, SignedDocument
from node.issuing.wrapping_process import (
    BatchToWrap,
    ContentToStore,
    WrappedBatch,
    WrappingProcess,
    put_together,
    wrap_and_sign,
)
from node.observability.metrics import NodeMetrics

_log = logging.getLogger("docex.node.batcher")

T = TypeVar("T")

#: anchors sent and not yet mined the anchorer may have before it waits for the confirmer
_SENT_IN_FLIGHT = 16
#: how long a failing stage waits before it tries the same batch again
_RETRY_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class _WrappedForStore:
    receipt_id: str
    target_hash: bytes
    #: the wrapped document's JSON (the issuer's receipt carries it)
    wrapped_json: bytes
    #: what goes into the content store: the wrapped JSON, or its envelope if confidential
    content: bytes


@dataclass(frozen=True, slots=True)
class _SignedInMemory:
    """A claimed batch wrapped and signed, not stored yet (the signer -> storer hand-over)."""

    batch: ClaimedBatch
    root: bytes
    addressees: tuple[str, ...]
    documents: list[_WrappedForStore]


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
        wrapping_pid_file: PidFile | None = None,
    ) -> None:
        self.outbox = outbox
        self.store = store
        self.ledger = ledger
        self.metrics = metrics
        self.batch_size = batch_size
        self.max_latency = max_latency
        self.country = country
        self.members = members or MemberDirectory(tuple)
        self._clock = clock
        self._wake = threading.Event()
        #: where the wrapping child's PID is recorded (``docex run``), if anywhere
        self.wrapping_pid_file = wrapping_pid_file

    def wake(self) -> None:
        """Look for a due batch now (called when documents are accepted)."""
        self._wake.set()

    def run_once(self, *, force: bool = False) -> int:
        """Finish unfinished batches, then close and anchor every due batch, one after
        the other; return the number of documents anchored. ``force`` closes batches
        whatever their age."""
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
        """Finish what a previous run left, then run the three-stage pipeline (module
        docstring) until ``stop`` is set; a failing chain or disk is retried, never fatal."""
        if self._until_done(stop, self.resume) is None:
            return
        to_store: queue.Queue[_SignedInMemory] = queue.Queue(maxsize=1)
        # signed batches are durable in the outbox: several may wait for their anchor
        to_anchor: queue.Queue[_ToAnchor] = queue.Queue(maxsize=4)
        wrapping = WrappingProcess(self.wrapping_pid_file)
        stages = [
            threading.Thread(
                target=self._store_stage,
                args=(to_store, to_anchor, stop, wrapping),
                name="docex-batcher-store",
                daemon=True,
            ),
            threading.Thread(
                target=self._anchor_stage,
                args=(to_anchor, stop),
                name="docex-batcher-anchor",
                daemon=True,
            ),
        ]
        for stage in stages:
            stage.start()
        try:
            self._until_done(stop, wrapping.start)
            self._sign_stage(to_store, stop, wrapping)
        finally:
            for stage in stages:
                stage.join()
            wrapping.close()

    # --- the pipeline's stages ---------------------------------------------------------

    def _sign_stage(
        self,
        to_store: queue.Queue[_SignedInMemory],
        stop: threading.Event,
        wrapping: WrappingProcess,
    ) -> None:
        poll = min(self.max_latency / 4, 0.25)
        while not stop.is_set():
            batch_id = self._until_done(
                stop, lambda: self.outbox.claim_batch(self.batch_size, self.max_latency)
            )
            if batch_id is None:
                self._wake.wait(poll)
                self._wake.clear()
                continue
            work = self._until_done(stop, partial(self._claimed, batch_id, wrapping))
            if work is None or not _hand_over(to_store, work, stop):
                return  # stopping: the batch stays open in the outbox for resume()

    def _store_stage(
        self,
        to_store: queue.Queue[_SignedInMemory],
        to_anchor: queue.Queue[_ToAnchor],
        stop: threading.Event,
        wrapping: WrappingProcess,
    ) -> None:
        while (work := _take(to_store, stop)) is not None:
            signed = self._until_done(stop, partial(self._store, work, wrapping))
            if signed is None or not _hand_over(to_anchor, signed, stop):
                return  # stopping: open or signed in the outbox, resume() finishes it

    def _anchor_stage(self, to_anchor: queue.Queue[_ToAnchor], stop: threading.Event) -> None:
        """Send each anchor as it comes; the confirmer waits for them, in sending order."""
        to_confirm: queue.Queue[_ToAnchor] = queue.Queue(maxsize=_SENT_IN_FLIGHT)
        confirmer = threading.Thread(
            target=self._confirm_stage,
            args=(to_confirm, stop),
            name="docex-batcher-confirm",
            daemon=True,
        )
        confirmer.start()
        try:
            while (item := _take(to_anchor, stop)) is not None:
                outcome = self._until_done(stop, partial(self._send, item))
                if outcome is None:
                    return  # stopping: signed in the outbox, resume() anchors it
                if outcome and not _hand_over(to_confirm, item, stop):
                    return  # stopping: sent and journalled, resume() waits for it
        finally:
            confirmer.join()

    def _confirm_stage(self, to_confirm: queue.Queue[_ToAnchor], stop: threading.Event) -> None:
        while (item := _take(to_confirm, stop)) is not None:
            if self._until_done(stop, partial(self._confirm, item)) is None:
                return

    def _until_done(self, stop: threading.Event, step: Callable[[], T]) -> T | None:
        """``step()``, tried again every second while it fails, until ``stop``."""
        while not stop.is_set():
            try:
                return step()
            except (LedgerError, DocexError, OSError) as error:
                _log.warning("batcher will retry", extra={"error": str(error)})
            except Exception:
                _log.exception("batcher failed; retrying")
            stop.wait(_RETRY_SECONDS)
        return None

    # --- the steps -------------------------------------------------------------------

    def _process(self, batch_id: str) -> int:
        """Take one batch from wherever it stopped to anchored (the sequential path)."""
        batch = self.outbox.batch(batch_id)
        if batch.state is BatchState.OPEN:
            item = self._store(self._sign(batch))
        elif batch.state is BatchState.SIGNED and batch.root is not None:
            item = _ToAnchor(batch, batch.root, batch.addressees)
        else:
            return 0
        if not self._send(item):
            return 0
        return self._confirm(item)

    def _sign_and_store(self, batch: ClaimedBatch) -> None:
        """Step 2 of an open batch: wrapped, signed, stored, committed as signed."""
        self._store(self._sign(batch))

    def _claimed(self, batch_id: str, wrapping: WrappingProcess) -> _SignedInMemory:
        return self._sign(self.outbox.batch(batch_id), wrapping.wrap)

    def _sign(
        self,
        batch: ClaimedBatch,
        wrap: Callable[[BatchToWrap], WrappedBatch] = wrap_and_sign,
    ) -> _SignedInMemory:
        """Salt, hash, sign and serialise (``wrap``: here, or in the wrapping process),
        then seal the confidential ones; no I/O."""
        wrapped = wrap(
            BatchToWrap(
                batch.document_type,
                tuple(
                    (document_json, addressees, allowance)
                    for _, document_json, addressees, allowance in batch.documents
                ),
                self.ledger.signing_key,
                self.ledger.domain,
            )
        )
        documents: list[_WrappedForStore] = []
        for (receipt_id, _, addressees, _), (target_hash, raw) in zip(
            batch.documents, wrapped.documents, strict=True
        ):
            content = raw
            if receipt_id in batch.confidential:
                recipients = self.members.recipients((self.country, *addressees))
                content = seal_wrapped(raw, wrapped.root, target_hash, recipients)
            documents.append(_WrappedForStore(receipt_id, target_hash, raw, content))
        return _SignedInMemory(batch, wrapped.root, wrapped.addressees, documents)

    def _store(self, work: _SignedInMemory, wrapping: WrappingProcess | None = None) -> _ToAnchor:
        """Put the batch's content, durable as a group, then commit the batch as signed
        (the embedded store's writes: in the wrapping process when there is one)."""
        # the embedded store makes the whole batch durable at once (one transaction of
        # its pack, not a file per document), before the CIDs are committed below; a
        # crash before then leaves the batch open and it is signed and stored again
        contents = tuple(document.content for document in work.documents)
        cids: tuple[str, ...]
        if isinstance(self.store, EmbeddedContentStore) and wrapping is not None:
            cids = wrapping.store(ContentToStore.of(self.store, contents))
        elif isinstance(self.store, EmbeddedContentStore):
            cids = put_together(self.store, contents)
        else:
            cids = tuple(str(self.store.put(content)) for content in contents)
        stored = [
            SignedDocument(document.receipt_id, document.target_hash, cid, document.wrapped_json)
            for document, cid in zip(work.documents, cids, strict=True)
        ]
        self.outbox.record_signed(work.batch.id, work.root, work.addressees, stored)
        return _ToAnchor(work.batch, work.root, work.addressees)

    def _send(self, item: _ToAnchor) -> bool:
        """Send the batch's anchor (once, journalled); False if the chain refuses it."""
        batch = item.batch
        try:
            self.ledger.send_anchor(
                batch.id, item.root, batch.document_type, len(batch.documents), item.addressees
            )
        except ContractReverted as error:
            self._refused(batch, error)
            return False
        return True

    def _confirm(self, item: _ToAnchor) -> int:
        """Wait for the sent anchor to be mined; complete the receipts; documents anchored."""
        batch = item.batch
        try:
            confirmed = self.ledger.wait_for_anchor(batch.id)
        except ContractReverted as error:
            self._refused(batch, error)
            return 0
        self.outbox.record_anchored(batch.id, confirmed.tx_hash, confirmed.block_number)
        if batch.oldest_accepted_at is not None:
            self.metrics.anchoring_latency.observe(
                max(self._clock() - batch.oldest_accepted_at, 0.0)
            )
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

    def _refused(self, batch: ClaimedBatch, error: ContractReverted) -> None:
        # the chain refuses this batch for good (issuer not authorised, ...): say so
        _log.error("batch refused on chain", extra={"batch": batch.id, "error": str(error)})
        self.outbox.record_failed(batch.id, f"{error.code}: {error}")


def _hand_over(to: queue.Queue[T], item: T, stop: threading.Event) -> bool:
    """Put ``item`` on the next stage's queue, waiting while it is full; False on stop."""
    while not stop.is_set():
        try:
            to.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _take(source: queue.Queue[T], stop: threading.Event) -> T | None:
    """The next item of a stage's queue, or None once ``stop`` is set."""
    while not stop.is_set():
        try:
            return source.get(timeout=0.1)
        except queue.Empty:
            continue
    return None
