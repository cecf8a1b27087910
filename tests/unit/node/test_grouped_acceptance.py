"""Accepting the API's documents in group commits (node.issuing.grouped_acceptance): each
request answered with its own receipts or its own refusal, several stored in one
transaction, nothing lost when a client goes away, keys released only for refusals."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest
from sqlalchemy import Engine

from certificates import DocexError
from node.errors import DocumentNumberTaken
from node.issuing.grouped_acceptance import GroupedAcceptance
from node.issuing.outbox import Acceptance, NewDocument, Outbox, StoredResponse, fingerprint


def numbered(number: str) -> NewDocument:
    return NewDocument(
        "coo/1", f'{{"number":"{number}"}}'.encode(), ("KR",), document_number=number
    )


def accepted(ids: list[str]) -> StoredResponse:
    return StoredResponse(202, ",".join(ids).encode())


class GatedOutbox(Outbox):
    """An outbox whose first group waits at a gate: the requests sent meanwhile queue up
    behind it, as they do while a commit syncs to disk."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.group_sizes: list[int] = []

    def enqueue_many(self, requests: Sequence[Acceptance]) -> list[StoredResponse | DocexError]:
        self.group_sizes.append(len(requests))
        self.entered.set()
        self.gate.wait(timeout=10)
        return super().enqueue_many(requests)


async def _queued_behind_a_group(
    acceptance: GroupedAcceptance, outbox: GatedOutbox, requests: list[list[NewDocument]]
) -> list[StoredResponse | BaseException]:
    """The first request in a group of its own, the others queued behind it, then all
    stored: each one's outcome (a response or the refusal raised)."""
    first = asyncio.ensure_future(acceptance.enqueue(1, requests[0], accepted))
    while not outbox.entered.is_set():
        await asyncio.sleep(0.001)
    rest = [asyncio.ensure_future(acceptance.enqueue(1, r, accepted)) for r in requests[1:]]
    await asyncio.sleep(0.05)  # every one of them is in the writer's queue
    outbox.gate.set()
    return list(await asyncio.gather(first, *rest, return_exceptions=True))


@pytest.fixture
def gated(database: Engine, issuer: int) -> GatedOutbox:
    assert issuer == 1
    return GatedOutbox(database)


def test_requests_waiting_together_are_stored_in_one_transaction_each_with_its_receipts(
    gated: GatedOutbox,
) -> None:
    groups: list[int] = []
    acceptance = GroupedAcceptance(gated, on_group=groups.append)
    requests = [[numbered(f"VN-{i}-{j}") for j in range(i + 1)] for i in range(6)]

    outcomes = asyncio.run(_queued_behind_a_group(acceptance, gated, requests))
    acceptance.close()

    assert gated.group_sizes == [1, 5]
    assert groups == [1, 5]  # what the group-size metric is told
    receipts = [o.body.decode().split(",") for o in outcomes if isinstance(o, StoredResponse)]
    assert [len(r) for r in receipts] == [1, 2, 3, 4, 5, 6]
    every = [receipt for request in receipts for receipt in request]
    assert len(set(every)) == 21
    assert all(gated.receipt(receipt) is not None for receipt in every)
    assert gated.pending_count() == 21


def test_a_number_already_taken_refuses_only_its_request(gated: GatedOutbox) -> None:
    gated.enqueue(1, [numbered("VN-7")], accepted)
    acceptance = GroupedAcceptance(gated)
    requests = [[numbered("VN-1")], [numbered("VN-2")], [numbered("VN-7")], [numbered("VN-3")]]

    outcomes = asyncio.run(_queued_behind_a_group(acceptance, gated, requests))
    acceptance.close()

    assert [type(o) for o in outcomes] == [
        StoredResponse,
        StoredResponse,
        DocumentNumberTaken,
        StoredResponse,
    ]
    assert gated.pending_count() == 4  # VN-7 (before), VN-1, VN-2, VN-3


def test_two_requests_of_one_group_taking_the_same_number_store_the_first_only(
    gated: GatedOutbox,
) -> None:
    acceptance = GroupedAcceptance(gated)
    requests = [[numbered("VN-0")], [numbered("VN-5"), numbered("VN-6")], [numbered("VN-5")]]

    outcomes = asyncio.run(_queued_behind_a_group(acceptance, gated, requests))
    acceptance.close()

    assert isinstance(outcomes[1], StoredResponse)
    assert isinstance(outcomes[2], DocumentNumberTaken)
    assert outcomes[1].body.decode().split(",")[0] in str(outcomes[2])
    assert gated.pending_count() == 3


def test_a_number_twice_in_one_request_refuses_that_request_and_no_other(
    gated: GatedOutbox,
) -> None:
    acceptance = GroupedAcceptance(gated)
    requests = [[numbered("VN-0")], [numbered("VN-8"), numbered("VN-8")], [numbered("VN-9")]]

    outcomes = asyncio.run(_queued_behind_a_group(acceptance, gated, requests))
    acceptance.close()

    assert [type(o) for o in outcomes] == [StoredResponse, DocumentNumberTaken, StoredResponse]
    assert gated.pending_count() == 2


def test_a_refused_requests_idempotency_key_is_released_and_an_accepted_ones_kept(
    outbox_and_acceptance: tuple[Outbox, GroupedAcceptance],
) -> None:
    outbox, acceptance = outbox_and_acceptance
    outbox.enqueue(1, [numbered("VN-1")], accepted)
    refused, kept = [numbered("VN-1")], [numbered("VN-2")]
    assert outbox.reserve_key(1, "refused", fingerprint(refused)) is None
    assert outbox.reserve_key(1, "kept", fingerprint(kept)) is None

    async def send() -> StoredResponse:
        with pytest.raises(DocumentNumberTaken):
            await acceptance.enqueue(1, refused, accepted, "refused")
        return await acceptance.enqueue(1, kept, accepted, "kept")

    stored = asyncio.run(send())

    # the refused key is free again; the accepted one replays its answer
    assert outbox.reserve_key(1, "refused", fingerprint([numbered("VN-3")])) is None
    assert outbox.reserve_key(1, "kept", fingerprint(kept)) == stored


def test_a_request_whose_client_went_away_is_still_stored_with_its_answer(
    gated: GatedOutbox,
) -> None:
    acceptance = GroupedAcceptance(gated)
    documents = [numbered("VN-4")]
    assert gated.reserve_key(1, "gone", fingerprint(documents)) is None

    async def cancelled() -> None:
        task = asyncio.ensure_future(acceptance.enqueue(1, documents, accepted, "gone"))
        while not gated.entered.is_set():
            await asyncio.sleep(0.001)
        task.cancel()
        gated.gate.set()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancelled())
    acceptance.close()

    replay = gated.reserve_key(1, "gone", fingerprint(documents))
    assert replay is not None
    assert gated.receipt(replay.body.decode()) is not None  # the retry gets the receipt


def test_after_close_nothing_more_is_accepted_and_the_key_is_released(
    outbox_and_acceptance: tuple[Outbox, GroupedAcceptance],
) -> None:
    outbox, acceptance = outbox_and_acceptance
    documents = [numbered("VN-1")]
    assert outbox.reserve_key(1, "late", fingerprint(documents)) is None
    acceptance.close()

    with pytest.raises(RuntimeError, match="stopping"):
        asyncio.run(acceptance.enqueue(1, documents, accepted, "late"))
    assert outbox.pending_count() == 0
    assert outbox.reserve_key(1, "late", fingerprint(documents)) is None


@pytest.fixture
def outbox_and_acceptance(database: Engine, issuer: int) -> tuple[Outbox, GroupedAcceptance]:
    assert issuer == 1
    outbox = Outbox(database)
    return outbox, GroupedAcceptance(outbox)
