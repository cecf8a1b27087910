"""Keeps the node's "anchored" true: notices when the chain lost an anchor and acts.

A chain can lose blocks the node already counted on: a managed anvil killed between two
writes of its state file comes back a second in the past, a chain restarted without its
state comes back empty. The event index notices first (its checkpoint's block hash no
longer matches, :mod:`ledger.indexer` rolls back to the fork), so verification stops
answering green for what is gone. :class:`AnchorKeeper` then brings the node's own
records in line, after each indexer pass:

1. the transaction manager re-sends every journalled transaction the chain no longer
   holds, with its journalled signed bytes (:meth:`ledger.TransactionManager.replay_lost`):
   the same transaction lands again, never a second one;
2. every batch the outbox holds as anchored whose root is not in the index and whose
   anchoring transaction has no receipt any more is flagged ``anchor-lost`` (batch and
   documents, with the reason: receipts show it), and restored to ``anchored`` (with its
   new block) once its transaction is mined again, whether the keeper sees the receipt
   first or the index already holds the root again, at any height (a Clique chain short
   of a signer replaces blocks at the same height); a chain that does not answer flags
   nothing (the follower retries);
3. when the chain refuses the replay, or the DocumentRegistry itself is gone (a reset
   chain), the batch stays flagged with that reason for an operator: re-deploying a
   consortium is not something a node does on its own;
4. a batch whose anchor the index holds at another block than the outbox (a reorg
   whose new branch mined the same transaction again before the index's next pass, as
   when a Clique partition heals) gets the index's block, so that its receipts name the
   block the canonical chain holds it in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from certificates import DocexError
from certificates.errors import Unavailable
from certificates.hashes import to_hex
from ledger import ConfirmedTransaction
from ledger.errors import RpcError
from ledger.index_schema import Batch
from node.chain.ledger_link import LedgerLink
from node.issuing.outbox import BatchAnchor, BatchState, Outbox

_log = logging.getLogger("docex.node.anchor_keeper")

LOST_REASON = (
    "the chain no longer holds this batch's anchoring transaction (it lost blocks); "
    "the transaction was re-sent from the journal"
)
REPLACED_REASON = (
    "the chain replaced the block that held this batch's anchoring transaction (a "
    "reorganisation); the transaction waits to be mined again"
)
REGISTRY_GONE_REASON = (
    "the chain no longer holds the DocumentRegistry at {address} (a chain reset?): "
    "this batch cannot be anchored again until the consortium is restored"
)


@dataclass
class KeeperReport:
    """One pass: batches flagged, batches restored, transactions replayed or refused."""

    flagged: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    #: anchored batches whose block changed (mined again in another block by a reorg)
    moved: list[str] = field(default_factory=list)
    replayed: tuple[str, ...] = ()
    refused: dict[str, str] = field(default_factory=dict)


class AnchorKeeper:
    """Checks the outbox's anchored batches against the index and the chain.

    A pass looks at the batches anchored above its watermark (the block up to which every
    batch was last found in the index) and at those flagged ``anchor-lost``; all of them
    on the first pass, after the index rolled back (``rewound``) and after a replay.
    """

    def __init__(self, outbox: Outbox, ledger: LedgerLink) -> None:
        self.outbox = outbox
        self.ledger = ledger
        #: every batch anchored at or below this block was in the index; -1: check all
        self._watermark = -1

    def check(self, *, rewound: bool = False) -> KeeperReport:
        replay = self.ledger.manager.replay_lost()
        report = KeeperReport(replayed=replay.replayed, refused=dict(replay.refused))
        if replay.replayed or replay.refused:
            _log.warning(
                "chain lost transactions; replayed from the journal",
                extra={"replayed": list(replay.replayed), "refused": dict(replay.refused)},
            )
        if rewound or replay.replayed or replay.refused:
            self._watermark = -1
        checkpoint = self.ledger.indexer.checkpoint()
        batches = self.outbox.batch_anchors(above_block=self._watermark)
        indexed = self._indexed(b.root for b in batches)
        missing = [b for b in batches if b.root not in indexed]
        for batch in batches:
            block = indexed.get(batch.root)
            lost = batch.state is BatchState.ANCHOR_LOST
            if block is not None and (lost or batch.block_number not in (None, block)):
                self._found(batch, block, report)
        self._watermark = min([checkpoint, *((b.block_number or 0) - 1 for b in missing)])
        registry_there: bool | None = None
        for batch in missing:
            key = self.ledger.anchor_key(batch.id)
            try:
                confirmed = self.ledger.manager.confirmed(key)
            except (Unavailable, RpcError):
                raise  # the chain did not answer: nothing is known, the follower retries
            except DocexError as error:  # a conflict, a revert: the chain refused it
                confirmed, reason = None, f"{error.code}: {error}"
            else:
                replayed = LOST_REASON if key in replay.replayed else REPLACED_REASON
                reason = replay.refused.get(key, replayed)
            if confirmed is not None:
                lost = batch.state is BatchState.ANCHOR_LOST
                if lost or confirmed.block_number != batch.block_number:
                    self._record(batch, confirmed, report)
                continue
            if registry_there is None:
                registry_there = self.ledger.registry_deployed()
            if not registry_there:
                reason = REGISTRY_GONE_REASON.format(address=self.ledger.documents.address)
            if batch.state is not BatchState.ANCHOR_LOST:
                self._flag(batch, reason)
                report.flagged.append(batch.id)
        return report

    def _found(self, batch: BatchAnchor, block: int, report: KeeperReport) -> None:
        """The index holds ``batch``'s root at ``block`` while the outbox has it flagged or
        at another block (a reorg mined its transaction again, perhaps at the same
        height): once the batch's own receipt says the same block, record it there and
        restore the batch if it was flagged. The index alone is not enough: another
        transaction could have anchored the same root."""
        try:
            confirmed = self.ledger.manager.confirmed(self.ledger.anchor_key(batch.id))
        except DocexError:
            return  # the missing-anchor path reports what the chain refused
        if confirmed is None or confirmed.block_number != block:
            return  # the index and the receipt disagree for now: the next pass decides
        self._record(batch, confirmed, report)

    def _record(
        self, batch: BatchAnchor, confirmed: ConfirmedTransaction, report: KeeperReport
    ) -> None:
        """``batch`` anchored where its receipt says: restored if it was flagged, moved if
        the receipt names another block than the outbox."""
        block = confirmed.block_number
        if batch.state is BatchState.ANCHOR_LOST:
            _log.warning("anchor found again", extra={"batch": batch.id, "block": block})
            report.restored.append(batch.id)
        else:
            _log.warning(
                "anchor moved to another block",
                extra={"batch": batch.id, "from": batch.block_number, "to": block},
            )
            report.moved.append(batch.id)
        self.outbox.record_anchored(batch.id, confirmed.tx_hash, block)

    def _flag(self, batch: BatchAnchor, reason: str) -> None:
        # a block replaced while its transaction waits in the chain's pool is routine on a
        # Clique network short of a signer (it heals by itself): a warning, not an error
        level = logging.WARNING if reason == REPLACED_REASON else logging.ERROR
        _log.log(
            level,
            "anchor lost",
            extra={"batch": batch.id, "root": to_hex(batch.root), "reason": reason},
        )
        self.outbox.record_anchor_lost(batch.id, reason)

    def _indexed(self, roots: Iterable[bytes]) -> dict[bytes, int]:
        """Which of ``roots`` the index holds, with the block of each (in chunks: SQLite's
        parameter limit)."""
        wanted = list(roots)
        found: dict[bytes, int] = {}
        with Session(self.ledger.index) as session:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = session.execute(
                    select(Batch.root, Batch.block_number).where(Batch.root.in_(chunk))
                )
                found.update((bytes(root), int(block)) for root, block in rows)
        return found
