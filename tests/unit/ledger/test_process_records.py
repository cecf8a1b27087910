"""PID files name a process by PID, start time and command line: a reused PID, or any
process we did not start, never matches a record and is never signalled."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.process_records import PidFile, ProcessRecord


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def test_a_recorded_process_is_found_running_and_stopped(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    pid_file = PidFile(tmp_path / "child.pid")
    pid_file.record(sleeper.pid)

    found = pid_file.running()

    assert found is not None
    assert found.pid == sleeper.pid
    assert "time.sleep(60)" in " ".join(found.command)
    found.stop(timeout=5)
    assert sleeper.wait(timeout=5) != 0
    assert pid_file.running() is None
    assert "no longer running" in pid_file.describe()


def test_a_record_whose_pid_now_names_another_process_is_left_alone(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    pid_file = PidFile(tmp_path / "child.pid")
    recorded = pid_file.record(sleeper.pid)
    assert recorded is not None
    # the same PID, started at another time: a reused PID
    reused = json.loads(pid_file.path.read_text())
    reused["startTicks"] -= 1
    pid_file.path.write_text(json.dumps(reused))

    stale = pid_file.read()
    assert stale is not None
    assert pid_file.running() is None
    stale.stop(timeout=1)
    assert sleeper.poll() is None  # never signalled


def test_a_missing_or_unreadable_pid_file_names_no_process(tmp_path: Path) -> None:
    missing = PidFile(tmp_path / "none.pid")
    garbage = PidFile(tmp_path / "garbage.pid")
    garbage.path.write_text("not json")

    assert missing.running() is None
    assert "no PID file" in missing.describe()
    assert garbage.running() is None
    assert "unreadable" in garbage.describe()
    assert ProcessRecord.of(2**22 + 12345) is None
