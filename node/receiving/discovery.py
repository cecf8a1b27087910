"""Which indexed batches are addressed to this member: the receiver's discovery.

Each discovery reads the index's batches from the lowest block where one not seen yet can
sit. That is just above the newest index state (checkpoint number and hash) recorded at an
earlier discovery that the index still holds: a checkpoint's block is recorded in
``indexed_block`` and a reorg deletes every recorded block above its fork, so a state
still held means nothing at or below it changed since. A process's first discovery, and
one after a reorg deeper than every state kept, reads them all.

It is not "above the highest batch tracked": a healed partition can put a batch
addressed here on the winning branch below a batch tracked on the branch that lost, and
that batch was never found.

An index whose state has not moved holds the same batches: nothing is read then
(:meth:`BatchDiscovery.due`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Final

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ledger.index_schema import Batch, IndexedBlock
from node.chain.index_watch import IndexState
from node.receiving.inbox import Inbox

#: index states kept: a reorg deeper than this many discoveries rereads every batch
KEPT_STATES: Final = 64


class BatchDiscovery:
    """Tracks in ``inbox`` every indexed batch another member addressed to ``country``."""

    def __init__(
        self,
        country: str,
        index: Engine,
        inbox: Inbox,
        index_state: Callable[[], IndexState],
        *,
        kept_states: int = KEPT_STATES,
    ) -> None:
        self.country = country
        self.index = index
        self.inbox = inbox
        self._index_state = index_state
        #: the index's state at each earlier discovery of this process, oldest first
        self._seen: deque[tuple[int, bytes]] = deque(maxlen=kept_states)

    def due(self) -> bool:
        """Has the index moved since the last discovery (or was there none)?"""
        state = self._index_state()
        return state is None or not self._seen or self._seen[-1] != state

    def discover(self) -> int:
        """Track the batches addressed here that the index gained; how many were new."""
        state = self._index_state()
        since = self._rescan_from()
        with Session(self.index) as session:
            rows = session.execute(
                select(Batch.root, Batch.issuer_country, Batch.block_number, Batch.addressees)
                .where(
                    Batch.block_number >= since,
                    Batch.issuer_country != self.country,
                    # codes of two letters joined by commas: a substring is a whole code
                    Batch.addressees.contains(self.country),
                )
                .order_by(Batch.block_number, Batch.log_index)
            ).all()
        addressed = [
            (bytes(row.root), row.issuer_country, int(row.block_number))
            for row in rows
            if self.country in row.addressees.split(",")
        ]
        added = self.inbox.track(addressed)
        if state is not None:
            self._seen.append(state)
        return added

    def _rescan_from(self) -> int:
        """Just above the newest state seen that the index still holds; 0 if none is."""
        if not self._seen:
            return 0
        with Session(self.index) as session:
            held = {
                (int(number), bytes(block_hash))
                for number, block_hash in session.execute(
                    select(IndexedBlock.block_number, IndexedBlock.block_hash).where(
                        IndexedBlock.block_number.in_({number for number, _ in self._seen})
                    )
                )
            }
        for state in reversed(self._seen):
            if state in held:
                return state[0] + 1
        return 0
