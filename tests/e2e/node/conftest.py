"""Nodes as ``docex run`` processes on one anvil the test starts: each with its own data
dir, port and keys, started by the test and stopped by PID (SIGINT, SIGKILL if it hangs).
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import (
    ContractBinding,
    Deployment,
    EventIndexer,
    JsonRpcChain,
    ManagedAnvil,
    WatchedContract,
    load_artifacts,
    open_index,
)
from ledger.chains import anvil_binary, find_free_port
from ledger.index_schema import Batch

REPO = Path(__file__).resolve().parents[3]
DOCEX = REPO / ".venv" / "bin" / "docex"


class NodeProcess:
    """One ``docex run`` process: its printed lines, its API, stopped by its PID."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        args: list[str],
        env: dict[str, str] | None = None,
        *,
        new_session: bool = False,
    ) -> None:
        """``new_session``: in a process group of its own, so that a test can send a
        Ctrl-C to the whole group, as a terminal does, without reaching pytest."""
        clean = {k: v for k, v in os.environ.items() if not k.startswith("DOCEX_")}
        self.data_dir = data_dir
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = data_dir.parent / f"{data_dir.name}-{port}.log"
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(DOCEX), "run", "--data-dir", str(data_dir), "--port", str(port), *args],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            # throwaway dev consortium keys: light scrypt (NodeSettings.dev_key_scrypt_n)
            env={**clean, "DOCEX_DEV_KEY_SCRYPT_N": "4096", **(env or {})},
            cwd=REPO,
            start_new_session=new_session,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def _log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    @property
    def stderr(self) -> str:
        """What it wrote on stderr (its JSON log lines, and any traceback)."""
        return self.log_path.read_text(errors="replace")

    def descendants(self) -> set[int]:
        """Every process under this one (the managed anvil, API and wrapping processes,
        multiprocessing's helpers), from /proc."""
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    stat = (entry / "stat").read_text()
                    parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
        found: set[int] = set()
        frontier = {self.process.pid}
        while frontier:
            children = {pid for pid, parent in parents.items() if parent in frontier}
            frontier = children - found
            found |= children
        return found

    def wait(self, timeout: float = 90.0) -> int:
        """Its exit status, once it has ended by itself."""
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.log.close()

    def wait_for_line(self, prefix: str, timeout: float = 180.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.process.poll() is None, f"docex run exited:\n{self._log_tail()}"
                continue
            if line.strip().startswith(prefix):
                return line
        raise AssertionError(f"docex run printed no line starting with {prefix!r}")

    def sample_token(self) -> str:
        """The printed sample issuer token, once the API answers."""
        token = self.wait_for_line("sample token").rsplit(" ", 1)[-1].strip()
        self.wait_until_up()
        return token

    def wait_until_up(self, timeout: float = 180.0) -> None:
        # generous: under `make test -n 2` three nodes may start beside a soak scenario
        deadline = time.monotonic() + timeout
        while True:
            try:
                httpx.get(f"{self.base}/healthz", timeout=5)
                return
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the API never answered"
                assert self.process.poll() is None, f"docex run exited:\n{self._log_tail()}"
                time.sleep(0.05)

    def add_user(self, name: str, role: str) -> str:
        """A token from ``docex users add`` on this node's data dir."""
        done = subprocess.run(
            [str(DOCEX), "users", "add", name, "--role", role, "--data-dir", str(self.data_dir)],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
            env={k: v for k, v in os.environ.items() if not k.startswith("DOCEX_")},
        )
        return done.stdout.strip().splitlines()[-1]

    def interrupt(self) -> int:
        """Ctrl-C by PID; SIGKILL if it does not stop within a minute. The exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            self.log.close()

    def kill(self) -> None:
        """``kill -9`` by PID (nothing if it has ended)."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.log.close()


Launcher = Callable[..., NodeProcess]


@pytest.fixture
def anvil(tmp_path: Path) -> Iterator[ManagedAnvil]:
    """One anvil for every node of the test, started and stopped (by PID) by the test."""
    chain = ManagedAnvil(
        anvil_binary(REPO / "node_modules"), tmp_path / "anvil", port=find_free_port()
    )
    chain.start()
    try:
        yield chain
    finally:
        chain.stop()


@pytest.fixture
def launch(tmp_path: Path, anvil: ManagedAnvil) -> Iterator[Launcher]:
    """``launch(name, *args, env=...)``: a node on the test's anvil, data in tmp/name."""
    started: list[NodeProcess] = []

    def start(
        name: str, *args: str, port: int | None = None, env: dict[str, str] | None = None
    ) -> NodeProcess:
        node = NodeProcess(
            tmp_path / name,
            port or find_free_port(),
            ["--chain", "rpc", "--rpc-url", anvil.url, *args],
            env,
        )
        started.append(node)
        return node

    yield start
    for node in started:
        if node.process.poll() is None:
            node.interrupt()


@pytest.fixture
def launch_on_own_chain(tmp_path: Path) -> Iterator[Launcher]:
    """``launch(name, anvil_port, *args)``: ``docex run`` on its own managed anvil (the
    default chain), data in tmp/name, in a session of its own; killed by PID at the end
    if a test left it running."""
    started: list[NodeProcess] = []

    def start(name: str, anvil_port: int, *args: str, port: int | None = None) -> NodeProcess:
        node = NodeProcess(
            tmp_path / name,
            port or find_free_port(),
            ["--anvil-port", str(anvil_port), *args],
            new_session=True,
        )
        started.append(node)
        return node

    yield start
    for node in started:
        node.kill()


#: ``chain_batches(anvil, data_dir, issuer)``: the chain's own record of an issuer's
#: batches (every issuer's with None)
ChainBatches = Callable[[ManagedAnvil, Path, str | None], dict[bytes, int]]


@pytest.fixture
def chain_batches(tmp_path: Path) -> ChainBatches:
    """Every batch root anchored on chain by an issuer (any, with None) -> its document
    count, from an index the test builds from the chain itself (not the node's)."""

    def read(anvil: ManagedAnvil, data_dir: Path, issuer: str | None) -> dict[bytes, int]:
        deployment = Deployment.read(data_dir)
        artifacts = load_artifacts()
        documents = ContractBinding(artifacts["DocumentRegistry"], deployment.document_registry)
        consortium = ContractBinding(
            artifacts["ConsortiumRegistry"], deployment.consortium_registry
        )
        index = open_index(tmp_path / f"independent-index-{time.monotonic_ns()}.sqlite")
        chain = JsonRpcChain(anvil.url)
        try:
            EventIndexer(
                chain,
                index,
                [
                    WatchedContract("ConsortiumRegistry", consortium.address, consortium.abi),
                    WatchedContract("DocumentRegistry", documents.address, documents.abi),
                ],
                start_block=deployment.deployed_block,
            ).sync()
            with Session(index) as session:
                rows = session.execute(select(Batch.root, Batch.issuer, Batch.document_count)).all()
        finally:
            chain.close()
            index.dispose()
        wanted = None if issuer is None else bytes.fromhex(issuer.removeprefix("0x").lower())
        return {row.root: row.document_count for row in rows if wanted in (None, row.issuer)}

    return read
