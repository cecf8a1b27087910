"""``docex backup`` of a ``docex run`` node while clients keep issuing, the data dir
destroyed, ``docex restore`` into a new one, the node started there: counted against
the chain's own events, no document is lost and none is anchored twice."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from certificates.schemas.samples import sample_document
from ledger import ManagedAnvil
from ledger.chains import find_free_port
from node.runtime import read_issuer_key
from node.settings import NodeSettings

if TYPE_CHECKING:
    from conftest import ChainBatches, Launcher

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
DOCEX = REPO / ".venv" / "bin" / "docex"
PER_REQUEST = 5
SMALL_BATCHES = {
    "DOCEX_BATCH_SIZE": "40",
    "DOCEX_BATCH_MAX_LATENCY_MS": "50",
    "DOCEX_RECEIVE": "false",
}


class Issuing(threading.Thread):
    """A clerk issuing certificates of origin, PER_REQUEST a request, until stopped;
    every accepted request is recorded with the moment its 202 came back."""

    def __init__(self, base: str, token: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.token = token
        self.stop = threading.Event()
        #: (time the 202 was read, receipt ids)
        self.accepted: list[tuple[float, list[str]]] = []
        self.failures: list[str] = []

    def run(self) -> None:
        number = 1
        with httpx.Client(base_url=self.base, timeout=60) as client:
            while not self.stop.is_set():
                body = [sample_document("coo/1", number + i) for i in range(PER_REQUEST)]
                answer = client.post(
                    "/v1/documents", json=body, headers={"Authorization": f"Bearer {self.token}"}
                )
                if answer.status_code != 202:
                    self.failures.append(answer.text)
                    return
                ids = [receipt["id"] for receipt in answer.json()["receipts"]]
                self.accepted.append((time.monotonic(), ids))
                number += PER_REQUEST
                time.sleep(0.01)

    def receipts(self, *, before: float | None = None) -> list[str]:
        return [i for at, ids in self.accepted if before is None or at < before for i in ids]


def docex(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DOCEX_")}
    return subprocess.run(
        [str(DOCEX), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**clean, **(env or {})},
        timeout=600,
    )


def backup(
    anvil: ManagedAnvil, data_dir: Path, destination: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """``docex backup`` of a node on the test's anvil, configured as the node is."""
    return docex(
        "backup",
        str(destination),
        "--data-dir",
        str(data_dir),
        *args,
        env={"DOCEX_CHAIN": "rpc", "DOCEX_RPC_URL": anvil.url},
    )


def outbox(data_dir: Path) -> dict[str, tuple[str, bytes | None, bytes | None]]:
    """receipt id -> (state, batch root, target hash)."""
    with sqlite3.connect(data_dir / "node.sqlite", timeout=30) as db:
        return {
            row[0]: (row[1], row[2], row[3])
            for row in db.execute(
                "SELECT o.id, o.state, b.root, o.target_hash FROM outbox o "
                "LEFT JOIN batches b ON o.batch_id = b.id"
            )
        }


def wait_until_all_anchored(data_dir: Path, count: int) -> None:
    deadline = time.monotonic() + 180
    while True:
        states = outbox(data_dir)
        anchored = sum(1 for state, _, _ in states.values() if state == "anchored")
        if anchored == count == len(states):
            return
        assert time.monotonic() < deadline, f"{anchored} of {count} anchored"
        time.sleep(0.2)


def test_backup_under_load_restore_elsewhere_loses_and_duplicates_nothing(
    launch: Launcher, anvil: ManagedAnvil, chain_batches: ChainBatches, tmp_path: Path
) -> None:
    node = launch("vn", "--country", "VN", env=SMALL_BATCHES)
    token = node.sample_token()
    clerk = Issuing(node.base, token)
    clerk.start()
    deadline = time.monotonic() + 60
    while sum(1 for s, _, _ in outbox(node.data_dir).values() if s == "anchored") < 50:
        assert not clerk.failures, clerk.failures
        assert time.monotonic() < deadline, "nothing anchored"
        time.sleep(0.05)

    # the backup runs while the clerk keeps issuing and the node keeps anchoring
    backup_began = time.monotonic()
    destination = tmp_path / "backup"
    taken = backup(anvil, node.data_dir, destination, "--country", "VN", "--json")
    backup_ended = time.monotonic()
    assert taken.returncode == 0, taken.stderr
    summary = json.loads(taken.stdout)
    assert summary["mode"] == "online"
    assert summary["head_block"] is not None
    issued_during = [at for at, _ in clerk.accepted if backup_began < at < backup_ended]
    clerk.stop.set()
    clerk.join(timeout=120)
    assert not clerk.failures, clerk.failures
    assert issued_during, "no document was issued while the backup ran"

    accepted = clerk.receipts()
    wait_until_all_anchored(node.data_dir, len(accepted))
    live = outbox(node.data_dir)
    assert node.interrupt() == 0
    issuer = read_issuer_key(NodeSettings(data_dir=node.data_dir)).address
    shutil.rmtree(node.data_dir)  # the machine is gone

    target = tmp_path / "vn-restored"
    restored = docex(
        "restore",
        str(destination),
        "--data-dir",
        str(target),
        "--chain",
        "rpc",
        "--rpc-url",
        anvil.url,
        "--json",
    )
    assert restored.returncode == 0, restored.stderr
    report: dict[str, Any] = json.loads(restored.stdout)["resync"]

    restarted = launch("vn-restored", "--country", "VN", env=SMALL_BATCHES)
    restarted.wait_until_up()
    back = outbox(target)
    # nothing is left for the restored node to anchor: it holds only final documents
    assert {state for state, _, _ in back.values()} == {"anchored"}

    # every document accepted before the backup began is back, as it was
    before = clerk.receipts(before=backup_began)
    assert before
    assert {i: back[i] for i in before} == {i: live[i] for i in before}
    # and every document the backup holds is as the live node last had it
    assert {i: live[i] for i in back} == back

    # against the chain: every document ever accepted was anchored once (by the first
    # node), and the restored node anchored nothing again
    on_chain = chain_batches(anvil, target, issuer)
    assert sum(on_chain.values()) == len(accepted), "a document anchored twice or never"
    restored_roots = {root for _, root, _ in back.values()}
    assert restored_roots <= set(on_chain)
    after = {bytes.fromhex(b["root"].removeprefix("0x")) for b in report["anchored_after_backup"]}
    assert after == set(on_chain) - restored_roots
    # what the backup lacks was accepted after it began (its cut), and is reported
    missing = set(accepted) - set(back)
    assert not missing & set(before)
    assert {live[i][1] for i in missing} <= after
    assert report["own_batches_on_chain"] == len(on_chain)
    assert report["own_batches_in_backup"] == len(restored_roots)

    # each restored document verifies, from the restored node
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=restarted.base, timeout=60) as client:
        for receipt_id in before[:: max(len(before) // 10, 1)]:
            receipt = client.get(f"/v1/receipts/{receipt_id}", headers=auth).json()
            assert receipt["status"] == "anchored", receipt
            deadline = time.monotonic() + 120
            while not (verdict := client.post("/v1/verify", json=receipt["document"]).json())[
                "valid"
            ]:
                assert time.monotonic() < deadline, verdict
                time.sleep(0.2)
    # and still nothing new on chain once the restored node has run a while
    assert restarted.interrupt() == 0
    assert chain_batches(anvil, target, issuer) == on_chain


def test_a_restored_addressee_fetches_what_was_sent_to_it_after_its_backup(
    launch: Launcher, anvil: ManagedAnvil, tmp_path: Path
) -> None:
    fast = {"DOCEX_BATCH_MAX_LATENCY_MS": "100", "DOCEX_RECEIVE_POLL_MS": "200"}
    vn_port = find_free_port()
    vn_url = f"http://127.0.0.1:{vn_port}"
    vn = launch("vn", "--country", "VN", port=vn_port, env=fast)
    vn_token = vn.sample_token()
    kr = launch(
        "kr",
        "--country",
        "KR",
        "--join",
        str(vn.data_dir),
        "--peer-gateway",
        f"VN={vn_url}",
        env=fast,
    )
    kr.wait_until_up()
    officer = {"Authorization": f"Bearer {kr.add_user('kr-customs', 'customs-officer')}"}
    issuer = {"Authorization": f"Bearer {vn_token}"}

    def send_to_kr(index: int) -> str:
        certificate = {**sample_document("coo/1", index), "importingCountry": "KR"}
        with httpx.Client(base_url=vn.base, timeout=30) as client:
            accepted = client.post("/v1/documents", json=certificate, headers=issuer)
            assert accepted.status_code == 202, accepted.text
            url = accepted.headers["location"]
            deadline = time.monotonic() + 90
            while (receipt := client.get(url, headers=issuer).json())["status"] != "anchored":
                assert time.monotonic() < deadline, receipt
                time.sleep(0.2)
        return str(receipt["targetHash"])

    def inbox(node: Any, count: int) -> set[str]:
        deadline = time.monotonic() + 90
        with httpx.Client(base_url=node.base, timeout=30) as client:
            while (
                len(listed := client.get("/v1/inbox", headers=officer).json()["documents"]) < count
            ):
                assert time.monotonic() < deadline, listed
                time.sleep(0.2)
        return {document["targetHash"] for document in listed}

    first = send_to_kr(1)
    assert inbox(kr, 1) == {first}
    destination = tmp_path / "kr-backup"
    taken = backup(anvil, kr.data_dir, destination, "--country", "KR")
    assert taken.returncode == 0, taken.stderr
    later = {send_to_kr(2), send_to_kr(3)}  # after the backup
    assert kr.interrupt() == 0
    shutil.rmtree(kr.data_dir)

    restored = docex(
        "restore",
        str(destination),
        "--data-dir",
        str(tmp_path / "kr-restored"),
        "--chain",
        "rpc",
        "--rpc-url",
        anvil.url,
        "--json",
        env={"DOCEX_PEER_GATEWAYS": json.dumps({"VN": vn_url})},
    )
    assert restored.returncode == 0, restored.stderr
    report = json.loads(restored.stdout)["resync"]
    assert report["inbox_refetched"] == len(later)
    assert report["inbox_batches_pending"] == 0

    back = launch("kr-restored", "--country", "KR", "--peer-gateway", f"VN={vn_url}", env=fast)
    back.wait_until_up()
    assert inbox(back, 3) == {first, *later}
