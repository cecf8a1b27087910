"""``docex run --api-workers 2``: a second process serves the same port while the
background workers run in the first only; documents accepted by either are anchored
exactly once (checked against the chain's own events), and both give one verdict."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from certificates.schemas.samples import sample_document
from ledger import ManagedAnvil

if TYPE_CHECKING:
    from conftest import ChainBatches, Launcher

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DOCUMENTS = 30
SMALL_BATCHES = {
    "DOCEX_BATCH_SIZE": "20",
    "DOCEX_BATCH_MAX_LATENCY_MS": "50",
    "DOCEX_RECEIVE": "false",
}


def anchored_count(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "node.sqlite", timeout=30) as db:
        (count,) = db.execute("SELECT count(*) FROM outbox WHERE state = 'anchored'").fetchone()
    return int(count)


def wait_anchored(data_dir: Path, expected: int) -> None:
    deadline = time.monotonic() + 120
    while anchored_count(data_dir) < expected:
        assert time.monotonic() < deadline, f"{anchored_count(data_dir)} of {expected} anchored"
        time.sleep(0.1)


def api_only_process(line: str) -> int:
    """The PID of the API-only process, from the line ``docex run`` prints about them."""
    (pid,) = line.rsplit(":", 1)[1].split(",")
    return int(pid)


def fresh_connection(base: str, method: str, path: str, **options: Any) -> httpx.Response:
    """One request on a new connection: the kernel gives it to whichever process accepts."""
    with httpx.Client(base_url=base, timeout=30) as client:
        return client.request(method, path, **options)


def verdict(response: httpx.Response) -> tuple[bool, tuple[tuple[str, str], ...]]:
    assert response.status_code == 200, response.text
    body = response.json()
    return body["valid"], tuple((check["name"], check["status"]) for check in body["checks"])


def counters(base: str) -> tuple[float, float]:
    """(documents accepted, documents anchored) as counted by the process that answered."""
    text = fresh_connection(base, "GET", "/metrics").text
    values = dict(
        line.split(" ", 1)
        for line in text.splitlines()
        if line.startswith(("docex_documents_accepted_total", "docex_documents_anchored_total"))
    )
    return (
        float(values["docex_documents_accepted_total"]),
        float(values["docex_documents_anchored_total"]),
    )


def test_two_api_processes_share_the_port_and_anchor_every_document_once(
    launch: Launcher, anvil: ManagedAnvil, chain_batches: ChainBatches
) -> None:
    node = launch("vn", "--country", "VN", "--api-workers", "2", env=SMALL_BATCHES)
    auth = {"Authorization": f"Bearer {node.sample_token()}"}
    second_process = api_only_process(node.wait_for_line("API"))
    assert Path(f"/proc/{second_process}").exists()

    # one document per new connection: the kernel spreads them over the two sockets
    receipts = []
    for index in range(1, DOCUMENTS + 1):
        answer = fresh_connection(
            node.base, "POST", "/v1/documents", json=sample_document("coo/1", index), headers=auth
        )
        assert answer.status_code == 202, answer.text
        receipts.append(answer.json()["receipts"][0]["id"])
    wait_anchored(node.data_dir, DOCUMENTS)

    # each process counts what it did: the second accepted some and anchored none
    seen = {counters(node.base) for _ in range(40)}
    assert len(seen) == 2, seen
    (only_api, with_workers) = sorted(seen, key=lambda pair: pair[1])
    assert only_api[1] == 0
    assert with_workers[1] == DOCUMENTS
    assert only_api[0] > 0
    assert with_workers[0] > 0
    assert only_api[0] + with_workers[0] == DOCUMENTS

    wrapped = fresh_connection(
        node.base, "GET", f"/v1/receipts/{receipts[-1]}", headers=auth
    ).json()["document"]
    deadline = time.monotonic() + 60  # until the index holds the anchor
    while not verdict(fresh_connection(node.base, "POST", "/v1/verify", json=wrapped))[0]:
        assert time.monotonic() < deadline, "the node never found its own anchor"
        time.sleep(0.1)
    verdicts = {
        verdict(fresh_connection(node.base, "POST", "/v1/verify", json=wrapped)) for _ in range(20)
    }
    assert len(verdicts) == 1
    assert next(iter(verdicts))[0] is True

    assert node.interrupt() == 0
    assert not Path(f"/proc/{second_process}").exists(), "the API-only process outlived the node"
    with sqlite3.connect(node.data_dir / "node.sqlite") as db:
        node_batches = dict(
            db.execute("SELECT root, document_count FROM batches WHERE state = 'anchored'")
        )
    on_chain = chain_batches(anvil, node.data_dir, None)
    assert on_chain == node_batches
    assert sum(on_chain.values()) == DOCUMENTS, "a document was anchored twice or never"
