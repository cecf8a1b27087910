"""POST /v1/documents: 202 with receipts, Idempotency-Key, the outbox and the batcher."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters import Cid
from certificates import validate_document
from certificates.json_types import JsonObject
from certificates.schemas.samples import sample_document
from ledger.chains import find_free_port
from ledger.index_schema import Batch
from node.chain.index_follower import sync_index
from node.db.schema import open_database
from node.issuing.outbox import DocumentState, NewDocument, Outbox, fingerprint

if TYPE_CHECKING:
    from conftest import NodeUnderTest


def coo(index: int = 1) -> JsonObject:
    return sample_document("coo/1", index)


@pytest.mark.both_databases  # the outbox, batches, idempotency keys
def test_an_accepted_document_gets_a_pending_receipt_then_an_anchored_one(
    node: NodeUnderTest,
) -> None:
    accepted = node.issue(coo())
    assert accepted.status_code == 202
    (receipt,) = accepted.json()["receipts"]
    assert accepted.headers["location"] == receipt["url"]

    pending = node.receipt(receipt["id"]).json()
    assert pending["status"] == "pending"
    assert "txHash" not in pending

    assert node.anchor_pending() == 1
    anchored = node.receipt(receipt["id"]).json()

    assert anchored["status"] == "anchored"
    assert anchored["blockNumber"] > 0
    assert anchored["txHash"].startswith("0x")
    assert anchored["batchRoot"] == anchored["document"]["batch"]["root"]
    assert anchored["targetHash"] == anchored["document"]["targetHash"]
    stored = node.services.store.get(Cid.parse(anchored["cid"]))
    assert stored.startswith(b'{"version":"docex-wrapped/1"')


@pytest.mark.both_databases  # the outbox, batches, idempotency keys
def test_many_documents_in_one_request_share_one_batch_and_each_get_a_proof(
    node: NodeUnderTest,
) -> None:
    receipts = node.issue([coo(i) for i in range(1, 6)]).json()["receipts"]

    node.anchor_pending()
    anchored = [node.receipt(r["id"]).json() for r in receipts]

    assert {a["batchRoot"] for a in anchored} == {anchored[0]["batchRoot"]}
    assert all(len(a["merkleProof"]) >= 1 for a in anchored)
    assert len({a["targetHash"] for a in anchored}) == 5


def test_batches_close_at_the_configured_size(make_node: Any) -> None:
    node: NodeUnderTest = make_node(batch_size=2, batch_max_latency_ms=3_600_000)
    receipts = node.issue([coo(i) for i in range(1, 6)]).json()["receipts"]
    batcher = node.services.batcher
    assert batcher is not None

    assert batcher.run_once() == 4  # two full batches; the fifth waits for its time
    mined_not_indexed = [node.receipt(r["id"]).json()["status"] for r in receipts]
    assert node.services.ledger is not None
    sync_index(node.services.ledger, node.services.metrics)
    states = [node.receipt(r["id"]).json()["status"] for r in receipts]

    # a receipt reads anchored once its anchor is mined *and* in the node's index
    assert mined_not_indexed == ["pending"] * 5
    assert states == ["anchored"] * 4 + ["pending"]


@pytest.mark.both_databases  # the outbox, batches, idempotency keys
def test_a_replayed_idempotency_key_returns_the_first_response_and_stores_nothing_more(
    node: NodeUnderTest,
) -> None:
    first = node.issue(coo(), **{"Idempotency-Key": "order-42"})
    replay = node.issue(coo(), **{"Idempotency-Key": "order-42"})

    assert replay.status_code == first.status_code == 202
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert node.services.outbox.pending_count() == 1


def test_the_same_idempotency_key_with_another_body_is_422(node: NodeUnderTest) -> None:
    node.issue(coo(1), **{"Idempotency-Key": "order-43"})

    node.problem(
        node.issue(coo(2), **{"Idempotency-Key": "order-43"}), 422, "idempotency-key-reused"
    )
    assert node.services.outbox.pending_count() == 1


@pytest.mark.both_databases  # PostgreSQL would refuse the key with an error, not a 4xx
def test_an_idempotency_key_longer_than_its_column_is_422_and_stores_nothing(
    node: NodeUnderTest,
) -> None:
    response = node.issue(coo(1), **{"Idempotency-Key": "k" * 256})

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert node.services.outbox.pending_count() == 0
    assert node.issue(coo(1), **{"Idempotency-Key": "k" * 255}).status_code == 202


@pytest.mark.both_databases  # the outbox, batches, idempotency keys
def test_a_retry_while_the_first_request_is_in_flight_is_409(node: NodeUnderTest) -> None:
    # the first request with this key has reserved it and not committed yet (as a request
    # being handled by another worker has)
    principal = node.services.users.authenticate(node.tokens["issuer"])
    assert principal is not None
    in_flight = fingerprint([NewDocument.of(validate_document(coo()))])
    node.services.outbox.reserve_key(principal.user_id, "order-45", in_flight)

    retry = node.issue(coo(), **{"Idempotency-Key": "order-45"})
    other_body = node.issue(coo(2), **{"Idempotency-Key": "order-45"})

    node.problem(retry, 409, "idempotency-key-in-flight")
    node.problem(other_body, 422, "idempotency-key-reused")
    assert node.services.outbox.pending_count() == 0


def test_idempotency_keys_belong_to_their_issuer(node: NodeUnderTest) -> None:
    mine = node.issue(coo(1), **{"Idempotency-Key": "shared-key"})
    # another document (a number is issued once): with a key shared across issuers the
    # other body would be refused as a reused key
    theirs = node.issue(coo(2), user="other-issuer", **{"Idempotency-Key": "shared-key"})

    assert theirs.status_code == 202
    assert theirs.json() != mine.json()


@pytest.mark.both_databases  # the outbox, batches, idempotency keys
def test_an_accepted_document_is_in_the_outbox_on_disk_before_the_202(
    node: NodeUnderTest,
) -> None:
    receipt_id = node.issue(coo()).json()["receipts"][0]["id"]

    fresh = Outbox(open_database(node.services.settings.database_location))
    receipt = fresh.receipt(receipt_id)

    assert fresh.pending_count() == 1
    assert receipt is not None
    assert receipt.state is DocumentState.PENDING


@pytest.mark.both_databases  # unfinished batches resumed
@pytest.mark.slow
def test_documents_accepted_before_a_restart_are_anchored_exactly_once_after_it(
    make_node: Any,
) -> None:
    options = {"chain": "anvil", "anvil_port": find_free_port()}
    node: NodeUnderTest = make_node(**options)
    first = node.issue([coo(1), coo(2)])
    second = node.issue([coo(3)])
    ids = [r["id"] for r in first.json()["receipts"] + second.json()["receipts"]]
    # the node stops with one batch claimed (open) and one document not batched yet
    assert node.services.outbox.claim_batch(2, 0, force=True) is not None
    node.stop()

    restarted: NodeUnderTest = make_node(**options)
    services = restarted.services
    assert services.batcher is not None
    assert services.ledger is not None
    assert services.batcher.run_once(force=True) == 3
    services.ledger.indexer.sync()

    receipts = [services.outbox.receipt(i) for i in ids]
    assert all(r is not None and r.state is DocumentState.ANCHORED for r in receipts)
    roots = {r.batch_root for r in receipts if r is not None}
    with Session(services.ledger.index) as session:
        anchored_roots = session.scalar(select(func.count()).select_from(Batch))
    assert anchored_roots == len(roots) == 2
    assert services.batcher.run_once(force=True) == 0
