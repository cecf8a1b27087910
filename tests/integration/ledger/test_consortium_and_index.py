"""Deployed registries, typed reverts, and the event index answering status questions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from certificates.errors import Refused
from certificates.keccak import keccak256
from certificates.merkle import MerkleTree
from ledger import queries
from ledger.chains import Chain
from ledger.contracts import anchor_request, country_code, type_id
from ledger.deploy import Deployment
from ledger.errors import AlreadyRecorded, NotAuthorisedOnChain
from ledger.index_contents import index_contents
from ledger.index_schema import Batch, ChainEvent, Checkpoint, DocumentEvent
from ledger.index_store import INDEX_MMAP_BYTES, open_index
from ledger.indexer import EventIndexer
from ledger.journal import Journal
from ledger.transactions import TransactionManager

# the event index and its queries on SQLite and PostgreSQL (eth-tester only: conftest.py)
pytestmark = pytest.mark.both_databases

if TYPE_CHECKING:
    from conftest import Consortium

TH = country_code("TH")


def documents(count: int, seed: str) -> MerkleTree:
    return MerkleTree.build([keccak256(f"{seed}-{i}".encode()) for i in range(count)])


def anchor(consortium: Consortium, tree: MerkleTree, key: str) -> int:
    """Anchor through ``anchor_request``: the first time on the route ``anchorWithRoute``,
    then the compact ``anchor(root, routeId, count)``."""
    request = anchor_request(
        consortium.documents,
        consortium.under_test.chain,
        key,
        consortium.vn_issuer,
        tree.root,
        "coo/1",
        tree.size,
        ["TH"],
    )
    return consortium.manager.transact(consortium.vn_issuer, request).block_number


def anchor_from_another_node(consortium: Consortium, tree: MerkleTree, tmp_path: Path) -> None:
    """Anchor ``tree`` on a branch made by another node: its own journal (this node's
    remembers the orphaned anchor), the chain's nonces."""
    other_node = TransactionManager(
        consortium.under_test.chain,
        Journal(tmp_path / "other-node.sqlite"),
        [consortium.under_test.account(2)],
        poll_interval=0.005,
    )
    other_node.transact(
        consortium.vn_issuer,
        consortium.documents.request(
            "winner", "anchorWithRoute", tree.root, "coo/1", tree.size, [TH], gas=500_000
        ),
    )


def test_anchor_request_takes_the_compact_path_once_the_route_is_registered(
    consortium: Consortium, index_engine: Engine
) -> None:
    chain = consortium.under_test.chain

    def request(key: str, tree: MerkleTree) -> bytes:
        built = anchor_request(
            consortium.documents, chain, key, consortium.vn_issuer, tree.root, "coo/1", 5, ["TH"]
        )
        consortium.manager.transact(consortium.vn_issuer, built)
        return built.data[:4]

    full = consortium.documents.abi.function("anchorWithRoute").selector
    compact = consortium.documents.abi.function("anchor").selector
    first, second = documents(5, "route-first"), documents(5, "route-second")
    assert request("route-first", first) == full
    assert request("route-second", second) == compact

    consortium.indexer(index_engine).sync()
    for tree in (first, second):
        record = queries.batch(index_engine, tree.root)
        assert record is not None
        assert (record.document_type, record.issuer_country, record.addressees) == (
            "coo/1",
            "VN",
            ("TH",),
        )
        assert record.document_count == 5
        assert record.issuer == record_address(consortium.vn_issuer)
        block = chain.request("eth_getBlockByNumber", [hex(record.block_number), False])
        assert record.timestamp == int(block["timestamp"], 16)
    history = queries.document_history(index_engine, keccak256(b"route-second-0"))
    assert history == []  # no document event yet: history starts with a document's events
    with Session(index_engine) as session:
        (anchored,) = session.scalars(
            select(ChainEvent).where(ChainEvent.name == "BatchAnchored").limit(1)
        ).all()
    assert '"documentType": "coo/1"' in anchored.arguments


def record_address(account: str) -> str:
    return account.lower()


def test_the_old_anchor_call_shape_fails_with_a_hint(consortium: Consortium) -> None:
    tree = documents(1, "old-shape")
    with pytest.raises(TypeError, match="anchor_request"):
        consortium.documents.request("old", "anchor", tree.root, "coo/1", 1, [TH])


def test_deployment_is_written_to_the_data_dir_and_read_back(
    consortium: Consortium, tmp_path: Path
) -> None:
    consortium.deployment.write(tmp_path)
    assert Deployment.read(tmp_path) == consortium.deployment
    (quorum,) = consortium.consortium.call(consortium.under_test.chain, "quorum")
    assert quorum == 2


def test_anchor_by_an_account_without_an_issuer_key_names_the_broken_rule(
    consortium: Consortium,
) -> None:
    tree = documents(3, "unauthorised")
    request = consortium.documents.request("bad", "anchorWithRoute", tree.root, "coo/1", 3, [TH])

    with pytest.raises(NotAuthorisedOnChain) as raised:
        consortium.manager.submit(consortium.vn_member, request)

    error = raised.value
    assert error.rule == "IssuerNotAuthorised"
    assert error.code == "not-authorised-on-chain"
    assert isinstance(error, Refused)
    assert f"issuer not authorised for coo/1 in VN at block {error.arguments['blockNumber']}" in (
        error.message
    )


def test_anchoring_a_root_twice_is_refused_with_who_anchored_it_first(
    consortium: Consortium,
) -> None:
    tree = documents(2, "twice")
    block = anchor(consortium, tree, "first")

    with pytest.raises(AlreadyRecorded) as raised:
        anchor(consortium, tree, "second")

    assert raised.value.rule == "AlreadyAnchored"
    assert f"at block {block}" in raised.value.message


def test_index_answers_a_documents_status_and_history(
    consortium: Consortium, index_engine: Engine
) -> None:
    tree = documents(4, "status")
    anchored_at = anchor(consortium, tree, "anchor")
    target = keccak256(b"status-1")
    proof = list(tree.proof(1))
    consortium.manager.transact(
        consortium.vn_member,
        consortium.documents.request("revoke", "revoke", tree.root, target, proof, 7),
    )

    consortium.indexer(index_engine).sync()

    status = queries.document_status(index_engine, target, root=tree.root)
    assert status.state == "revoked"
    assert status.batch is not None
    assert status.batch.block_number == anchored_at
    assert status.batch.addressees == ("TH",)
    untouched = queries.document_status(index_engine, keccak256(b"status-2"), root=tree.root)
    assert untouched.state == "valid"
    history = queries.document_history(index_engine, target)
    assert [h.event for h in history] == ["BatchAnchored", "DocumentRevoked"]


def test_the_verifiers_prepared_reads_answer_as_the_orm_reads_do(
    consortium: Consortium, index_engine: Engine
) -> None:
    """The verifier's per-document reads (ledger.prepared_reads: compiled once, run on the
    pool's DBAPI connection) give what the ORM queries give, on SQLite and PostgreSQL."""
    tree = documents(3, "prepared")
    anchor(consortium, tree, "anchor")
    revoked, untouched = keccak256(b"prepared-0"), keccak256(b"prepared-2")
    consortium.manager.transact(
        consortium.vn_member,
        consortium.documents.request(
            "revoke", "revoke", tree.root, revoked, list(tree.proof(0)), 7
        ),
    )
    indexer = consortium.indexer(index_engine)
    indexer.sync()

    record = queries.batch(index_engine, tree.root)
    assert record is not None
    assert record == queries.document_status(index_engine, untouched, root=tree.root).batch
    assert record.addressees == ("TH",)
    assert record.issuer.lower() == consortium.vn_issuer.lower()
    for target, state in ((revoked, "revoked"), (untouched, "valid")):
        prepared = queries.status_in_batch(index_engine, target, record)
        assert prepared == _status_through_the_orm(index_engine, target, record)
        assert prepared == queries.document_status(index_engine, target, root=tree.root)
        assert prepared.state == state
    # without the root: the batch is the one the document's events name; none, no batch
    by_events = queries.document_status(index_engine, revoked)
    assert (by_events.state, by_events.batch) == ("revoked", record)
    assert queries.document_status(index_engine, untouched).state == "unknown"
    # a root the index does not hold: the events still count, no batch is claimed
    stray = queries.document_status(index_engine, revoked, root=keccak256(b"no such root"))
    assert (stray.state, stray.batch) == ("revoked", None)
    assert queries.batch(index_engine, keccak256(b"never anchored")) is None
    with Session(index_engine) as session:
        stored = session.get(Checkpoint, indexer.stream)
    assert stored is not None
    assert queries.checkpoint(index_engine, indexer.stream) == (
        stored.block_number,
        stored.block_hash,
    )
    assert queries.checkpoint(index_engine, "no such stream") is None


def _status_through_the_orm(
    engine: Engine, target: bytes, record: queries.BatchRecord
) -> queries.DocumentStatus:
    """The reference: the document's events read as ORM objects."""
    with Session(engine) as session:
        events = session.scalars(
            select(DocumentEvent)
            .where(
                DocumentEvent.target_hash == target,
                DocumentEvent.issuer_member == record.issuer_member,
            )
            .order_by(DocumentEvent.block_number, DocumentEvent.log_index)
        ).all()
    return queries._status(target, record, events)


def test_index_answers_authority_at_a_block_as_the_contract_does(
    consortium: Consortium, index_engine: Engine
) -> None:
    consortium.indexer(index_engine).sync()
    chain = consortium.under_test.chain
    head = int(chain.request("eth_blockNumber"), 16)

    for account in (consortium.vn_issuer, consortium.vn_member, consortium.th_member):
        for country in ("VN", "TH"):
            (on_chain,) = consortium.consortium.call(
                chain, "isAuthorised", account, type_id("coo/1"), country_code(country), head
            )
            indexed = queries.authority_at(index_engine, account, "coo/1", country, head)
            assert indexed.authorised == on_chain, (account, country, indexed.reason)


def test_index_lists_the_recognition_agreements(
    consortium: Consortium, index_engine: Engine
) -> None:
    consortium.indexer(index_engine).sync()

    (window,) = queries.agreements(index_engine, verifier_country="TH")

    assert (window.issuer_country, window.type_id) == ("VN", type_id("coo/1"))
    assert queries.recognises(index_engine, "TH", "VN", "coo/1", 1_800_000_000)
    assert not queries.recognises(index_engine, "VN", "TH", "coo/1", 1_800_000_000)


@pytest.mark.parametrize("page_size", [1, 3, 1000])
def test_paged_indexing_gives_the_same_index_as_one_page(
    consortium: Consortium, index_engine: Engine, page_size: int
) -> None:
    for n in range(3):
        anchor(consortium, documents(2, f"paged-{n}"), f"anchor-{n}")

    report = consortium.indexer(index_engine, page_size=page_size).sync()

    with Session(index_engine) as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 3
        assert session.scalar(select(func.count()).select_from(ChainEvent)) == report.events


class _LogRequestCounter:
    """The consortium's real chain, counting the ``eth_getLogs`` requests sent to it."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.log_requests = 0

    def chain_id(self) -> int:
        return self.chain.chain_id()

    def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        self.log_requests += method == "eth_getLogs"
        return self.chain.request(method, params)

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        self.log_requests += sum(method == "eth_getLogs" for method, _ in calls)
        return self.chain.batch(calls)

    def close(self) -> None:
        self.chain.close()


def test_an_index_connection_reads_through_a_memory_map_in_wal_mode(tmp_path: Path) -> None:
    engine = open_index(tmp_path / "index.sqlite")
    try:
        with engine.connect() as connection:
            mapped = connection.exec_driver_sql("PRAGMA mmap_size").scalar()
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        assert mapped == INDEX_MMAP_BYTES
        assert journal == "wal"
    finally:
        engine.dispose()


def _indexer(consortium: Consortium, chain: Chain, engine: Engine, page_size: int) -> EventIndexer:
    start = consortium.deployment.deployed_block
    return EventIndexer(chain, engine, consortium.watched(), start_block=start, page_size=page_size)


@pytest.mark.parametrize("page_blocks", [1, 2, 5])
def test_logs_read_in_pages_index_the_same_events_as_one_call(
    consortium: Consortium, tmp_path: Path, page_blocks: int
) -> None:
    for n in range(4):
        anchor(consortium, documents(3, f"pages-{n}"), f"anchor-{n}")
    one_call = open_index(tmp_path / "one-call.sqlite")
    paged = open_index(tmp_path / "paged.sqlite")
    try:
        whole = _LogRequestCounter(consortium.under_test.chain)
        head = int(whole.request("eth_blockNumber"), 16)
        span = head - consortium.deployment.deployed_block + 1
        one = _indexer(consortium, whole, one_call, span).sync()
        pages = _LogRequestCounter(consortium.under_test.chain)
        many = _indexer(consortium, pages, paged, page_blocks).sync()

        assert whole.log_requests == 1
        assert pages.log_requests == -(-span // page_blocks)
        assert many.events == one.events > 4
        assert index_contents(paged) == index_contents(one_call)
    finally:
        one_call.dispose()
        paged.dispose()


def test_indexer_interrupted_between_pages_resumes_from_its_checkpoint_without_duplicates(
    consortium: Consortium, index_engine: Engine
) -> None:
    for n in range(3):
        anchor(consortium, documents(2, f"resume-{n}"), f"anchor-{n}")
    first = consortium.indexer(index_engine, page_size=1)
    first.sync(max_pages=2)

    consortium.indexer(index_engine, page_size=1).sync()

    with Session(index_engine) as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 3


def test_indexer_leaves_unconfirmed_blocks_for_later(
    consortium: Consortium, index_engine: Engine
) -> None:
    anchor(consortium, documents(2, "young"), "young")
    head = int(consortium.under_test.chain.request("eth_blockNumber"), 16)

    report = consortium.indexer(index_engine, confirmations=1).sync()

    assert report.to_block == head - 1
    with Session(index_engine) as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 0


def test_reorg_rolls_the_index_back_to_the_fork_point_and_follows_the_new_branch(
    consortium: Consortium, index_engine: Engine, tmp_path: Path
) -> None:
    chain = consortium.under_test.chain
    indexer = consortium.indexer(index_engine)
    indexer.sync()
    fork_point = int(chain.request("eth_blockNumber"), 16)
    snapshot = chain.request("evm_snapshot", [])
    orphan = documents(2, "orphaned-branch")
    anchor(consortium, orphan, "orphan")
    indexer.sync()
    assert queries.batch(index_engine, orphan.root) is not None

    chain.request("evm_revert", [snapshot])
    winner = documents(2, "winning-branch")
    anchor_from_another_node(consortium, winner, tmp_path)
    consortium.under_test.mine()
    report = indexer.sync()

    assert report.reorged_to is not None
    assert report.reorged_to <= fork_point
    assert queries.batch(index_engine, orphan.root) is None
    assert queries.batch(index_engine, winner.root) is not None


def test_a_reorg_deeper_than_a_window_of_recorded_blocks_finds_the_exact_fork_point(
    consortium: Consortium, index_engine: Engine, tmp_path: Path
) -> None:
    """The fork-point search reads the recorded blocks 64 at a time, newest first: a
    branch of 80 recorded blocks (one page a block) replaced by a shorter one is rolled
    back to the block where they part, not to an older one, and not left in place."""
    chain = consortium.under_test.chain
    indexer = consortium.indexer(index_engine, page_size=1)
    anchor(consortium, documents(2, "before-the-fork"), "before")
    indexer.sync()
    fork_point = int(chain.request("eth_blockNumber"), 16)
    snapshot = chain.request("evm_snapshot", [])
    orphan = documents(2, "deep-orphaned-branch")
    anchor(consortium, orphan, "orphan")
    for _ in range(80):
        consortium.under_test.mine()
    indexer.sync()
    assert queries.batch(index_engine, orphan.root) is not None

    chain.request("evm_revert", [snapshot])
    winner = documents(2, "shorter-winning-branch")
    anchor_from_another_node(consortium, winner, tmp_path)
    report = indexer.sync()

    assert report.reorged_to == fork_point
    assert queries.batch(index_engine, orphan.root) is None
    assert queries.batch(index_engine, winner.root) is not None
    assert indexer.checkpoint() == int(chain.request("eth_blockNumber"), 16)
