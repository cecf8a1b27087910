"""The benchmarks' work directories: removed when the benchmarks' process ends, not before.

On a file system without a journal (ext4 on these machines: ``/sys/fs/ext4/<dev>/
journal_task`` reads ``<none>``) the kernel gives no new file an inode freed in the last
60 seconds, 300 while that inode's table block is not written back
(``recently_deleted`` in fs/ext4/ialloc.c): every file created meanwhile walks past
each of them. A run that stores a block per document right after another run removed
its tens of thousands of files spent more than half of its wrapping process's CPU
there (perf, 2026-12-07: ``ext4_create`` -> ``find_inode_bit`` ->
``recently_deleted``), in kernel time charged to the node. A member's data directory
does not lose files by the ten thousand, so that cost is the bench's own: its runs
remove nothing until the last one has run (``python -m bench`` runs them all in one
process), and a run started alone removes its directories as it exits. A run started
within five minutes of another one's exit still pays for that one's removal.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_created: list[Path] = []


@contextmanager
def work_directory(prefix: str) -> Iterator[Path]:
    """A new directory for one run; removed when this process exits, with the others."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    _created.append(path)
    yield path


def remove_work_directories() -> None:
    """Remove every work directory made so far (at exit: ``atexit``)."""
    while _created:
        shutil.rmtree(_created.pop(), ignore_errors=True)


atexit.register(remove_work_directories)
