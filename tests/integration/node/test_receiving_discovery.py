"""How the receiver finds the batches addressed to its member: it reads the index's
batches again only once the index moved. A member's receiver looks every 100 ms and the
chain makes a block a second, so most looks find the index where the last one left it;
reading its batches then only cost CPU. What must not be lost: every batch addressed to
VN that the index gains is tracked on the next look after it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine, event

from certificates import BatchBuilder, validate_document
from certificates.json_types import JsonObject
from certificates.schemas.samples import sample_document
from ledger import Journal, open_index, queries
from ledger.chains import find_free_port
from node.chain.index_follower import sync_index
from node.chain.ledger_link import LedgerLink, link_ledger
from node.dev.dev_consortium import keystore_path, load_or_create_key

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration


OFFICES = {
    "KR": {"code": "KRICN", "name": "Incheon Customs", "country": "KR"},
    "SG": {"code": "SGSIN", "name": "Singapore Customs", "country": "SG"},
}


def declaration_to_vn(number: int, country: str) -> JsonObject:
    declaration = sample_document("declaration/1", number)
    declaration["customsOffice"] = OFFICES[country]
    declaration["addresseeCountries"] = ["VN"]
    return declaration


def anchor_to_vn(issuer: LedgerLink, number: int, country: str = "KR") -> bytes:
    """``country``'s declaration ``number`` to VN, anchored by ``issuer``; its batch root."""
    builder = BatchBuilder()
    builder.add(validate_document(declaration_to_vn(number, country)))
    batch = builder.sign(signing_key=issuer.signing_key, domain=issuer.domain)
    key = f"{country}-{number}"
    issuer.anchor(key, batch.anchor.root, "declaration/1", 1, batch.anchor.addressees)
    return batch.anchor.root


def issuer_link(node: NodeUnderTest, tmp_path: Path, country: str) -> LedgerLink:
    """``country``'s issuer key on the node's chain, with its own journal and index."""
    ledger = node.services.ledger
    assert ledger is not None
    keys = node.runtime.settings.data_dir / "keys"
    return link_ledger(
        ledger.chain,
        ledger.deployment,
        Journal(tmp_path / f"{country}-journal.sqlite"),
        open_index(tmp_path / f"{country}-index.sqlite"),
        load_or_create_key(keystore_path(keys, country, "issuer")),
    )


class BatchReads:
    """The statements that read the index's ``batch`` table, while installed."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> BatchReads:
        event.listen(Engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(Engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: object) -> None:
        if "FROM batch" in statement:
            self.count += 1


def test_the_receiver_reads_the_batches_again_only_once_the_index_moved(
    make_node: Any, tmp_path: Path
) -> None:
    gone = f"http://127.0.0.1:{find_free_port('127.0.0.1')}"  # no content comes: tracked only
    node: NodeUnderTest = make_node(peer_gateways={"KR": gone})
    ledger = node.services.ledger
    kr = issuer_link(node, tmp_path, "KR")
    receiver = node.runtime.receiver
    assert receiver is not None
    inbox = node.services.inbox
    anchor_to_vn(kr, 1)
    sync_index(ledger, node.services.metrics)

    with BatchReads() as reads:
        receiver.run_once()
    assert reads.count == 1
    assert inbox.pending_count() == 1

    with BatchReads() as reads:
        for _ in range(5):
            receiver.run_once()
    assert reads.count == 0  # the index has not moved: nothing new to find in it

    anchor_to_vn(kr, 2)
    with BatchReads() as reads:
        receiver.run_once()
    assert reads.count == 0  # anchored, but not indexed yet
    sync_index(ledger, node.services.metrics)
    with BatchReads() as reads:
        receiver.run_once()
    assert reads.count == 1
    assert inbox.pending_count() == 2


@pytest.mark.parametrize(
    "looked_before_the_fork",
    [
        pytest.param(True, id="from the state before the fork"),
        pytest.param(False, id="no state kept below the fork: every batch read again"),
    ],
)
def test_a_batch_the_winning_branch_holds_below_what_was_tracked_is_still_found(
    make_node: Any, tmp_path: Path, looked_before_the_fork: bool
) -> None:
    """A healed partition: VN's receiver tracked KR's batch on the branch that lost, at a
    higher block than SG's batch to VN on the branch that won. The index follows the
    winning branch; the receiver must find SG's batch although it sits below the highest
    block it tracked."""
    gone = f"http://127.0.0.1:{find_free_port('127.0.0.1')}"
    node: NodeUnderTest = make_node(peer_gateways={"KR": gone, "SG": gone})
    ledger = node.services.ledger
    kr, sg = issuer_link(node, tmp_path, "KR"), issuer_link(node, tmp_path, "SG")
    receiver = node.runtime.receiver
    assert receiver is not None
    inbox = node.services.inbox
    if looked_before_the_fork:
        anchor_to_vn(kr, 3)
        sync_index(ledger, node.services.metrics)
        receiver.run_once()
    before = inbox.pending_count()
    fork = ledger.chain.request("evm_snapshot")
    for _ in range(3):
        ledger.chain.request("evm_mine")
    lost = anchor_to_vn(kr, 1)  # the losing branch, three blocks higher
    sync_index(ledger, node.services.metrics)
    receiver.run_once()
    assert inbox.pending_count() == before + 1
    tracked = queries.batch(ledger.index, lost)
    assert tracked is not None

    ledger.chain.request("evm_revert", [fork])
    won = anchor_to_vn(sg, 2, "SG")  # the winning branch, lower
    for _ in range(4):
        ledger.chain.request("evm_mine")
    sync_index(ledger, node.services.metrics)
    indexed = queries.batch(ledger.index, won)
    assert indexed is not None
    assert indexed.block_number < tracked.block_number
    assert queries.batch(ledger.index, lost) is None  # the index follows the winning branch

    receiver.run_once()

    assert inbox.pending_count() == before + 2  # KR's, from the branch that lost, and SG's
