"""The lock the node's processes take turns on (an exclusive flock on a file beside a
database): one holder at a time across processes and threads, reentrant, and let go by
the kernel when its holder dies."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ledger.process_lock import ProcessLock

#: a process that takes the lock, says so, and holds it until told to stop (or killed)
_HOLDER = """
import sys
from pathlib import Path
from ledger.process_lock import ProcessLock
lock = ProcessLock(Path(sys.argv[1]))
with lock:
    print("holding", flush=True)
    sys.stdin.readline()
"""


def _holder(path: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "holding"
    return process


def _taker(lock: ProcessLock, taken: threading.Event) -> threading.Thread:
    def take() -> None:
        with lock:
            taken.set()

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    return thread


@contextmanager
def _waiting_behind_another_process(
    tmp_path: Path,
) -> Iterator[tuple[subprocess.Popen[str], threading.Event, threading.Thread]]:
    """Another process holds the lock and a thread here waits to take it: (the other
    process, set once the thread has it, the thread)."""
    path = tmp_path / "node.sqlite.lock"
    holder = _holder(path)
    lock = ProcessLock(path)
    taken = threading.Event()
    try:
        thread = _taker(lock, taken)
        assert not taken.wait(0.3)  # the other process holds it
        yield holder, taken, thread
    finally:
        holder.kill()
        holder.wait()
        lock.close()


def test_a_process_holding_the_lock_keeps_another_out_until_it_lets_go(tmp_path: Path) -> None:
    with _waiting_behind_another_process(tmp_path) as (holder, taken, thread):
        assert holder.stdin is not None
        holder.stdin.write("done\n")
        holder.stdin.flush()
        assert taken.wait(10)
        thread.join(10)


def test_a_holder_killed_lets_the_others_in(tmp_path: Path) -> None:
    with _waiting_behind_another_process(tmp_path) as (holder, taken, thread):
        holder.kill()  # SIGKILL: no cleanup of its own
        holder.wait()
        assert taken.wait(10)
        thread.join(10)


def test_two_locks_on_one_file_in_one_process_exclude_each_other(tmp_path: Path) -> None:
    # each its own open file, as in two processes
    first, second = ProcessLock(tmp_path / "x.lock"), ProcessLock(tmp_path / "x.lock")
    taken = threading.Event()
    try:
        with first:
            thread = _taker(second, taken)
            assert not taken.wait(0.3)
        assert taken.wait(10)
        thread.join(10)
    finally:
        first.close()
        second.close()


def test_the_holder_may_take_it_again_and_other_threads_wait_until_it_is_all_let_go(
    tmp_path: Path,
) -> None:
    lock = ProcessLock(tmp_path / "x.lock")
    taken = threading.Event()
    try:
        with lock:
            with lock:  # reentrant: no deadlock on itself
                thread = _taker(lock, taken)
            assert not taken.wait(0.3)  # still held once
        assert taken.wait(10)
        thread.join(10)
    finally:
        lock.close()


def test_without_a_file_it_excludes_this_process_threads() -> None:
    lock = ProcessLock(None)
    taken = threading.Event()
    with lock:
        thread = _taker(lock, taken)
        assert not taken.wait(0.3)
    assert taken.wait(10)
    thread.join(10)
