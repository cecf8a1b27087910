"""The embedded content store: a UnixFS importer over a blockstore (small blocks packed in
one SQLite file, large ones a flatfs file each), with pins.

No daemon: the node imports, stores, serves and verifies content itself, and every
CID is the one ``ipfs add`` gives for the same bytes.

Pins are recursive and kept as one empty file per pinned CID under ``<root>/pins``
(creating or removing a file is atomic; no index to rewrite). The content put in one
:meth:`EmbeddedContentStore.grouped_writes` (a batch of documents) is pinned by one
*pin set* instead, ``<root>/pins/<random>.pinset`` listing its CIDs one a line: one file
per group rather than one per document, whose creation was most of the cost of storing a
batch. Unpinning a CID in a pin set rewrites that set without it (atomic replace; it
reads every pin set, which is fine for the rare unpin).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from adapters.content.blockstore import Blockstore
from adapters.content.car import CarReader, write_car
from adapters.content.cid import Cid
from adapters.content.dag_walk import block_links, depth_first
from adapters.content.store import ContentStat
from adapters.content.unixfs_exporter import file_chunks, stat_file
from adapters.content.unixfs_importer import ImportLayout, import_bytes, import_stream
from adapters.errors import ContentNotFound, ContentStoreUnavailable, InvalidCid


class EmbeddedContentStore:
    """A ContentStore on the local disk under ``root``."""

    def __init__(self, root: Path, *, cid_version: int = 1, fsync: bool = True) -> None:
        self.root = root
        self.layout = ImportLayout(cid_version=cid_version)
        #: whether blocks are synced to disk before they count as stored
        self.fsync = fsync
        self.blocks = Blockstore(root, fsync=fsync)
        self._pins = root / "pins"
        self._pins.mkdir(parents=True, exist_ok=True)
        #: per thread, inside ``grouped_writes``: pins to write once the blocks are durable
        self._local = threading.local()

    # -- ContentStore --------------------------------------------------------------

    def put(self, content: bytes | BinaryIO, *, pin: bool = True) -> Cid:
        if isinstance(content, bytes | bytearray | memoryview):
            imported = import_bytes(bytes(content), self.layout, self.blocks.put)
        else:
            imported = import_stream(content, self.layout, self.blocks.put)
        if pin:
            deferred: list[Cid] | None = getattr(self._local, "pins", None)
            if deferred is not None:
                deferred.append(imported.cid)
            else:
                self._write_pin(imported.cid)
        return imported.cid

    @contextlib.contextmanager
    def grouped_writes(self) -> Iterator[None]:
        """Make the content put inside durable together, on leaving the block: one
        transaction of the pack for its small blocks, two file-system syncs for any
        larger one (:meth:`Blockstore.deferred_sync`). Nothing put inside is readable,
        nor pinned, before then; on an error inside none of it is stored."""
        if getattr(self._local, "pins", None) is not None:
            yield
            return
        pins: list[Cid] = []
        self._local.pins = pins
        try:
            with self.blocks.deferred_sync():
                yield
            if pins:
                self._write_pin_set(pins)
        finally:
            self._local.pins = None

    def get(self, cid: Cid) -> bytes:
        return b"".join(self.stream(cid))

    def stream(self, cid: Cid) -> Iterator[bytes]:
        if not self.blocks.has(cid):
            raise ContentNotFound(f"{cid} is not in the store")
        return file_chunks(cid, self.blocks)

    def has(self, cid: Cid) -> bool:
        """True when every block of the DAG is on disk (presence only, not re-hashed)."""
        return not self.missing_blocks(cid)

    def pin(self, cid: Cid) -> None:
        missing = self.missing_blocks(cid)
        if missing:
            raise ContentNotFound(f"cannot pin {cid}: {len(missing)} block(s) missing")
        self._write_pin(cid)

    def unpin(self, cid: Cid) -> None:
        (self._pins / str(cid)).unlink(missing_ok=True)
        name = str(cid)
        for path in self._pins.glob(f"*{_PIN_SET}"):
            listed = _read_pin_set(path)
            if name in listed:
                self._replace_pin_set(path, [line for line in listed if line != name])

    def pins(self) -> frozenset[Cid]:
        pinned: set[Cid] = set()
        for path in self._pins.iterdir():
            names = _read_pin_set(path) if path.name.endswith(_PIN_SET) else [path.name]
            for name in names:
                try:
                    pinned.add(Cid.parse(name))
                except InvalidCid:
                    continue  # a stray file or line, not a pin
        return frozenset(pinned)

    def stat(self, cid: Cid) -> ContentStat:
        file_stat = stat_file(cid, self.blocks.get(cid))
        return ContentStat(cid, file_stat.size, file_stat.cumulative_size)

    def check_ready(self) -> None:
        for directory in (self.root / "blocks", self.root / "tmp", self._pins):
            if not directory.is_dir():
                raise ContentStoreUnavailable(f"the store's directory {directory} is missing")
        try:
            os.statvfs(self.root)
            self.blocks.pack.check_ready()
        except (OSError, sqlite3.Error) as error:
            raise ContentStoreUnavailable(f"the store at {self.root}: {error}") from None

    # -- blocks, DAGs and CAR files ------------------------------------------------

    def get_block(self, cid: Cid) -> bytes:
        return self.blocks.get(cid)

    def has_block(self, cid: Cid) -> bool:
        return self.blocks.has(cid)

    def put_blocks(self, blocks: Iterable[tuple[Cid, bytes]]) -> int:
        """Store blocks, each checked against its CID; return how many."""
        count = 0
        for cid, block in blocks:
            self.blocks.put(cid, block)
            count += 1
        return count

    def missing_blocks(self, root: Cid) -> tuple[Cid, ...]:
        """Blocks of the DAG under ``root`` that are not on disk (stops below a gap)."""
        missing: list[Cid] = []
        seen: set[bytes] = set()
        stack = [root]
        while stack:
            cid = stack.pop()
            if cid.multihash in seen:
                continue
            seen.add(cid.multihash)
            if not self.blocks.has(cid):
                missing.append(cid)
                continue
            stack.extend(block_links(cid, self.blocks.get(cid)))
        return tuple(missing)

    def dag_blocks(self, root: Cid) -> Iterator[tuple[Cid, bytes]]:
        """Every verified block under ``root``, depth-first, each once."""
        if not self.blocks.has(root):
            raise ContentNotFound(f"{root} is not in the store")
        return depth_first(root, self.blocks)

    def export_car(self, root: Cid, out: BinaryIO) -> int:
        """Write the DAG under ``root`` as a CARv1 (``ipfs dag export`` order)."""
        missing = self.missing_blocks(root)
        if missing:
            raise ContentNotFound(f"cannot export {root}: {len(missing)} block(s) missing")
        return write_car([root], self.dag_blocks(root), out)

    def import_car(self, stream: BinaryIO) -> tuple[Cid, ...]:
        """Store every block of a CARv1 and pin each root whose DAG is complete.

        Like ``ipfs dag import``: every block is checked against its CID as it is read;
        the first bad block stops the import with an error. Unlike it, all or nothing: the
        blocks this import wrote before the error are removed again (a hostile or broken
        CAR leaves nothing behind).
        """
        reader = CarReader.from_stream(stream)
        written: list[Cid] = []
        try:
            for cid, block in reader.blocks():
                if not self.blocks.has(cid):
                    self.blocks.put(cid, block)
                    written.append(cid)
        except BaseException:
            for cid in written:
                self.blocks.delete(cid)
            raise
        for root in reader.roots:
            if not self.missing_blocks(root):
                self._write_pin(root)
        return reader.roots

    def _write_pin(self, cid: Cid) -> None:
        # os.open, not Path.touch (a utime call, then an open): one system call
        os.close(os.open(self._pins / str(cid), os.O_WRONLY | os.O_CREAT, 0o644))

    def _write_pin_set(self, cids: list[Cid]) -> None:
        self._replace_pin_set(self._pins / f"{secrets.token_hex(16)}{_PIN_SET}", cids)

    def _replace_pin_set(self, path: Path, cids: list[Cid] | list[str]) -> None:
        """Write (or, for no CIDs, remove) a pin set: a temporary file renamed into place."""
        if not cids:
            path.unlink(missing_ok=True)
            return
        temporary = self.root / "tmp" / f"{path.name}.part"
        temporary.write_text("".join(f"{cid}\n" for cid in cids), encoding="ascii")
        os.replace(temporary, path)


#: the suffix of a pin set's file name
_PIN_SET = ".pinset"


def _read_pin_set(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="ascii").split()
    except (FileNotFoundError, UnicodeDecodeError):
        return []
