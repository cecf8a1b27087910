"""``kill -9`` of a ``docex run`` node while it batches and anchors, restart on the same
data dir: every accepted document is anchored exactly once, checked against the chain's
own events (a fresh index built from the chain), not only the node's database."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from certificates.schemas.samples import sample_document
from ledger import ManagedAnvil
from node.runtime import read_issuer_key
from node.settings import NodeSettings

if TYPE_CHECKING:
    from conftest import ChainBatches, Launcher

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REQUESTS = 12
PER_REQUEST = 50
SMALL_BATCHES = {
    "DOCEX_BATCH_SIZE": "40",
    "DOCEX_BATCH_MAX_LATENCY_MS": "50",
    "DOCEX_RECEIVE": "false",
}


def outbox_states(data_dir: Path) -> dict[str, int]:
    with sqlite3.connect(data_dir / "node.sqlite", timeout=30) as db:
        return dict(db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())


def test_kill_9_mid_batch_then_restart_anchors_every_document_exactly_once(
    launch: Launcher, anvil: ManagedAnvil, chain_batches: ChainBatches
) -> None:
    node = launch("vn", "--country", "VN", env=SMALL_BATCHES)
    token = node.sample_token()
    auth = {"Authorization": f"Bearer {token}"}
    accepted: list[str] = []
    with httpx.Client(base_url=node.base, timeout=60) as client:
        for request in range(REQUESTS):
            first = request * PER_REQUEST + 1
            body = [sample_document("coo/1", first + i) for i in range(PER_REQUEST)]
            answer = client.post("/v1/documents", json=body, headers=auth)
            assert answer.status_code == 202, answer.text
            accepted += [receipt["id"] for receipt in answer.json()["receipts"]]
            if request == REQUESTS // 2:
                # let the batcher get going, so the kill lands while it anchors
                deadline = time.monotonic() + 30
                while outbox_states(node.data_dir).get("anchored", 0) == 0:
                    assert time.monotonic() < deadline, "nothing anchored"
                    time.sleep(0.02)
    before = outbox_states(node.data_dir)
    node.kill()
    assert before.get("anchored", 0) < len(accepted), f"the kill came too late: {before}"

    restarted = launch("vn", "--country", "VN", env=SMALL_BATCHES)
    restarted.wait_until_up()
    deadline = time.monotonic() + 120
    while outbox_states(restarted.data_dir).get("anchored", 0) < len(accepted):
        assert time.monotonic() < deadline, outbox_states(restarted.data_dir)
        time.sleep(0.2)
    assert restarted.interrupt() == 0

    with sqlite3.connect(restarted.data_dir / "node.sqlite") as db:
        documents = dict(
            db.execute(
                "SELECT o.id, b.root FROM outbox o JOIN batches b ON o.batch_id = b.id "
                "WHERE o.state = 'anchored'"
            ).fetchall()
        )
        node_batches = dict(
            db.execute("SELECT root, document_count FROM batches WHERE state = 'anchored'")
        )
    assert sorted(documents) == sorted(accepted)
    address = read_issuer_key(NodeSettings(data_dir=restarted.data_dir)).address
    on_chain = chain_batches(anvil, restarted.data_dir, address)
    # every root the node recorded is on chain, and the chain holds no other batch of
    # this issuer: a batch re-wrapped after the crash and anchored twice would show here
    assert on_chain == node_batches
    assert sum(on_chain.values()) == len(accepted), "a document was anchored twice or never"
    assert set(documents.values()) <= set(on_chain)
