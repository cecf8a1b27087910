"""Small blocks in one SQLite file (``<root>/blocks.sqlite``), keyed by multihash.

An issued document is one small block (its wrapped JSON, a few kilobytes). As a file of
its own (:class:`~adapters.content.blockstore.FlatFsBlockstore`) it cost the kernel an
inode, a create and a rename: on these machines' ext4, creating a file after many were
deleted took 0.4 ms of system time (the allocator skips recently freed inodes one by one),
more than wrapping and signing the document. Here a block is one row; a group of blocks
(:meth:`SmallBlockPack.deferred`) is one transaction, durable at its commit (WAL,
``synchronous=FULL``). Large blocks (file chunks of attachments) stay files: see
ADR 0014.

Every connection belongs to one thread of one process (the wrapping child and the node
write the same pack; SQLite's locks and the WAL serialise them). Reads are not verified
here: :class:`~adapters.content.blockstore.Blockstore` re-hashes every block it returns.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Final, cast

#: the pack's file name inside a content store's root
PACK_FILE: Final = "blocks.sqlite"
#: how long a writer waits for another process's transaction before it gives up
_BUSY_TIMEOUT_S: Final = 30.0
#: a rowid table (the multihash a unique index beside it), not WITHOUT ROWID: rows of a
#: few kilobytes are what SQLite's clustered tables handle worst (measured, 3 kB blocks
#: in groups of 100: 59 µs of CPU a block written and 23 µs read, against 23 and 11 here)
_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS blocks (multihash BLOB PRIMARY KEY, data BLOB NOT NULL)"
)

#: connections a forked child inherited from its parent (see SmallBlockPack._connection)
_INHERITED: list[sqlite3.Connection] = []
_HAS: Final = "SELECT 1 FROM blocks WHERE multihash = ?"
_DATA: Final = "SELECT data FROM blocks WHERE multihash = ?"
_SIZE: Final = "SELECT length(data) FROM blocks WHERE multihash = ?"
#: a block already held (content-addressed: the same bytes) is left as it is
_INSERT: Final = "INSERT OR IGNORE INTO blocks (multihash, data) VALUES (?, ?)"


class SmallBlockPack:
    """Blocks as rows of one SQLite table; a group of them written in one transaction."""

    def __init__(self, path: Path, *, fsync: bool = True) -> None:
        self.path = path
        self._fsync = fsync
        #: per thread: (process id, connection), and the group being written, if any
        self._local = threading.local()
        self._connection().execute(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        opened: tuple[int, sqlite3.Connection] | None = getattr(self._local, "opened", None)
        if opened is not None:
            if opened[0] == os.getpid():
                return opened[1]
            # a forked child: the parent's connection is never used here, nor closed
            # (SQLite must not touch a connection across fork: a close may checkpoint
            # the parent's WAL or remove it): kept as it is, for good
            _INHERITED.append(opened[1])
        # a new thread, or a forked child: a connection is never shared across either
        connection = sqlite3.connect(
            self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=True
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={'FULL' if self._fsync else 'OFF'}")
        self._local.opened = (os.getpid(), connection)
        return connection

    def _first(self, query: str, multihash: bytes) -> object | None:
        """The first column ``query`` selects from the block's row, or None."""
        row = self._connection().execute(query, (multihash,)).fetchone()
        return None if row is None else row[0]

    def has(self, multihash: bytes) -> bool:
        return self._first(_HAS, multihash) is not None

    def get(self, multihash: bytes) -> bytes | None:
        data = self._first(_DATA, multihash)
        return None if data is None else bytes(cast("bytes", data))

    def size(self, multihash: bytes) -> int | None:
        size = self._first(_SIZE, multihash)
        return None if size is None else int(cast("int", size))

    def put(self, multihash: bytes, block: bytes) -> None:
        """Store ``block`` (already checked against its CID by the caller): at once, or
        with its group when one is being written in this thread."""
        group: dict[bytes, bytes] | None = getattr(self._local, "group", None)
        if group is not None:
            group[multihash] = block
            return
        self._connection().execute(_INSERT, (multihash, block))

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Blocks put inside are held in memory and written in one transaction on a
        normal exit (none is readable before that commit); on an error none is written."""
        if getattr(self._local, "group", None) is not None:
            yield
            return
        group: dict[bytes, bytes] = {}
        self._local.group = group
        try:
            yield
        finally:
            self._local.group = None
        if group:
            connection = self._connection()
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany(_INSERT, group.items())
                connection.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back on its own (a full disk): then a ROLLBACK
                # would raise "no transaction is active" and hide the cause
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def delete(self, multihash: bytes) -> None:
        self._connection().execute("DELETE FROM blocks WHERE multihash = ?", (multihash,))

    def multihashes(self) -> Iterator[bytes]:
        """Every stored block's multihash (read in one snapshot, then yielded)."""
        rows = self._connection().execute("SELECT multihash FROM blocks").fetchall()
        return (bytes(row[0]) for row in rows)

    def check_ready(self) -> None:
        """Raise (sqlite3.Error, OSError) when the pack cannot be read."""
        if not self.path.is_file():
            raise FileNotFoundError(self.path)
        self._connection().execute("SELECT 1 FROM blocks LIMIT 1").fetchall()
