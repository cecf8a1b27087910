"""Blocks on disk: small ones packed in one SQLite file, large ones a file each.

:class:`Blockstore` is what the embedded store uses: a block of up to
:data:`SMALL_BLOCK_LIMIT` bytes (an issued document, a parent node) is a row of
:class:`~adapters.content.block_pack.SmallBlockPack`; a larger one (a chunk of an
attachment) a file of :class:`FlatFsBlockstore`. Reads look in both (a store written
before the pack existed holds every block as a file) and re-hash what they return.

:class:`FlatFsBlockstore`: one file per block, in Kubo's flatfs layout.

``<root>/blocks/<shard>/<KEY>.data`` where KEY is the unpadded uppercase base32 of the
block's multihash and shard its next-to-last two characters (Kubo's
``/repo/flatfs/shard/v1/next-to-last/2``). Keyed by multihash, a block is stored once
whether it is reached by a CIDv0 or a CIDv1.

Writes are crash-safe: the block goes to a temporary file in ``<root>/tmp`` on the
same file system, is fsynced, then renamed into place (atomic on POSIX) and the shard
directory fsynced; a reader sees the whole block or no block. Every read re-hashes
the bytes and refuses a block that no longer matches its CID.

Many blocks at once (:meth:`FlatFsBlockstore.deferred_sync`): each block still goes to
its own temporary file, but none is renamed into place until one ``syncfs`` has made
all of them durable; the renames are then made durable by a second ``syncfs``. A
reader still sees a whole block or none, for two file-system flushes per group instead
of two ``fsync`` calls per block.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final, TypeVar, cast

from adapters.content.block_pack import PACK_FILE, SmallBlockPack
from adapters.content.cid import Cid
from adapters.errors import BlockCorrupted, BlockMismatch, ContentNotFound, ContentTooLarge

#: larger than any block docex makes (262,144-byte chunks, 174-link parents) and than
#: the 2 MiB limit IPFS implementations use for blocks exchanged between peers
MAX_BLOCK_SIZE: Final = 2 * 1024 * 1024
#: blocks up to this size go to the pack: documents, parent nodes, small attachments;
#: a chunk of a larger file (262,144 bytes) goes to a file of its own (ADR 0014)
SMALL_BLOCK_LIMIT: Final = 64 * 1024
#: SQLite's primary result codes for a damaged database file
_DAMAGED: Final = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
T = TypeVar("T")


def _load_syncfs() -> Callable[[int], int] | None:
    try:
        return cast("Callable[[int], int]", ctypes.CDLL(None, use_errno=True).syncfs)
    except (OSError, AttributeError):
        return None


_SYNCFS = _load_syncfs()


def sync_file_system(directory: Path) -> None:
    """Make every write to the file system holding ``directory`` durable (``syncfs``;
    ``sync`` where there is none)."""
    if _SYNCFS is None:
        os.sync()
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        if _SYNCFS(descriptor) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error), str(directory))
    finally:
        os.close(descriptor)


def block_key(cid: Cid) -> str:
    return base64.b32encode(cid.multihash).decode("ascii").rstrip("=")


class FlatFsBlockstore:
    """Content-addressed blocks in a directory tree; verified on every read."""

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self._blocks = root / "blocks"
        self._tmp = root / "tmp"
        self._fsync = fsync
        #: per thread, inside deferred_sync: block path -> its temporary file (not durable)
        self._local = threading.local()
        self._blocks.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(parents=True, exist_ok=True)

    def _path(self, cid: Cid) -> Path:
        key = block_key(cid)
        return self._blocks / key[-3:-1] / f"{key}.data"

    def has(self, cid: Cid) -> bool:
        return self._path(cid).is_file()

    @contextlib.contextmanager
    def deferred_sync(self) -> Iterator[None]:
        """Group the blocks put inside: each is written to a temporary file; on a normal
        exit one file-system sync makes them durable, then they are renamed into place
        and a second sync makes the renames durable. On an error none is renamed (the
        temporary files are removed): no block is ever visible before it is durable."""
        if self._pending() is not None or not self._fsync:
            yield
            return
        pending: dict[Path, str] = {}
        self._local.deferred = pending
        try:
            yield
            if pending:
                sync_file_system(self._tmp)
                shards: set[Path] = set()
                for path, temporary in pending.items():
                    if path.parent not in shards:
                        path.parent.mkdir(exist_ok=True)
                        shards.add(path.parent)
                    os.replace(temporary, path)
                pending.clear()
                sync_file_system(self._blocks)
        finally:
            self._local.deferred = None
            for temporary in pending.values():
                Path(temporary).unlink(missing_ok=True)

    def _pending(self) -> dict[Path, str] | None:
        pending: dict[Path, str] | None = getattr(self._local, "deferred", None)
        return pending

    def put(self, cid: Cid, block: bytes) -> None:
        """Store ``block`` under ``cid``; refuse it if it does not hash to ``cid``."""
        if len(block) > MAX_BLOCK_SIZE:
            raise ContentTooLarge(f"block of {len(block)} bytes exceeds {MAX_BLOCK_SIZE}")
        if not cid.matches(block):
            raise BlockMismatch(f"block does not hash to {cid}")
        path = self._path(cid)
        if path.is_file():
            return
        deferred = self._pending()
        if deferred is not None:
            if path not in deferred:
                deferred[path] = self._write_temporary(block, sync=False)
            return
        path.parent.mkdir(exist_ok=True)
        temporary = self._write_temporary(block, sync=self._fsync)
        try:
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        if self._fsync:
            directory = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def _write_temporary(self, block: bytes, *, sync: bool) -> str:
        descriptor, temporary = tempfile.mkstemp(dir=self._tmp, suffix=".part")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(block)
                if sync:
                    handle.flush()
                    os.fsync(handle.fileno())
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return temporary

    def get(self, cid: Cid) -> bytes:
        """The block's bytes, re-hashed: BlockCorrupted if they no longer match."""
        try:
            block = self._path(cid).read_bytes()
        except FileNotFoundError:
            raise ContentNotFound(f"block {cid} is not in the store") from None
        if not cid.matches(block):
            raise BlockCorrupted(f"block {cid} on disk does not match its CID")
        return block

    def size(self, cid: Cid) -> int:
        try:
            return self._path(cid).stat().st_size
        except FileNotFoundError:
            raise ContentNotFound(f"block {cid} is not in the store") from None

    def delete(self, cid: Cid) -> None:
        self._path(cid).unlink(missing_ok=True)

    def multihashes(self) -> Iterator[bytes]:
        """Multihashes of every stored block (in no particular order)."""
        for path in self._blocks.glob("*/*.data"):
            key = path.stem
            yield base64.b32decode(key + "=" * (-len(key) % 8))


class Blockstore:
    """Content-addressed blocks under ``root``: small ones in the pack, large ones in
    flatfs files; verified on every read."""

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self.files = FlatFsBlockstore(root, fsync=fsync)
        self.pack = SmallBlockPack(root / PACK_FILE, fsync=fsync)

    def has(self, cid: Cid) -> bool:
        try:
            return self._from_pack(self.pack.has, cid) or self.files.has(cid)
        except BlockCorrupted:
            if self.files.has(cid):
                return True
            raise

    def _from_pack(self, read: Callable[[bytes], T], cid: Cid) -> T:
        """``read(cid's multihash)`` from the pack; BlockCorrupted if the pack's file is
        damaged (a page, not a block's bytes: every block it holds may be unreadable)."""
        try:
            return read(cid.multihash)
        except sqlite3.DatabaseError as error:
            if error.sqlite_errorcode & 0xFF not in _DAMAGED:
                raise
            raise BlockCorrupted(
                f"the pack of small blocks {self.pack.path} is damaged ({error}); "
                "restore the store from a backup"
            ) from error

    @contextlib.contextmanager
    def deferred_sync(self) -> Iterator[None]:
        """Group the blocks put inside: none is readable before it is durable (the
        files' two file-system syncs, then the pack's one commit), and all are when
        this returns. On an error inside, none is stored; if the pack's commit itself
        fails, the group's large blocks stay stored as files, unpinned (as after a
        crash: content-addressed, they are never wrong, only unreferenced)."""
        with self.pack.deferred(), self.files.deferred_sync():
            yield

    def put(self, cid: Cid, block: bytes) -> None:
        """Store ``block`` under ``cid``; refuse it if it does not hash to ``cid``."""
        if len(block) > SMALL_BLOCK_LIMIT:
            self.files.put(cid, block)
            return
        if not cid.matches(block):
            raise BlockMismatch(f"block does not hash to {cid}")
        self.pack.put(cid.multihash, block)

    def get(self, cid: Cid) -> bytes:
        """The block's bytes, re-hashed: BlockCorrupted if they no longer match."""
        try:
            block = self._from_pack(self.pack.get, cid)
        except BlockCorrupted:
            if self.files.has(cid):
                return self.files.get(cid)
            raise
        if block is None:
            return self.files.get(cid)
        if not cid.matches(block):
            raise BlockCorrupted(f"block {cid} in {self.pack.path} does not match its CID")
        return block

    def size(self, cid: Cid) -> int:
        size = self._from_pack(self.pack.size, cid)
        return self.files.size(cid) if size is None else size

    def delete(self, cid: Cid) -> None:
        self.pack.delete(cid.multihash)
        self.files.delete(cid)

    def multihashes(self) -> Iterator[bytes]:
        """Multihashes of every stored block, each once (in no particular order)."""
        packed = set(self.pack.multihashes())
        yield from packed
        for multihash in self.files.multihashes():
            if multihash not in packed:
                yield multihash
