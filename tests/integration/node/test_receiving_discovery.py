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
from ledger import Journal, open_index
from ledger.chains import find_free_port
from node.chain.index_follower import sync_index
from node.chain.ledger_link import LedgerLink, link_ledger
from node.dev.dev_consortium import keystore_path, load_or_create_key

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration


def kr_declaration_to_vn(number: int) -> JsonObject:
    declaration = sample_document("declaration/1", number)
    declaration["customsOffice"] = {"code": "KRICN", "name": "Incheon Customs", "country": "KR"}
    declaration["addresseeCountries"] = ["VN"]
    return declaration


def anchor_to_vn(issuer: LedgerLink, number: int) -> None:
    builder = BatchBuilder()
    builder.add(validate_document(kr_declaration_to_vn(number)))
    batch = builder.sign(signing_key=issuer.signing_key, domain=issuer.domain)
    issuer.anchor(f"kr-{number}", batch.anchor.root, "declaration/1", 1, batch.anchor.addressees)


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
    kr = link_ledger(
        ledger.chain,
        ledger.deployment,
        Journal(tmp_path / "kr-journal.sqlite"),
        open_index(tmp_path / "kr-index.sqlite"),
        load_or_create_key(keystore_path(node.runtime.settings.data_dir / "keys", "KR", "issuer")),
    )
    receiver = node.runtime.receiver
    assert receiver is not None
    inbox = node.services.inbox
    anchor_to_vn(kr, 1)
    sync_index(ledger, node.services.metrics)

    with BatchReads() as reads:
        receiver.run_once()
    assert reads.count == 1
    assert inbox.pending_count() == 1
    first_block = inbox.highest_tracked_block()

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
    assert inbox.highest_tracked_block() > first_block
