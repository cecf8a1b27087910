"""A lock held by one thread of one process at a time, among all the node's processes.

SQLite lets one connection write at once; another that tries gets "busy" and retries in
sleeps that grow to 100 ms (``busy_timeout``), however soon the writer ends. Within one
process a thread lock queues the writers instead; across processes (``docex run
--api-workers N``) this lock does: an exclusive ``flock`` on a file beside the database,
on which the kernel wakes the next waiter as soon as the holder lets go, and which it
releases by itself if the holder dies. A ``flock`` belongs to the open file, not to the
thread that took it, so a thread lock orders the threads of one process in front of it.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from types import TracebackType


class ProcessLock:
    """Exclusive among every process that opens ``path`` and every thread of this one;
    reentrant (a holder may take it again). ``path`` None: among this process's threads
    only (a database that queues its writers itself). The file is created on first use."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._threads = threading.RLock()
        self._depth = 0
        self._file: int | None = None

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            if self._depth == 0 and self.path is not None:
                if self._file is None:
                    self._file = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._file, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        self._depth += 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._file is not None:
                fcntl.flock(self._file, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        """Close the file (a holder's lock goes with it); the next use opens it again."""
        with self._threads:
            if self._file is not None:
                os.close(self._file)
                self._file = None
