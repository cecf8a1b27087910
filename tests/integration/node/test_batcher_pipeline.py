"""The batcher as ``docex run`` runs it: three pipelined stages and a wrapping process."""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import Cid
from certificates.schemas.samples import sample_document
from node.chain.index_follower import sync_index
from node.issuing.outbox import BatchRow, DocumentState

if TYPE_CHECKING:
    from conftest import NodeFactory, NodeUnderTest


def test_the_pipelined_batcher_anchors_every_document_once_in_batches_of_the_set_size(
    make_node: NodeFactory,
) -> None:
    node = make_node(batch_size=4, batch_max_latency_ms=20)
    receipts = [
        receipt["id"]
        for first in (1, 4, 8)
        for receipt in node.issue([sample_document("coo/1", first + i) for i in range(3)]).json()[
            "receipts"
        ]
    ]
    batcher = node.services.batcher
    ledger = node.services.ledger
    assert batcher is not None
    assert ledger is not None
    stop = threading.Event()
    running = threading.Thread(target=batcher.run, args=(stop,))
    running.start()
    try:
        deadline = time.monotonic() + 120  # a hang guard, not a speed assertion
        while node.services.outbox.count_by_state().get(DocumentState.ANCHORED, 0) < 9:
            assert running.is_alive(), "the batcher stopped by itself"
            assert time.monotonic() < deadline, node.services.outbox.count_by_state()
            time.sleep(0.05)
    finally:
        stop.set()
        batcher.wake()
        running.join()

    sync_index(ledger, node.services.metrics)  # receipts read anchored once indexed
    anchored = [node.receipt(receipt_id).json() for receipt_id in receipts]
    assert {a["status"] for a in anchored} == {"anchored"}
    by_root: dict[str, int] = {}
    for answer in anchored:
        by_root[answer["batchRoot"]] = by_root.get(answer["batchRoot"], 0) + 1
        stored = node.services.store.get(Cid.parse(answer["cid"]))
        assert json.loads(stored) == answer["document"]  # content is the wrapped document
    assert sorted(by_root.values()) == [1, 4, 4]
    pinned = node.services.store.pins()
    assert {Cid.parse(a["cid"]) for a in anchored} <= pinned
    # one journalled anchor per batch: none sent twice
    anchors = [entry for root in by_root if (entry := ledger.journal.get(_anchor_key(node, root)))]
    assert len(anchors) == 3
    assert len({entry.nonce for entry in anchors}) == 3


def _anchor_key(node: NodeUnderTest, root: str) -> str:
    """The journal key of the anchor of the batch whose root is ``root``."""
    assert node.services.ledger is not None
    with Session(node.services.database) as session:
        batch_id = session.scalars(
            select(BatchRow.id).where(BatchRow.root == bytes.fromhex(root.removeprefix("0x")))
        ).one()
    return node.services.ledger.anchor_key(batch_id)
