"""The inbox: the receiver's schedule of batches addressed to us (due, retried, done),
the documents it filed, read page by page, and its reports of peers that misbehaved."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine

from node.receiving.inbox import ContentFallback, DueBatch, Inbox, PeerReport, ReceivedDocument

if TYPE_CHECKING:
    from conftest import Clock


def root(number: int) -> bytes:
    return bytes([number]) * 32


def received(
    number: int,
    received_at: float,
    *,
    document_type: str = "coo/1",
    issuer_country: str = "KR",
) -> ReceivedDocument:
    return ReceivedDocument(
        target_hash=bytes([number]) * 32,
        batch_root=root(200),
        document_type=document_type,
        issuer_country=issuer_country,
        issuer="0x" + "11" * 20,
        cid=f"bafy{number}",
        confidential=False,
        block_number=7,
        received_at=received_at,
        wrapped_json=b"{}",
        verdict_json='{"valid": true, "checks": []}',
        valid=True,
    )


def report(target: bytes | None, reason: str = "content-mismatch") -> PeerReport:
    return PeerReport("http://kr.example", "KR", root(1), target, None, reason, "detail", 1.0)


@pytest.fixture
def inbox(database: Engine, clock: Clock) -> Inbox:
    return Inbox(database, clock=clock)


def hashes(documents: list[ReceivedDocument]) -> list[int]:
    return [document.target_hash[0] for document in documents]


# --- the receiver's schedule -------------------------------------------------------------


def test_a_batch_is_tracked_once(inbox: Inbox) -> None:
    assert inbox.track([(root(1), "KR", 10), (root(2), "SG", 11)]) == 2
    assert inbox.track([(root(1), "KR", 10), (root(3), "KR", 12)]) == 1
    assert inbox.pending_count() == 3


def test_many_batches_are_tracked_once_across_lookup_chunks(inbox: Inbox) -> None:
    def numbered(n: int) -> bytes:
        return n.to_bytes(32, "big")

    assert inbox.track([(numbered(n), "KR", n) for n in range(1, 1201)]) == 1200
    assert inbox.track([(numbered(n), "KR", n) for n in range(1100, 1301)]) == 100
    assert inbox.pending_count() == 1300


def test_tracked_batches_are_due_at_once_in_block_order(inbox: Inbox) -> None:
    inbox.track([(root(1), "KR", 30), (root(2), "SG", 10), (root(3), "KR", 20)])
    assert inbox.due() == [
        DueBatch(root(2), "SG", 10, 0),
        DueBatch(root(3), "KR", 20, 0),
        DueBatch(root(1), "KR", 30, 0),
    ]
    assert [batch.block_number for batch in inbox.due(limit=2)] == [10, 20]


def test_a_batch_retried_later_is_due_again_only_after_the_delay(
    inbox: Inbox, clock: Clock
) -> None:
    inbox.track([(root(1), "KR", 10)])
    inbox.retry_later(root(1), 30.0, "peer unreachable")
    assert inbox.due() == []
    clock.advance(29.9)
    assert inbox.due() == []
    clock.advance(0.1)
    assert inbox.due() == [DueBatch(root(1), "KR", 10, 1)]
    assert inbox.pending_count() == 1


def test_a_finished_batch_is_never_due_again(inbox: Inbox, clock: Clock) -> None:
    inbox.track([(root(1), "KR", 10), (root(2), "KR", 11)])
    inbox.finish(root(1))
    clock.advance(3600)
    assert [batch.root for batch in inbox.due()] == [root(2)]
    assert inbox.pending_count() == 1
    assert inbox.track([(root(1), "KR", 10)]) == 0  # nor tracked anew


# --- documents -------------------------------------------------------------------------


def test_a_filed_document_is_held_by_its_target_hash(inbox: Inbox) -> None:
    document = received(1, 100.0)
    assert not inbox.has(document.target_hash)
    inbox.file(document)
    assert inbox.has(document.target_hash)
    assert inbox.document(document.target_hash) == document
    assert inbox.document(bytes(32)) is None


def test_a_filed_document_keeps_where_its_content_came_from_and_each_fallback(
    inbox: Inbox,
) -> None:
    bitswap = ContentFallback("bitswap via 127.0.0.41:5001", "not-in-swarm", "deadline")
    issuer = ContentFallback("gateway KR http://kr.example", "unreachable", "ConnectError")
    sg = "gateway SG http://sg.example"
    document = dataclasses.replace(
        received(1, 100.0), received_from=sg, fallbacks=(bitswap, issuer)
    )
    inbox.file(document)
    filed = inbox.document(document.target_hash)
    assert filed == document
    assert filed is not None
    assert filed.fallbacks[0].to_json() == {
        "source": "bitswap via 127.0.0.41:5001",
        "reason": "not-in-swarm",
        "detail": "deadline",
    }


def test_filing_a_document_again_keeps_the_first_filing(inbox: Inbox) -> None:
    inbox.file(received(1, 100.0))
    inbox.file(received(1, 200.0))
    assert [d.received_at for d in inbox.documents()] == [100.0]


def test_documents_come_in_reception_order_then_by_target_hash(inbox: Inbox) -> None:
    for number, received_at in [(3, 100.0), (1, 200.0), (2, 100.0)]:
        inbox.file(received(number, received_at))
    assert hashes(inbox.documents()) == [2, 3, 1]


def test_paging_by_cursor_neither_skips_nor_repeats_documents_filed_together(
    inbox: Inbox,
) -> None:
    for number in range(1, 8):
        inbox.file(received(number, 100.0 if number <= 5 else 200.0))
    seen: list[int] = []
    cursor: dict[str, Any] = {}
    for _ in range(5):  # four pages of two at most: never loops on a repeated page
        page = inbox.documents(limit=2, **cursor)
        if not page:
            break
        seen += hashes(page)
        cursor = {"after": page[-1].received_at, "after_hash": page[-1].target_hash}
    assert seen == [1, 2, 3, 4, 5, 6, 7]


def test_after_alone_skips_everything_filed_at_that_instant(inbox: Inbox) -> None:
    for number in range(1, 4):
        inbox.file(received(number, 100.0))
    inbox.file(received(4, 100.5))
    assert hashes(inbox.documents(after=100.0)) == [4]


def test_documents_are_filtered_by_type_and_issuing_country(inbox: Inbox) -> None:
    inbox.file(received(1, 100.0, document_type="coo/1", issuer_country="KR"))
    inbox.file(received(2, 101.0, document_type="permit/1", issuer_country="KR"))
    inbox.file(received(3, 102.0, document_type="coo/1", issuer_country="SG"))
    assert hashes(inbox.documents(document_type="coo/1")) == [1, 3]
    assert hashes(inbox.documents(issuer_country="KR")) == [1, 2]
    assert hashes(inbox.documents(document_type="coo/1", issuer_country="SG")) == [3]


# --- peer reports ----------------------------------------------------------------------


def test_reports_are_kept_in_the_order_made_with_the_detail_cut_to_2000_characters(
    inbox: Inbox,
) -> None:
    inbox.report(report(b"\x01" * 32, "manifest-mismatch"))
    long = PeerReport("http://sg.example", "SG", root(2), None, "bafy", "bad-car", "x" * 5000, 2.0)
    inbox.report(long)
    assert [r.reason for r in inbox.reports()] == ["manifest-mismatch", "bad-car"]
    assert inbox.reports()[1].detail == "x" * 2000
    assert inbox.reports()[1].cid == "bafy"


def test_a_reported_document_of_a_batch_counts_as_refused(inbox: Inbox) -> None:
    inbox.report(report(b"\x01" * 32))
    assert inbox.refused(root(1), b"\x01" * 32)
    assert not inbox.refused(root(1), b"\x02" * 32)
    assert not inbox.refused(root(2), b"\x01" * 32)  # the same document in another batch
