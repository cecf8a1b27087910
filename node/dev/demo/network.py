"""The demo's consortium network: one managed anvil and three ``docex run`` processes.

VN's node deploys the development consortium (VN, KR, SG; KR recognises VN's
certificates of origin) on the anvil the demo started; KR's and SG's nodes join it
(``--join``) and fetch VN's documents through VN's gateway (``--peer-gateway``). Each
node has its own data dir, keys, content store and free port on 127.0.0.1. Every
process is started here and stopped here by its PID: nodes by SIGINT (their Ctrl-C,
SIGKILL if one lingers), then the chain.
"""

from __future__ import annotations

import contextlib
import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final, Protocol

import httpx

from certificates.keystore import LIGHT_SCRYPT_N
from ledger import ManagedAnvil
from ledger.chains import anvil_binary, find_free_port
from node.dev.demo.failures import DemoAborted

#: npm installs anvil under the repository's node_modules (``make setup``)
NODE_MODULES: Final = Path(__file__).resolve().parents[3] / "node_modules"
COUNTRIES: Final = ("VN", "KR", "SG")
#: how long a node may take to print its start-up lines / answer on its port
START_TIMEOUT: Final = 120.0
STOP_TIMEOUT: Final = 30.0

#: what the demo tells every node unless ``--node-config`` says otherwise: batches close
#: fast, the receiver polls often, one verifier (the demo, from 127.0.0.1) may verify
#: every certificate at once (the public default is 50/s per client address), and the
#: members' keys, which live for minutes in the demo's working directory, are encrypted
#: at scrypt's light cost (2^12, not geth's standard 2^18: about half a second less per
#: keystore operation, a dozen on first start; a real node keeps the standard cost)
DEMO_NODE_SETTINGS: Final[Mapping[str, object]] = {
    "dev_key_scrypt_n": LIGHT_SCRYPT_N,
    "batch_max_latency_ms": 200,
    "receive_poll_ms": 200,
    "verify_rate_per_second": 5000.0,
    "verify_burst": 5000,
    "log_level": "warning",
}


def _ignore(name: str, pid: int, seconds: float) -> None:
    del name, pid, seconds


class TourNetwork(Protocol):
    """What the tour's steps need of a network of member nodes (VN, KR and SG at least):
    :class:`DemoNetwork` on anvil, or the members of `docex network`
    (:class:`~node.dev.demo.consortium_network.ConsortiumTourNetwork`)."""

    #: one line saying what runs, for the tour's first step
    description: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def add_user(self, country: str, name: str, role: str, types: str = "") -> str: ...

    def url(self, country: str) -> str: ...

    def data_dir(self, country: str) -> Path: ...

    @property
    def rpc_url(self) -> str: ...

    def started(self) -> list[tuple[str, str, int]]:
        """(what, where, PID) of every process started."""
        ...

    def __enter__(self) -> TourNetwork: ...

    def __exit__(self, *_: object) -> None: ...


@contextmanager
def stop_signals_ignored() -> Iterator[None]:
    """While stopping: a second Ctrl-C (or kill) must not leave processes behind."""
    previous = {
        number: signal.signal(number, signal.SIG_IGN) for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def add_node_user(
    data_dir: Path, name: str, role: str, types: str, environment: Mapping[str, str]
) -> str:
    """A bearer token from ``docex users add`` on the node data dir ``data_dir``."""
    command = [*docex_command(), "users", "add", name, "--role", role]
    command += ["--data-dir", str(data_dir)]
    if types:
        command += ["--types", types]
    done = subprocess.run(  # noqa: S603 - our own executable, no shell
        command, capture_output=True, text=True, env=dict(environment), check=False
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise DemoAborted(f"docex users add {name} failed: {done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


def docex_command() -> list[str]:
    """The ``docex`` executable of this interpreter's environment."""
    script = Path(sys.executable).with_name("docex")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from node.cli.main import app; app()"]


def child_environment(inherited: Mapping[str, str]) -> dict[str, str]:
    """``inherited`` without ``DOCEX_*``: a demo node is configured by its own config
    file and options, never by the settings of whoever runs the demo."""
    return {key: value for key, value in inherited.items() if not key.startswith("DOCEX_")}


@dataclass
class MemberNode:
    """One member's ``docex run`` process, its port and its data dir."""

    country: str
    data_dir: Path
    port: int
    process: subprocess.Popen[str]
    log: IO[bytes]
    lines: list[str] = field(default_factory=list)
    _printed: queue.Queue[str] = field(default_factory=queue.Queue, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.country.lower()}-node.log"

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-2000:]
        return ""

    def __post_init__(self) -> None:
        # the node's stdout is drained all along: a full pipe would block the node
        threading.Thread(
            target=self._read, name=f"docex-demo-{self.country}-stdout", daemon=True
        ).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with contextlib.suppress(ValueError, OSError):  # closed when the node is stopped
            for line in self.process.stdout:
                self.lines.append(line)
                self._printed.put(line)

    def wait_for_line(self, prefix: str, timeout: float = START_TIMEOUT) -> str:
        """The first printed line starting with ``prefix`` (the node's start-up lines)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._printed.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if line.strip().startswith(prefix):
                return line.strip()
        raise DemoAborted(
            f"{self.country}'s node did not start (exit {self.process.poll()}):\n{self.log_tail()}"
        )

    def wait_until_up(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise DemoAborted(f"{self.country}'s node exited:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise DemoAborted(f"{self.country}'s node never answered on {self.base_url}")
            time.sleep(0.05)

    def interrupt(self) -> None:
        """Ctrl-C by PID (the node stops its API and workers, then exits)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    def stop(self) -> None:
        """Ctrl-C by PID; SIGKILL by PID when it has not stopped in time."""
        try:
            self.interrupt()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        finally:
            self.log.close()
            if self.process.stdout is not None:  # at its end: the reader thread is done
                with contextlib.suppress(OSError, ValueError):
                    self.process.stdout.close()


class DemoNetwork:
    """Anvil plus the VN, KR and SG nodes under ``workdir``; a context manager that
    stops everything it started, by PID, however it is left (Ctrl-C included)."""

    description = "VN, KR and SG member nodes on one anvil chain"

    def __init__(
        self,
        workdir: Path,
        *,
        environment: Mapping[str, str],
        node_settings: Mapping[str, object] | None = None,
        on_stopped: Callable[[str, int, float], None] | None = None,
    ) -> None:
        self.workdir = workdir
        #: told (name, PID, seconds) as each process has stopped
        self._stopped = on_stopped or _ignore
        self._environment = child_environment(environment)
        self._settings = {**DEMO_NODE_SETTINGS, **(node_settings or {})}
        self.anvil: ManagedAnvil | None = None
        self.nodes: dict[str, MemberNode] = {}

    # --- starting ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the chain, VN's node (which deploys the consortium), then KR's and SG's."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.anvil = ManagedAnvil(
            anvil_binary(NODE_MODULES), self.workdir / "anvil", port=find_free_port()
        )
        self.anvil.start()
        config = self.workdir / "node-settings.json"
        config.write_text(json.dumps(self._settings, indent=2) + "\n", encoding="utf-8")
        vn = self._launch("VN", config, [])
        vn.wait_for_line("sample token")  # printed once the consortium is deployed
        joining = ["--join", str(vn.data_dir), "--peer-gateway", f"VN={vn.base_url}"]
        for country in COUNTRIES[1:]:
            self._launch(country, config, joining)
        for node in self.nodes.values():
            node.wait_until_up()

    def _launch(self, country: str, config: Path, extra: list[str]) -> MemberNode:
        assert self.anvil is not None
        data_dir = self.workdir / country.lower()
        port = find_free_port()
        log = (self.workdir / f"{country.lower()}-node.log").open("ab")
        process = subprocess.Popen(  # noqa: S603 - our own executable, no shell
            [
                *docex_command(),
                "run",
                "--config",
                str(config),
                "--data-dir",
                str(data_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--chain",
                "rpc",
                "--rpc-url",
                self.anvil.url,
                "--country",
                country,
                *extra,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=self._environment,
            # a session of its own: a Ctrl-C on the terminal reaches the demo only, which
            # then stops the nodes (and the chain last) in order
            start_new_session=True,
        )
        node = MemberNode(country, data_dir, port, process, log)
        self.nodes[country] = node
        return node

    def add_user(self, country: str, name: str, role: str, types: str = "") -> str:
        """A bearer token from ``docex users add`` on ``country``'s data dir."""
        return add_node_user(self.nodes[country].data_dir, name, role, types, self._environment)

    @property
    def rpc_url(self) -> str:
        assert self.anvil is not None
        return self.anvil.url

    def url(self, country: str) -> str:
        return self.nodes[country].base_url

    def data_dir(self, country: str) -> Path:
        return self.nodes[country].data_dir

    def started(self) -> list[tuple[str, str, int]]:
        found = [(f"{c} node", n.base_url, n.process.pid) for c, n in self.nodes.items()]
        if self.anvil is not None and self.anvil.pid is not None:
            found.append(("anvil chain", self.anvil.url, self.anvil.pid))
        return found

    # --- stopping ---------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the nodes (Ctrl-C to each by PID, all at once, then wait for each; SIGKILL
        if one lingers), then the chain (by PID); ``on_stopped`` hears of each."""
        with stop_signals_ignored():
            began = time.monotonic()
            for node in self.nodes.values():
                with contextlib.suppress(OSError):
                    node.interrupt()
            for name, node in self.nodes.items():
                with contextlib.suppress(OSError):
                    node.stop()
                self._stopped(f"{name} node", node.process.pid, time.monotonic() - began)
            if self.anvil is not None and self.anvil.pid is not None:
                pid, began = self.anvil.pid, time.monotonic()
                self.anvil.stop()
                self._stopped("anvil chain", pid, time.monotonic() - began)

    def __enter__(self) -> DemoNetwork:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
