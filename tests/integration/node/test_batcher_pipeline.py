"""The batcher as ``docex run`` runs it: four pipelined stages and a wrapping process."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import Cid
from certificates.schemas.samples import sample_document
from ledger import ManagedAnvil, TxStatus
from node.chain.index_follower import sync_index
from node.issuing.outbox import BatchRow, DocumentState, SubmissionRow

if TYPE_CHECKING:
    from conftest import NodeFactory, NodeUnderTest

#: how long a test waits for the batcher to reach a state: a hang guard, not a speed assertion
GUARD_SECONDS = 120


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
    # the embedded store's writes are the wrapping process's: none through this process's
    put_here: list[bytes] = []
    store = node.services.store
    put = store.put

    def put_and_count(content: bytes, **kwargs: bool) -> Cid:
        put_here.append(content)
        return put(content, **kwargs)

    store.put = put_and_count  # type: ignore[method-assign,assignment]
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

    assert put_here == []
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


def test_an_anchor_is_sent_while_the_one_before_it_waits_for_its_block(
    make_node: NodeFactory, anvil: ManagedAnvil
) -> None:
    """On a chain with a block period, a batch whose anchor waited for the previous
    anchor's block would then wait for a block of its own: the anchorer sends each
    anchor as it comes, the confirmer waits for them. Here no block is mined until both
    anchors are sent: a batcher that waited for the first before sending the second
    would never send it."""
    node = make_node(chain="rpc", rpc_url=anvil.url, batch_size=3, batch_max_latency_ms=20)
    ledger = node.services.ledger
    batcher = node.services.batcher
    assert ledger is not None
    assert batcher is not None
    ledger.chain.request("evm_setAutomine", [False])
    stop = threading.Event()
    running = threading.Thread(target=batcher.run, args=(stop,))
    running.start()
    try:
        first = _issue_three(node, 1)
        _wait_until(lambda: _anchor_status(node, first) is TxStatus.SENT, running)
        second = _issue_three(node, 4)
        _wait_until(lambda: _anchor_status(node, second) is TxStatus.SENT, running)
        assert _anchor_status(node, first) is TxStatus.SENT  # still waiting for its block

        ledger.chain.request("evm_mine")
        anchored = DocumentState.ANCHORED
        _wait_until(lambda: node.services.outbox.count_by_state().get(anchored, 0) == 6, running)
    finally:
        stop.set()
        batcher.wake()
        running.join()
        ledger.chain.request("evm_setAutomine", [True])
    blocks = {_batch_of(node, receipt_id).block_number for receipt_id in (first, second)}
    assert len(blocks) == 1  # both anchors in the one block mined


def _issue_three(node: NodeUnderTest, first: int) -> str:
    """Three certificates (one batch of the test's size); the first one's receipt id."""
    answer = node.issue([sample_document("coo/1", first + i) for i in range(3)])
    receipt_id: str = answer.json()["receipts"][0]["id"]
    return receipt_id


def _batch_of(node: NodeUnderTest, receipt_id: str) -> BatchRow:
    with Session(node.services.database) as session:
        row = session.scalars(
            select(BatchRow)
            .join(SubmissionRow, SubmissionRow.batch_id == BatchRow.id)
            .where(SubmissionRow.id == receipt_id)
        ).one()
        session.expunge(row)
        return row


def _anchor_status(node: NodeUnderTest, receipt_id: str) -> TxStatus | None:
    """The journal status of the anchor of ``receipt_id``'s batch (None: not batched or
    not journalled yet)."""
    ledger = node.services.ledger
    assert ledger is not None
    with Session(node.services.database) as session:
        batch_id = session.scalar(
            select(SubmissionRow.batch_id).where(SubmissionRow.id == receipt_id)
        )
    if batch_id is None:
        return None
    entry = ledger.journal.get(ledger.anchor_key(batch_id))
    return None if entry is None else entry.status


def _wait_until(reached: Callable[[], bool], running: threading.Thread) -> None:
    deadline = time.monotonic() + GUARD_SECONDS
    while not reached():
        assert running.is_alive(), "the batcher stopped by itself"
        assert time.monotonic() < deadline, "the batcher did not get there"
        time.sleep(0.05)
