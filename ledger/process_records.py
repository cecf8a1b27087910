"""PID files that name a process exactly: its PID, its start time and its command line.

A process this code started records itself in a file; after a ``kill -9`` of the
process that started it, the next start reads the file and finds the leftover. A PID
alone is not enough (PIDs are reused): a record matches a running process only when the
PID, the start time (``/proc/<pid>/stat``, clock ticks since boot) and the command line
are all the same, so a process we did not start is never signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, None if there is none."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # the command name (2nd field) is in parentheses and may hold spaces: split after it
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])  # field 22 of proc(5), the 20th after the name


def _command_line(pid: int) -> list[str] | None:
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """One process, named so that a reused PID never matches it."""

    pid: int
    start_ticks: int
    command: tuple[str, ...]

    @classmethod
    def of(cls, pid: int) -> ProcessRecord | None:
        """The record of the running process ``pid``, None if it is gone."""
        ticks, command = start_ticks(pid), _command_line(pid)
        if ticks is None or command is None:
            return None
        return cls(pid, ticks, tuple(command))

    def is_running(self) -> bool:
        """True while the very process recorded runs (not a zombie, not a reused PID)."""
        return ProcessRecord.of(self.pid) == self and not _is_zombie(self.pid)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (to its process group when it leads one), SIGKILL after ``timeout``."""
        if not self.is_running():
            return
        try:
            group = os.getpgid(self.pid) == self.pid
        except ProcessLookupError:
            return
        _signal(self.pid, signal.SIGTERM, group=group)
        deadline = time.monotonic() + timeout
        while self.is_running() and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.is_running():
            _signal(self.pid, signal.SIGKILL, group=group)
            while self.is_running() and time.monotonic() < deadline + timeout:
                time.sleep(0.02)

    def to_json(self) -> str:
        return json.dumps(
            {"pid": self.pid, "startTicks": self.start_ticks, "command": list(self.command)}
        )

    @classmethod
    def from_json(cls, text: str) -> ProcessRecord:
        data = json.loads(text)
        return cls(int(data["pid"]), int(data["startTicks"]), tuple(data["command"]))


def _is_zombie(pid: int) -> bool:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2 :].startswith("Z")


def _signal(pid: int, signum: signal.Signals, *, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError):
        if group:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)


class PidFile:
    """A file holding one :class:`ProcessRecord` (JSON), written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, pid: int, timeout: float = 5.0) -> ProcessRecord | None:
        """Record the running process ``pid`` (None, nothing written, if it is gone).

        Just after ``exec`` the kernel may show an empty command line for a moment (the
        new program's arguments are not mapped yet): wait for it, up to ``timeout``.
        """
        deadline = time.monotonic() + timeout
        record = ProcessRecord.of(pid)
        while record is not None and not record.command and time.monotonic() < deadline:
            time.sleep(0.005)
            record = ProcessRecord.of(pid)
        if record is None:
            return None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(record.to_json() + "\n", encoding="utf-8")
        partial.replace(self.path)
        return record

    def read(self) -> ProcessRecord | None:
        """The recorded process, running or not; None when there is no readable record."""
        try:
            return ProcessRecord.from_json(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def running(self) -> ProcessRecord | None:
        """The recorded process if it still runs, else None."""
        record = self.read()
        return record if record is not None and record.is_running() else None

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)

    def describe(self) -> str:
        """What the file says, for an operator: absent, stale, or naming a live process."""
        if not self.path.exists():
            return f"no PID file at {self.path}"
        record = self.read()
        if record is None:
            return f"{self.path} is unreadable"
        if record.is_running():
            return f"{self.path} names PID {record.pid}, still running"
        return f"{self.path} names PID {record.pid}, no longer running"


def listening_pid(port: int) -> int | None:
    """The PID of a process listening on TCP ``port`` (IPv4 or IPv6), from /proc; None
    when it cannot be seen (another user's process, or no such listener)."""
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (_PROC / "net" / table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{inode}]")
    if not inodes:
        return None
    for process in _PROC.iterdir():
        if not process.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (process / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return int(process.name)
    return None


def describe_process(pid: int) -> str:
    """``PID 123 (anvil --port 8545 ...)`` for an error message."""
    command = _command_line(pid)
    shown = " ".join(command)[:120] if command else "?"
    return f"PID {pid} ({shown})"
