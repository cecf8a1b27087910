"""The outbox: accepted documents, their idempotency keys, the batches they are claimed
into, signed and anchored (or failed, or lost by the chain)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine

from node.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from node.issuing.outbox import (
    BatchState,
    DocumentState,
    NewDocument,
    Outbox,
    Receipt,
    SignedDocument,
    StoredResponse,
    fingerprint,
)

if TYPE_CHECKING:
    from conftest import Clock

ROOT = b"\xaa" * 32
TX = "0x" + "ab" * 32


def coo(
    number: int, *, addressees: tuple[str, ...] = ("KR",), confidential: bool = False
) -> NewDocument:
    return NewDocument("coo/1", f'{{"number":"VN-{number}"}}'.encode(), addressees, confidential)


def permit(number: int) -> NewDocument:
    return NewDocument("permit/1", f'{{"number":"P-{number}"}}'.encode(), ("SG",))


def accepted(ids: list[str]) -> StoredResponse:
    return StoredResponse(202, ",".join(ids).encode())


@pytest.fixture
def outbox(database: Engine, clock: Clock) -> Outbox:
    return Outbox(database, clock=clock)


def enqueue(outbox: Outbox, user: int, *documents: NewDocument) -> list[str]:
    response = outbox.enqueue(user, documents, accepted)
    return response.body.decode().split(",")


def receipt_of(outbox: Outbox, receipt_id: str) -> Receipt:
    receipt = outbox.receipt(receipt_id)
    assert receipt is not None
    return receipt


def claim(outbox: Outbox) -> str:
    """Claim a batch of what is pending now (the test knows something is)."""
    batch_id = outbox.claim_batch(256, 0.0, force=True)
    assert batch_id is not None
    return batch_id


def sign(outbox: Outbox, batch_id: str, root: bytes = ROOT) -> list[SignedDocument]:
    """Record ``batch_id`` signed, each document with a target hash and CID of its own."""
    batch = outbox.batch(batch_id)
    signed = [
        SignedDocument(receipt_id, bytes([root[0], position]) * 16, f"bafy{position}", b"{}")
        for position, (receipt_id, *_) in enumerate(batch.documents)
    ]
    outbox.record_signed(batch_id, root, batch.addressees or ("KR",), signed)
    return signed


# --- accepting documents ---------------------------------------------------------------


def test_accepted_documents_are_pending_under_receipt_ids_in_acceptance_order(
    outbox: Outbox, issuer: int, clock: Clock
) -> None:
    first = enqueue(outbox, issuer, coo(1), coo(2))
    clock.advance(1)
    second = enqueue(outbox, issuer, coo(3))
    assert sorted(first + second) == first + second
    for receipt_id in first + second:
        receipt = receipt_of(outbox, receipt_id)
        assert (receipt.state, receipt.user_id, receipt.batch_id) == (
            DocumentState.PENDING,
            issuer,
            None,
        )
    assert outbox.pending_count() == 3
    assert outbox.count_by_state() == {"pending": 3}


def test_the_response_is_built_from_the_receipt_ids_and_returned(
    outbox: Outbox, issuer: int
) -> None:
    response = outbox.enqueue(issuer, [coo(1)], lambda ids: StoredResponse(202, ids[0].encode()))
    assert outbox.receipt(response.body.decode()) is not None


# --- idempotency keys --------------------------------------------------------------------


def test_a_new_key_is_reserved_for_the_request(outbox: Outbox, issuer: int) -> None:
    assert outbox.reserve_key(issuer, "k1", fingerprint([coo(1)])) is None


def test_a_repeated_request_gets_the_first_response(outbox: Outbox, issuer: int) -> None:
    body = fingerprint([coo(1)])
    outbox.reserve_key(issuer, "k1", body)
    first = outbox.enqueue(issuer, [coo(1)], accepted, idempotency_key="k1")
    assert outbox.reserve_key(issuer, "k1", body) == first
    assert outbox.pending_count() == 1


def test_a_key_sent_again_with_another_body_is_refused(outbox: Outbox, issuer: int) -> None:
    outbox.reserve_key(issuer, "k1", fingerprint([coo(1)]))
    outbox.enqueue(issuer, [coo(1)], accepted, idempotency_key="k1")
    with pytest.raises(IdempotencyKeyReused):
        outbox.reserve_key(issuer, "k1", fingerprint([coo(2)]))


def test_a_key_whose_first_request_is_unfinished_is_in_flight(outbox: Outbox, issuer: int) -> None:
    body = fingerprint([coo(1)])
    outbox.reserve_key(issuer, "k1", body)
    with pytest.raises(IdempotencyKeyInFlight):
        outbox.reserve_key(issuer, "k1", body)


def test_a_released_key_may_be_used_again(outbox: Outbox, issuer: int) -> None:
    outbox.reserve_key(issuer, "k1", fingerprint([coo(1)]))
    outbox.release_key(issuer, "k1")
    assert outbox.reserve_key(issuer, "k1", fingerprint([coo(2)])) is None


def test_releasing_a_finished_key_keeps_its_response(outbox: Outbox, issuer: int) -> None:
    body = fingerprint([coo(1)])
    outbox.reserve_key(issuer, "k1", body)
    first = outbox.enqueue(issuer, [coo(1)], accepted, idempotency_key="k1")
    outbox.release_key(issuer, "k1")
    assert outbox.reserve_key(issuer, "k1", body) == first


def test_keys_belong_to_their_user(outbox: Outbox, issuer: int, other_issuer: int) -> None:
    outbox.reserve_key(issuer, "k1", fingerprint([coo(1)]))
    assert outbox.reserve_key(other_issuer, "k1", fingerprint([coo(2)])) is None


def test_a_confidential_request_does_not_fingerprint_as_the_plain_one() -> None:
    assert fingerprint([coo(1)]) != fingerprint([coo(1, confidential=True)])
    assert fingerprint([coo(1)]) == fingerprint([coo(1)])


# --- claiming batches ----------------------------------------------------------------


def test_writers_take_turns_and_asking_whether_a_batch_is_due_waits_for_none(
    outbox: Outbox, issuer: int
) -> None:
    enqueue(outbox, issuer, coo(1))
    inside, release = threading.Event(), threading.Event()
    done: list[str] = []

    def first_writer() -> None:  # a writer of this outbox in the middle of its transaction
        with outbox._writing:
            inside.set()
            release.wait(10)
            done.append("first")

    def second_writer() -> None:
        enqueue(outbox, issuer, coo(2))
        done.append("second")

    first = threading.Thread(target=first_writer)
    first.start()
    assert inside.wait(10)
    assert outbox.claim_batch(256, max_age=3600.0) is None  # not due: answered meanwhile
    second = threading.Thread(target=second_writer)
    second.start()
    second.join(0.2)
    assert second.is_alive()  # waits for its turn, not in SQLite's sleeping retries
    release.set()
    first.join()
    second.join(10)
    assert done == ["first", "second"]


def test_nothing_pending_claims_no_batch(outbox: Outbox) -> None:
    assert outbox.claim_batch(4, 0.0, force=True) is None


def test_a_batch_waits_until_it_is_full_or_its_oldest_document_is_old_enough(
    outbox: Outbox, issuer: int, clock: Clock
) -> None:
    enqueue(outbox, issuer, coo(1), coo(2))
    assert outbox.claim_batch(3, max_age=10.0) is None
    clock.advance(9.9)
    assert outbox.claim_batch(3, max_age=10.0) is None
    clock.advance(0.1)
    assert outbox.claim_batch(3, max_age=10.0) is not None


def test_a_full_batch_is_claimed_at_once_with_the_oldest_documents(
    outbox: Outbox, issuer: int, clock: Clock
) -> None:
    oldest = enqueue(outbox, issuer, coo(1), coo(2))
    clock.advance(1)
    newest = enqueue(outbox, issuer, coo(3))
    batch_id = outbox.claim_batch(2, max_age=3600.0)
    assert batch_id is not None
    assert [receipt_id for receipt_id, *_ in outbox.batch(batch_id).documents] == oldest
    for receipt_id in oldest:
        receipt = receipt_of(outbox, receipt_id)
        assert (receipt.state, receipt.batch_id) == (DocumentState.BATCHED, batch_id)
    receipt = receipt_of(outbox, newest[0])
    assert receipt.state is DocumentState.PENDING


def test_force_claims_whatever_is_pending(outbox: Outbox, issuer: int) -> None:
    enqueue(outbox, issuer, coo(1))
    batch_id = outbox.claim_batch(256, max_age=3600.0, force=True)
    assert batch_id is not None
    assert outbox.pending_count() == 0


def test_a_batch_holds_documents_of_one_type_the_oldest_pending_one(
    outbox: Outbox, issuer: int, clock: Clock
) -> None:
    enqueue(outbox, issuer, permit(1))
    clock.advance(1)
    enqueue(outbox, issuer, coo(1), coo(2))
    batch_id = outbox.claim_batch(8, 0.0, force=True)
    assert batch_id is not None
    batch = outbox.batch(batch_id)
    assert (batch.document_type, len(batch.documents)) == ("permit/1", 1)
    second = outbox.claim_batch(8, 0.0, force=True)
    assert second is not None
    assert outbox.batch(second).document_type == "coo/1"


def test_a_claimed_batch_is_open_and_lists_its_documents_in_order(
    outbox: Outbox, issuer: int, clock: Clock
) -> None:
    ids = enqueue(outbox, issuer, coo(1, addressees=("KR", "SG")), coo(2, confidential=True))
    batch_id = claim(outbox)
    batch = outbox.batch(batch_id)
    assert batch.state is BatchState.OPEN
    assert batch.documents == (
        (ids[0], b'{"number":"VN-1"}', ("KR", "SG"), 1),
        (ids[1], b'{"number":"VN-2"}', ("KR",), 1),
    )
    assert batch.confidential == frozenset({ids[1]})
    assert batch.oldest_accepted_at == clock.now
    assert batch.root is None


def test_an_unknown_batch_is_a_key_error(outbox: Outbox) -> None:
    with pytest.raises(KeyError):
        outbox.batch("0" * 32)


# --- signing and anchoring -------------------------------------------------------------


def test_open_and_signed_batches_are_unfinished_work_and_anchored_ones_are_not(
    outbox: Outbox, issuer: int, clock: Clock
) -> None:
    enqueue(outbox, issuer, coo(1))
    anchored = claim(outbox)
    clock.advance(1)
    enqueue(outbox, issuer, coo(2))
    signed = claim(outbox)
    clock.advance(1)
    enqueue(outbox, issuer, coo(3))
    still_open = claim(outbox)
    sign(outbox, anchored, b"\x01" * 32)
    outbox.record_anchored(anchored, TX, 7)
    sign(outbox, signed, b"\x02" * 32)
    assert outbox.unfinished_batches() == [signed, still_open]


def test_a_signed_batch_gives_its_receipts_their_target_hashes_and_cids(
    outbox: Outbox, issuer: int
) -> None:
    (receipt_id,) = enqueue(outbox, issuer, coo(1))
    batch_id = claim(outbox)
    (signed,) = sign(outbox, batch_id)
    batch = outbox.batch(batch_id)
    assert (batch.state, batch.root) == (BatchState.SIGNED, ROOT)
    receipt = receipt_of(outbox, receipt_id)
    assert (receipt.state, receipt.target_hash, receipt.cid, receipt.wrapped_json) == (
        DocumentState.BATCHED,
        signed.target_hash,
        signed.cid,
        b"{}",
    )


def test_an_anchored_batch_anchors_its_documents(outbox: Outbox, issuer: int, clock: Clock) -> None:
    ids = enqueue(outbox, issuer, coo(1), coo(2))
    batch_id = claim(outbox)
    sign(outbox, batch_id)
    clock.advance(12)
    outbox.record_anchored(batch_id, TX, 42)
    for receipt_id in ids:
        receipt = receipt_of(outbox, receipt_id)
        assert (receipt.state, receipt.batch_root, receipt.tx_hash, receipt.block_number) == (
            DocumentState.ANCHORED,
            ROOT,
            TX,
            42,
        )
        assert receipt.anchored_at == clock.now
    assert outbox.count_by_state() == {"anchored": 2}


def test_an_anchored_batch_lists_its_documents_by_root(outbox: Outbox, issuer: int) -> None:
    enqueue(outbox, issuer, coo(1, addressees=("KR", "SG")), coo(2, confidential=True))
    batch_id = claim(outbox)
    signed = sign(outbox, batch_id)
    assert outbox.anchored_batch_documents(ROOT) is None  # signed, not anchored yet
    outbox.record_anchored(batch_id, TX, 42)
    listed = outbox.anchored_batch_documents(ROOT)
    assert listed is not None
    assert listed.document_type == "coo/1"
    assert [(d.target_hash, d.cid, d.addressees, d.confidential) for d in listed.documents] == [
        (signed[0].target_hash, signed[0].cid, ("KR", "SG"), False),
        (signed[1].target_hash, signed[1].cid, ("KR",), True),
    ]


def test_a_failed_batch_fails_its_documents_with_the_reason(outbox: Outbox, issuer: int) -> None:
    (receipt_id,) = enqueue(outbox, issuer, coo(1))
    batch_id = claim(outbox)
    outbox.record_failed(batch_id, "x" * 3000)
    receipt = receipt_of(outbox, receipt_id)
    assert receipt.state is DocumentState.FAILED
    assert receipt.error == "x" * 2000
    assert outbox.unfinished_batches() == []


def test_an_anchor_the_chain_lost_flags_the_batch_until_it_is_anchored_again(
    outbox: Outbox, issuer: int
) -> None:
    (receipt_id,) = enqueue(outbox, issuer, coo(1))
    batch_id = claim(outbox)
    sign(outbox, batch_id)
    outbox.record_anchored(batch_id, TX, 42)
    outbox.record_anchor_lost(batch_id, "block 42 reorganised away")
    receipt = receipt_of(outbox, receipt_id)
    assert (receipt.state, receipt.error) == (
        DocumentState.ANCHOR_LOST,
        "block 42 reorganised away",
    )
    outbox.record_anchored(batch_id, TX, 45)
    receipt = receipt_of(outbox, receipt_id)
    assert (receipt.state, receipt.block_number, receipt.error) == (
        DocumentState.ANCHORED,
        45,
        None,
    )


def test_batch_anchors_lists_anchors_above_a_block_and_every_lost_one(
    outbox: Outbox, issuer: int, clock: Clock
) -> None:
    batches = []
    for number, block in enumerate((10, 20, 30)):
        clock.advance(1)
        enqueue(outbox, issuer, coo(number))
        batch_id = claim(outbox)
        sign(outbox, batch_id, bytes([number + 1]) * 32)
        outbox.record_anchored(batch_id, TX, block)
        batches.append(batch_id)
    outbox.record_anchor_lost(batches[0], "gone")
    anchors = outbox.batch_anchors(above_block=15)
    assert [(a.id, a.state, a.block_number) for a in anchors] == [
        (batches[0], BatchState.ANCHOR_LOST, 10),
        (batches[1], BatchState.ANCHORED, 20),
        (batches[2], BatchState.ANCHORED, 30),
    ]
    assert [a.id for a in outbox.batch_anchors(above_block=25)] == [batches[0], batches[2]]


# --- receipts --------------------------------------------------------------------------


def test_a_receipt_is_found_by_its_id_or_its_target_hash(outbox: Outbox, issuer: int) -> None:
    (receipt_id,) = enqueue(outbox, issuer, coo(1))
    batch_id = claim(outbox)
    (signed,) = sign(outbox, batch_id)
    by_id = outbox.receipt_of(receipt_id)
    by_hash = outbox.receipt_of("0x" + signed.target_hash.hex())
    assert by_id is not None
    assert by_id == by_hash
    assert outbox.receipt_id_of(signed.target_hash) == receipt_id


@pytest.mark.parametrize(
    "name",
    [
        "0" * 32,  # a receipt id nobody was given
        "0x" + "00" * 32,  # a target hash nobody issued here
        "0X" + "00" * 32,
        "0x" + "AB" * 32,  # upper-case hex is not how target hashes are written
        "not-a-receipt",
        "",
    ],
)
def test_anything_else_names_no_receipt(outbox: Outbox, issuer: int, name: str) -> None:
    enqueue(outbox, issuer, coo(1))
    assert outbox.receipt_of(name) is None
