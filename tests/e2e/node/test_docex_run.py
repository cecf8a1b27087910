"""``docex run`` as a process: a managed anvil, the dev consortium, the VN node's API;
Ctrl-C stops everything it started; the next run resumes on the persisted chain."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from certificates.schemas.samples import sample_document
from ledger.chains import find_free_port

REPO = Path(__file__).resolve().parents[3]
DOCEX = REPO / ".venv" / "bin" / "docex"

pytestmark = pytest.mark.slow


class RunningNode:
    """One ``docex run`` process, its printed lines, stopped by its PID."""

    def __init__(self, data_dir: Path, port: int, anvil_port: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCEX_")}
        self.base = f"http://127.0.0.1:{port}"
        self.log = (data_dir.parent / f"run-{port}.log").open("ab")
        self.process = subprocess.Popen(
            [
                str(DOCEX),
                "run",
                "--data-dir",
                str(data_dir),
                "--port",
                str(port),
                "--anvil-port",
                str(anvil_port),
            ],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
            cwd=REPO,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for_line(self, prefix: str, timeout: float = 180.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.process.poll() is None, "docex run exited; see its log"
                continue
            if line.strip().startswith(prefix):
                return line
        raise AssertionError(f"docex run printed no line starting with {prefix!r}")

    def sample_token(self) -> str:
        """The printed sample token, once the API answers (it is printed just before)."""
        token = self.wait_for_line("sample token").rsplit(" ", 1)[-1].strip()
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{self.base}/healthz", timeout=5)
                return token
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the API never answered"
                assert self.process.poll() is None, "docex run exited; see its log"
                time.sleep(0.05)

    def interrupt(self) -> int:
        """Ctrl-C, by PID; the exit status."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            self.log.close()


def wait_until_anchored(client: httpx.Client, url: str, token: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        receipt: dict[str, Any] = client.get(
            url, headers={"Authorization": f"Bearer {token}"}
        ).json()
        if receipt["status"] == "anchored":
            return receipt
        time.sleep(0.1)
    raise AssertionError("the receipt stayed pending")


def wait_until_valid(client: httpx.Client, wrapped: dict[str, Any]) -> dict[str, Any]:
    """The verdict once the node's index has caught up with the anchor."""
    deadline = time.monotonic() + 60
    while True:
        verdict: dict[str, Any] = client.post("/v1/verify", json=wrapped).json()
        if verdict["valid"] or time.monotonic() > deadline:
            return verdict
        time.sleep(0.1)


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_docex_run_issues_and_verifies_stops_on_ctrl_c_and_resumes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port, anvil_port = find_free_port(), find_free_port()

    node = RunningNode(data_dir, port, anvil_port)
    try:
        token = node.sample_token()
        with httpx.Client(base_url=node.base, timeout=30) as client:
            assert client.get("/healthz").json() == {"status": "ok"}
            assert client.get("/docs").status_code == 200
            accepted = client.post(
                "/v1/documents",
                json=sample_document("coo/1", 7),
                headers={"Authorization": f"Bearer {token}"},
            )
            assert accepted.status_code == 202, accepted.text
            receipt = wait_until_anchored(client, accepted.headers["location"], token)
            wrapped = receipt["document"]
            verdict = wait_until_valid(client, wrapped)
            assert verdict["valid"] is True, verdict
            raw = {"Accept": "application/vnd.ipld.raw"}
            # stored content is not public (ADR 0023); a share link opens it
            assert client.get(f"/ipfs/{receipt['cid']}", headers=raw).status_code == 401
            link = client.post(
                f"/v1/documents/{receipt['id']}/share-links",
                json={"expiresInDays": 1},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert link.status_code == 201, link.text
            shared = client.get(
                f"/ipfs/{receipt['cid']}",
                headers={**raw, "Docex-Share-Token": link.json()["token"]},
            )
            assert shared.status_code == 200
    finally:
        status = node.interrupt()
    assert status == 0
    assert port_is_free(anvil_port), "the managed anvil outlived docex run"
    assert port_is_free(port)

    resumed = RunningNode(data_dir, port, anvil_port)
    try:
        token = resumed.sample_token()
        with httpx.Client(base_url=resumed.base, timeout=30) as client:
            again = wait_until_valid(client, wrapped)
            assert again["valid"] is True, again
            old = client.get(
                f"/v1/receipts/{receipt['id']}", headers={"Authorization": f"Bearer {token}"}
            )
            assert old.json()["txHash"] == receipt["txHash"]
    finally:
        assert resumed.interrupt() == 0
    assert port_is_free(anvil_port)
