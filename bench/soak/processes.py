"""The processes a soak scenario drives: ``docex run`` nodes and an anvil, each started
here and stopped by its own PID (never by name)."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Final

import httpx

from ledger import ManagedAnvil
from ledger.chains import anvil_binary, find_free_port

REPO = Path(__file__).resolve().parents[2]
#: the docex beside this interpreter (the project's venv when run by make)
DOCEX = Path(sys.executable).parent / "docex"


#: the throwaway nodes' dev consortium keystores: light scrypt (NodeSettings.dev_key_scrypt_n)
LIGHT_DEV_KEYS: Final = {"DOCEX_DEV_KEY_SCRYPT_N": "4096"}


def clean_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any ``DOCEX_*`` variable, plus ``extra``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DOCEX_")}
    return {**clean, **(extra or {})}


def start_anvil(directory: Path) -> ManagedAnvil:
    """An anvil on a free 127.0.0.1 port, its state persisted in ``directory``."""
    anvil = ManagedAnvil(anvil_binary(REPO / "node_modules"), directory, port=find_free_port())
    anvil.start().close()
    return anvil


class NodeProcess:
    """One ``docex run``: its printed lines, its API, its databases, stopped by its PID."""

    def __init__(
        self,
        data_dir: Path,
        args: list[str],
        env: dict[str, str] | None = None,
        port: int | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port or find_free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = (log_dir or data_dir.parent) / f"{data_dir.name}-{self.port}.log"
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(DOCEX), "run", "--data-dir", str(data_dir), "--port", str(self.port), *args],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=clean_environment({**LIGHT_DEV_KEYS, **(env or {})}),
            cwd=REPO,
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

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:]

    def wait_for_line(self, prefix: str, timeout: float = 180.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    raise RuntimeError(f"docex run exited:\n{self.log_tail()}") from None
                continue
            if line.strip().startswith(prefix):
                return line
        raise RuntimeError(f"docex run printed no line starting with {prefix!r}")

    def sample_token(self) -> str:
        """The printed sample issuer token, once the API answers."""
        token = self.wait_for_line("sample token").rsplit(" ", 1)[-1].strip()
        self.wait_until_up()
        return token

    def wait_until_up(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                httpx.get(f"{self.base}/healthz", timeout=5)
                return
            except httpx.TransportError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"docex run exited:\n{self.log_tail()}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError("the node's API never answered") from None
                time.sleep(0.05)

    def add_user(self, name: str, role: str) -> str:
        """A token from ``docex users add`` on this node's data dir."""
        done = subprocess.run(
            [str(DOCEX), "users", "add", name, "--role", role, "--data-dir", str(self.data_dir)],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
            env=clean_environment(),
        )
        return done.stdout.strip().splitlines()[-1]

    def child_pids(self) -> list[int]:
        """The PIDs this node started (its managed anvil), from /proc."""
        children: list[int] = []
        for task in Path(f"/proc/{self.pid}/task").glob("*"):
            with contextlib.suppress(OSError):
                children += [int(p) for p in (task / "children").read_text().split()]
        return children

    def anvil_pid(self) -> int:
        """The PID of the anvil this node started (its child named ``anvil``)."""
        for pid in self.child_pids():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/comm").read_text().strip() == "anvil":
                    return pid
        raise RuntimeError(f"node {self.pid} has no anvil child")

    def interrupt(self, timeout: float = 60.0) -> int:
        """Ctrl-C by PID; SIGKILL if it does not stop in time. The exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
        finally:
            self._log.close()

    def kill(self) -> None:
        """``kill -9`` by PID."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._log.close()

    def log_count(self, message: str) -> int:
        """How many JSON log lines of this node carry ``message``."""
        needle = f'"message": "{message}"'
        return sum(
            needle in line for line in self.log_path.read_text(errors="replace").splitlines()
        )

    def wait_exit(self, timeout: float) -> int | None:
        """The exit status once the process ends by itself, None if it is still running."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    # --- the node's own records (read-only) -----------------------------------------

    def outbox_states(self) -> dict[str, int]:
        with contextlib.closing(
            sqlite3.connect(f"file:{self.data_dir / 'node.sqlite'}?mode=ro", uri=True)
        ) as db:
            db.execute("PRAGMA busy_timeout=10000")
            rows = db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall()
        return {str(state): int(count) for state, count in rows}

    def wait_all_anchored(self, accepted: int, timeout: float) -> float | None:
        """Seconds until ``accepted`` documents are anchored, None if not in time."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            with contextlib.suppress(sqlite3.Error):
                if self.outbox_states().get("anchored", 0) >= accepted:
                    return time.monotonic() - started
            if self.process.poll() is not None:
                return None
            time.sleep(0.1)
        return None
