"""A chain that loses blocks the node counted on: the node notices (the index's checkpoint
hash no longer matches), never answers green for a document whose anchor is gone, and
re-anchors it (the journalled transaction replayed, the same bytes) or flags it
``anchor-lost`` with the reason."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from certificates.hashes import parse_hash
from certificates.json_types import JsonObject
from certificates.schemas.samples import sample_document
from ledger import queries
from ledger.chains import find_free_port
from ledger.errors import RpcUnreachable
from ledger.index_schema import ChainEvent
from node.chain.index_follower import QuietChain, index_pass, look, sync_index
from node.issuing.anchor_keeper import AnchorKeeper, KeeperReport
from node.issuing.outbox import BatchState, DocumentState

if TYPE_CHECKING:
    from conftest import NodeUnderTest


def coo(index: int) -> JsonObject:
    return sample_document("coo/1", index)


def issue_and_anchor(node: NodeUnderTest, index: int) -> dict[str, Any]:
    (receipt,) = node.issue(coo(index)).json()["receipts"]
    assert node.anchor_pending() == 1
    anchored: dict[str, Any] = node.receipt(receipt["id"]).json()
    assert anchored["status"] == "anchored"
    return anchored


def verdict(node: NodeUnderTest, document: Any) -> dict[str, str]:
    answer = node.client.post("/v1/verify", json=document)
    assert answer.status_code == 200, answer.text
    return {check["name"]: check["status"] for check in answer.json()["checks"]}


def codes(node: NodeUnderTest, document: Any) -> dict[str, str]:
    answer = node.client.post("/v1/verify", json=document)
    assert answer.status_code == 200, answer.text
    return {check["name"]: check["code"] for check in answer.json()["checks"]}


def keeper_of(node: NodeUnderTest) -> AnchorKeeper:
    assert node.services.ledger is not None
    return AnchorKeeper(node.services.outbox, node.services.ledger)


def anchors_of(node: NodeUnderTest, root: str) -> int:
    """BatchAnchored events for ``root`` in a fresh read of the chain's logs."""
    ledger = node.services.ledger
    assert ledger is not None
    logs = ledger.chain.request(
        "eth_getLogs",
        [{"fromBlock": "0x0", "toBlock": "latest", "address": ledger.documents.address}],
    )
    return sum(1 for log in logs if root[2:] in log["data"] or root in log["topics"])


def test_lost_blocks_hide_the_anchor_then_the_journal_replays_it_exactly_once(
    node: NodeUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = node.services.ledger
    assert ledger is not None
    keeper = keeper_of(node)  # one keeper throughout, as the indexer thread holds it
    kept = issue_and_anchor(node, 1)
    snapshot = ledger.chain.request("evm_snapshot")
    lost = issue_and_anchor(node, 2)
    assert verdict(node, lost["document"])["issuance"] == "valid"
    assert keeper.check().flagged == []

    ledger.chain.request("evm_revert", [snapshot])  # the blocks after the snapshot are gone
    report = ledger.indexer.sync()
    assert report.reorged_to is not None, "the index did not notice the lost blocks"
    assert verdict(node, lost["document"])["issuance"] != "valid"
    assert verdict(node, kept["document"])["issuance"] == "valid"

    # the chain holds the replay without mining it yet: the receipt says what happened
    ledger.chain.request("evm_setAutomine", [False])
    with caplog.at_level(logging.WARNING, logger="docex.node.anchor_keeper"):
        first = keeper.check(rewound=True)
    assert [r.levelno for r in caplog.records if r.message == "anchor lost"] == [logging.ERROR]
    assert first.replayed == (ledger.anchor_key(lost_batch(node, lost["id"])),)
    assert first.flagged == [lost_batch(node, lost["id"])]
    flagged = node.receipt(lost["id"]).json()
    assert flagged["status"] == "anchor-lost"
    assert "no longer holds" in flagged["error"]
    assert node.receipt(kept["id"]).json()["status"] == "anchored"

    ledger.chain.request("evm_mine")
    ledger.chain.request("evm_setAutomine", [True])
    second = keeper.check()
    assert second.restored == [lost_batch(node, lost["id"])]
    sync_index(ledger, node.services.metrics)

    again = node.receipt(lost["id"]).json()
    assert again["status"] == "anchored"
    assert again["txHash"] == lost["txHash"], "the same transaction, not a second one"
    assert verdict(node, lost["document"])["issuance"] == "valid"
    assert anchors_of(node, lost["batchRoot"]) == 1
    assert keeper.check().flagged == []


def test_a_flagged_anchor_the_index_finds_again_at_the_same_height_is_restored(
    node: NodeUnderTest,
) -> None:
    """The order the node's own thread runs in: the index's pass, then the keeper. The
    replayed transaction is mined at the height its lost block had, and the index holds it
    again before the keeper looks: the batch is no longer missing, yet still flagged. It
    must come back to ``anchored`` (a Clique chain that loses a signer replaces blocks at
    the same height; the soak's signer-killed scenario waited forever here)."""
    ledger = node.services.ledger
    assert ledger is not None
    quiet, keeper = QuietChain(), keeper_of(node)
    issue_and_anchor(node, 1)
    look(ledger, node.services.metrics, quiet, keeper=keeper)
    snapshot = ledger.chain.request("evm_snapshot")
    lost = issue_and_anchor(node, 2)
    look(ledger, node.services.metrics, quiet, keeper=keeper)
    batch = lost_batch(node, lost["id"])

    ledger.chain.request("evm_revert", [snapshot])
    ledger.chain.request("evm_setAutomine", [False])  # the replay waits in the pool
    assert look(ledger, node.services.metrics, quiet, keeper=keeper) is True
    assert node.receipt(lost["id"]).json()["status"] == "anchor-lost"
    assert verdict(node, lost["document"])["issuance"] != "valid"

    ledger.chain.request("evm_mine")  # the same height as the lost block
    assert ledger.chain_tip()[0] == lost["blockNumber"]
    report, _ = index_pass(ledger, node.services.metrics)  # the index first ...
    indexed = queries.batch(ledger.index, parse_hash(lost["batchRoot"]))
    assert indexed is not None
    assert indexed.block_number == lost["blockNumber"]
    checked = keeper.check(rewound=report.reorged_to is not None)  # ... then the keeper
    assert checked.restored == [batch]
    ledger.chain.request("evm_setAutomine", [True])
    again = node.receipt(lost["id"]).json()
    assert again["status"] == "anchored"
    assert again["blockNumber"] == lost["blockNumber"]
    assert again["txHash"] == lost["txHash"], "the same transaction, not a second one"
    assert verdict(node, lost["document"])["issuance"] == "valid"
    assert anchors_of(node, lost["batchRoot"]) == 1
    assert keeper.check(rewound=True) == KeeperReport()


def test_a_chain_that_does_not_answer_for_receipts_flags_nothing(
    make_node: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch missing from the index whose receipt the chain does not give (the endpoint
    times out) is not known lost: the pass fails, the follower retries, nothing is
    flagged. The outage is injected into the RPC client's receipt calls: a real endpoint
    that fails those calls alone cannot be made to on cue. On anvil, whose pending nonce
    counts the pool (the keeper's replay step then asks for no receipt)."""
    node: NodeUnderTest = make_node(chain="anvil", anvil_port=find_free_port())
    ledger = node.services.ledger
    assert ledger is not None
    keeper = keeper_of(node)
    snapshot = ledger.chain.request("evm_snapshot")
    anchored = issue_and_anchor(node, 1)
    ledger.chain.request("evm_revert", [snapshot])
    assert ledger.indexer.sync().reorged_to is not None  # the root is gone from the index
    ledger.chain.request("evm_setAutomine", [False])  # the replay waits in the pool
    assert ledger.manager.replay_lost().replayed
    chain = ledger.manager.chain
    real_batch = chain.batch

    def receipts_unreachable(calls: Any) -> list[Any]:
        if any(method == "eth_getTransactionReceipt" for method, _ in calls):
            raise RpcUnreachable("the chain", 3, "ReadTimeout: injected")
        return real_batch(calls)

    monkeypatch.setattr(chain, "batch", receipts_unreachable)
    with pytest.raises(RpcUnreachable):
        keeper.check(rewound=True)
    stored = node.services.outbox.receipt(anchored["id"])
    assert stored is not None
    assert stored.state is DocumentState.ANCHORED, "flagged on a chain that did not answer"

    monkeypatch.setattr(chain, "batch", real_batch)  # the chain answers: now it is known
    with caplog.at_level(logging.WARNING, logger="docex.node.anchor_keeper"):
        assert keeper.check(rewound=True).flagged == [lost_batch(node, anchored["id"])]
    # waiting in the pool heals by itself: a warning for the operator, not an error
    assert [r.levelno for r in caplog.records if r.message == "anchor lost"] == [logging.WARNING]
    flagged = node.receipt(anchored["id"]).json()
    assert flagged["status"] == "anchor-lost"
    assert "waits to be mined again" in flagged["error"]  # in the pool, not re-sent now
    ledger.chain.request("evm_mine")
    ledger.chain.request("evm_setAutomine", [True])
    assert keeper.check().restored == [lost_batch(node, anchored["id"])]


def test_an_anchor_mined_again_in_another_block_moves_its_receipt_there(
    node: NodeUnderTest,
) -> None:
    """A reorg whose new branch already holds the same transaction when the index next
    looks (a healed Clique partition: geth puts the reorged block's transactions back in
    its pool): nothing is missing, but the receipt must name the canonical block."""
    ledger = node.services.ledger
    assert ledger is not None
    keeper = keeper_of(node)
    snapshot = ledger.chain.request("evm_snapshot")
    moved = issue_and_anchor(node, 1)
    assert keeper.check().moved == []

    ledger.chain.request("evm_revert", [snapshot])  # the anchoring block is gone ...
    ledger.chain.request("evm_mine")
    ledger.chain.request("evm_mine")
    assert ledger.manager.replay_lost().replayed  # ... and the same bytes land later
    report = ledger.indexer.sync()
    assert report.reorged_to is not None

    checked = keeper.check(rewound=True)
    assert checked.moved == [lost_batch(node, moved["id"])]
    assert checked.flagged == []
    again = node.receipt(moved["id"]).json()
    assert again["status"] == "anchored"
    assert again["txHash"] == moved["txHash"], "the same transaction, not a second one"
    assert again["blockNumber"] == moved["blockNumber"] + 2
    mined = ledger.chain.request("eth_getTransactionReceipt", [moved["txHash"]])
    assert int(mined["blockNumber"], 16) == again["blockNumber"]
    assert verdict(node, moved["document"])["issuance"] == "valid"
    assert anchors_of(node, moved["batchRoot"]) == 1
    assert keeper.check(rewound=True).moved == []


def lost_batch(node: NodeUnderTest, receipt_id: str) -> str:
    receipt = node.services.outbox.receipt(receipt_id)
    assert receipt is not None
    assert receipt.batch_id is not None
    return receipt.batch_id


def test_a_chain_reset_without_state_flags_every_anchored_document(make_node: Any) -> None:
    options = {"chain": "anvil", "anvil_port": find_free_port()}
    node: NodeUnderTest = make_node(**options)
    anchored = issue_and_anchor(node, 1)
    assert verdict(node, anchored["document"])["issuance"] == "valid"
    data_dir = node.runtime.settings.data_dir
    node.stop()
    (data_dir / "anvil" / "anvil-state.json").unlink()  # the chain comes back empty

    reset: NodeUnderTest = make_node(**options)
    ledger = reset.services.ledger
    assert ledger is not None
    ledger.indexer.sync()
    with Session(ledger.index) as session:
        assert session.scalars(select(ChainEvent)).first() is None, "the index kept ghosts"
    report = keeper_of(reset).check()

    assert report.flagged == [lost_batch(reset, anchored["id"])]
    receipt = reset.client.get(f"/v1/receipts/{anchored['id']}", headers=node.auth("issuer"))
    assert receipt.json()["status"] == "anchor-lost"
    assert "DocumentRegistry" in receipt.json()["error"]
    checks = verdict(reset, anchored["document"])
    assert checks["issuance"] != "valid"
    stored = reset.services.outbox.receipt(anchored["id"])
    assert stored is not None
    assert stored.state is DocumentState.ANCHOR_LOST
    # flagged once, not again on every pass
    assert keeper_of(reset).check().flagged == []
    assert [b.state for b in reset.services.outbox.batch_anchors()] == [BatchState.ANCHOR_LOST]


def test_the_keeper_leaves_anchored_batches_alone(node: NodeUnderTest) -> None:
    issue_and_anchor(node, 1)
    report = keeper_of(node).check()
    assert (report.flagged, report.restored, report.replayed) == ([], [], ())


def test_verification_is_not_green_while_a_restarted_chain_is_unchecked(
    node: NodeUnderTest,
) -> None:
    ledger = node.services.ledger
    assert ledger is not None
    anchored = issue_and_anchor(node, 1)
    assert verdict(node, anchored["document"])["issuance"] == "valid"

    ledger.restarts.restarting()  # what the chain supervisor says before restarting anvil
    doubted = verdict(node, anchored["document"])
    assert {doubted[name] for name in ("issuance", "issuer", "status", "recognition")} == {"error"}
    assert set(codes(node, anchored["document"]).values()) == {"intact", "signed", "index-in-doubt"}
    assert doubted["integrity"] == "valid"

    token = ledger.restarts.pass_started()
    sync_index(ledger, node.services.metrics)
    ledger.restarts.checked(token)
    assert verdict(node, anchored["document"])["issuance"] == "valid"


# --- the index follower's quiet looks ---------------------------------------------------


class Statements:
    """Counts the SQL statements every engine in this process runs, while installed."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> Statements:
        event.listen(Engine, "before_cursor_execute", self._counted)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(Engine, "before_cursor_execute", self._counted)

    def _counted(self, *_: object) -> None:
        self.count += 1


def test_a_look_at_an_unchanged_chain_is_one_request_and_reads_no_database(
    node: NodeUnderTest,
) -> None:
    ledger = node.services.ledger
    assert ledger is not None
    issue_and_anchor(node, 1)
    quiet, keeper = QuietChain(), keeper_of(node)
    assert look(ledger, node.services.metrics, quiet, keeper=keeper) is True

    with Statements() as statements:
        assert look(ledger, node.services.metrics, quiet, keeper=keeper) is False
    assert statements.count == 0

    issue_and_anchor(node, 2)  # a new block: the next look is a complete pass again
    with Statements() as statements:
        assert look(ledger, node.services.metrics, quiet, keeper=keeper) is True
    assert statements.count > 0


def test_a_revocation_lost_to_a_block_at_the_same_height_is_followed_by_the_next_look(
    node: NodeUnderTest,
) -> None:
    """The tip's number alone would call this chain unchanged: the revocation's block
    was replaced by another at the same height. The look must see the other hash and undo
    the revocation in the index; the keeper replays the journalled revocation, and the
    look after its block indexes it again."""
    ledger = node.services.ledger
    assert ledger is not None
    anchored = issue_and_anchor(node, 1)
    quiet, keeper = QuietChain(), keeper_of(node)
    look(ledger, node.services.metrics, quiet, keeper=keeper)
    snapshot = ledger.chain.request("evm_snapshot")
    path = f"/v1/documents/{anchored['id']}/revoke"
    revoked = node.client.post(path, json={"reasonCode": 7}, headers=node.auth("issuer"))
    assert revoked.status_code == 200, revoked.text
    assert look(ledger, node.services.metrics, quiet, keeper=keeper) is True
    assert codes(node, anchored["document"])["status"] == "revoked"
    revocation_tip = ledger.chain_tip()

    ledger.chain.request("evm_revert", [snapshot])
    ledger.chain.request("evm_mine")
    other_tip = ledger.chain_tip()
    assert other_tip[0] == revocation_tip[0]  # the same height ...
    assert other_tip[1] != revocation_tip[1]  # ... another block

    ledger.chain.request("evm_setAutomine", [False])  # the replay waits in the pool
    assert look(ledger, node.services.metrics, quiet, keeper=keeper) is True
    assert verdict(node, anchored["document"])["status"] == "valid"  # as the chain says

    ledger.chain.request("evm_mine")  # the replayed revocation's block
    ledger.chain.request("evm_setAutomine", [True])
    assert look(ledger, node.services.metrics, quiet, keeper=keeper) is True
    assert codes(node, anchored["document"])["status"] == "revoked"
    assert look(ledger, node.services.metrics, quiet, keeper=keeper) is False
