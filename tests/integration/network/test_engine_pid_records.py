"""An engine's PID record names one process: its PID, executable and start time. A PID
recycled by another process of the same executable (another network's Kubo) does not
match it, so `down` never stops a process it did not start."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from node.network.processes import EngineProcess, PidFile


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[tuple[EngineProcess, PidFile]]:
    pid_file = PidFile(tmp_path / "engines.pids.json")
    process = EngineProcess(
        "sleeper",
        [sys.executable, "-c", "import time; time.sleep(60)"],
        env={},
        log_file=tmp_path / "sleeper.log",
        pid_file=pid_file,
    )
    process.start()
    try:
        yield process, pid_file
    finally:
        process.stop(timeout=5)


def test_the_recorded_process_is_running_and_is_stopped(
    engine: tuple[EngineProcess, PidFile],
) -> None:
    process, pid_file = engine
    (entry,) = pid_file.entries()
    assert entry.started is not None
    assert entry.running()

    assert pid_file.stop_all(timeout=5) == ["sleeper"]
    assert not entry.running()
    assert process.exited()


def test_a_process_of_the_same_executable_with_a_recycled_pid_is_left_alone(
    engine: tuple[EngineProcess, PidFile],
) -> None:
    process, pid_file = engine
    (entry,) = pid_file.entries()
    # the record of an earlier process that had this PID: same executable, earlier start
    earlier = replace(entry, started=(entry.started or 0) - 1)
    pid_file.record(earlier)

    assert not earlier.running()
    assert pid_file.stop_all(timeout=1) == []
    assert entry.running()  # untouched
    assert not process.exited()


def test_a_record_without_a_start_time_still_matches_by_executable(
    engine: tuple[EngineProcess, PidFile],
) -> None:
    # PID files written before start times were recorded
    _, pid_file = engine
    (entry,) = pid_file.entries()
    assert replace(entry, started=None).running()
