"""Engine processes started by docex, recorded by PID and stopped by PID only.

Each engine runs in a session of its own (its process group id is its PID). The PID
file lists what was started, with the executable, so that a stop never signals a
process docex did not start: a recycled PID running something else, or another process
of the same executable (another network's Kubo, say) that got a recycled PID, is left
alone (the entry holds the process's start time, which a recycled PID does not share).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

import httpx

from ledger.process_records import start_ticks
from node.network.errors import EngineStartFailed, NetworkError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RecordedProcess:
    name: str
    pid: int
    executable: str
    #: the process's start time (/proc/PID/stat, clock ticks after boot); None in PID
    #: files written before it was recorded
    started: int | None = None

    def running(self) -> bool:
        """True while this very process runs (see :func:`is_running`)."""
        return is_running(self.pid, self.executable, self.started)


class PidFile:
    """A JSON file of the engine processes one `docex network` (or one test) started."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> list[RecordedProcess]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        return [RecordedProcess(**entry) for entry in raw]

    def record(self, process: RecordedProcess) -> None:
        kept = [entry for entry in self.entries() if entry.name != process.name]
        self._write([*kept, process])

    def forget(self, name: str) -> None:
        self._write([entry for entry in self.entries() if entry.name != name])

    def stop(self, name: str, *, kill: bool = False, timeout: float = 10.0) -> bool:
        """Stop the recorded process ``name`` if it is still ours (``kill``: SIGKILL at
        once, as a host that dies); True if it was running. It is forgotten either way."""
        entry = next((e for e in self.entries() if e.name == name), None)
        if entry is None:
            return False
        if kill:
            stopped = stop_pid(
                entry.pid,
                entry.executable,
                timeout=0.0,
                first=signal.SIGKILL,
                started=entry.started,
            )
        else:
            stopped = stop_pid(entry.pid, entry.executable, timeout=timeout, started=entry.started)
        self.forget(name)
        return stopped

    def stop_all(self, timeout: float = 10.0) -> list[str]:
        """Stop every recorded process that is still ours; the names of those stopped."""
        stopped = []
        for entry in reversed(self.entries()):
            if stop_pid(entry.pid, entry.executable, timeout=timeout, started=entry.started):
                stopped.append(entry.name)
            self.forget(entry.name)
        return stopped

    def _write(self, entries: Sequence[RecordedProcess]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps([asdict(e) for e in entries], indent=2) + "\n")
        temporary.replace(self.path)


def is_running(pid: int, executable: str, started: int | None = None) -> bool:
    """True when ``pid`` is alive, runs ``executable`` and, if ``started`` is given, was
    started then (:func:`ledger.process_records.start_ticks`): not a recycled PID."""
    try:
        running = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return False
    if running.removesuffix(" (deleted)") != str(Path(executable).resolve()):
        return False
    return started is None or start_ticks(pid) == started


def stop_pid(
    pid: int,
    executable: str,
    *,
    timeout: float = 10.0,
    first: signal.Signals = signal.SIGTERM,
    started: int | None = None,
) -> bool:
    """Signal the process group of ``pid`` (SIGTERM, or ``first``) if it is still the
    process recorded (``executable``, ``started``), then SIGKILL after ``timeout``."""
    if not is_running(pid, executable, started):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, first)
    deadline = time.monotonic() + timeout
    while is_running(pid, executable, started) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.05)
    if is_running(pid, executable, started):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        while is_running(pid, executable, started):
            _reap(pid)
            time.sleep(0.02)
    # its executable is gone from /proc once it is exiting; a child of ours is then waited
    # for to the end, so that no zombie outlives this process
    _reap(pid, block=True)
    return True


def _reap(pid: int, *, block: bool = False) -> None:
    # a child of ours stays a zombie (and its /proc/PID/exe unreadable) until waited for;
    # a process that is not our child raises ChildProcessError at once
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0 if block else os.WNOHANG)


class EngineProcess:
    """One engine started with a fixed command and environment, its output in a log."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        log_file: Path,
        pid_file: PidFile,
    ) -> None:
        self.name = name
        self.command = tuple(command)
        self.env = dict(env)
        self.log_file = log_file
        self.pid_file = pid_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def executable(self) -> str:
        return str(Path(self.command[0]).resolve())

    def start(self) -> int:
        if self._process is not None and self._process.poll() is None:
            raise EngineStartFailed(f"{self.name} already runs as PID {self._process.pid}")
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - fixed executable, no shell
                self.command,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        pid = self._process.pid
        self.pid_file.record(RecordedProcess(self.name, pid, self.executable, start_ticks(pid)))
        return self._process.pid

    def exited(self) -> bool:
        return self._process is None or self._process.poll() is not None

    def stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            stop_pid(process.pid, self.executable, timeout=timeout)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
        self.pid_file.forget(self.name)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def wait_until_answers(process: EngineProcess, probe: Callable[[], T], *, timeout: float) -> T:
    """``probe()``'s first answer once the just-started ``process`` serves it.

    The process is stopped (by PID) when it exits or does not answer in ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.exited():
            tail = process.log_tail()
            process.stop()
            raise EngineStartFailed(f"{process.name} exited at start:\n{tail}")
        try:
            return probe()
        except (httpx.HTTPError, NetworkError):
            time.sleep(0.1)
    process.stop()
    raise EngineStartFailed(f"{process.name} did not answer in {timeout} s")
