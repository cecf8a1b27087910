"""A streaming UnixFS file importer that builds the DAG ``ipfs add`` builds.

Kubo's defaults: fixed-size chunks of 262,144 bytes, the balanced layout with at most
174 links per node, sha2-256. CIDv0 keeps leaves as dag-pb UnixFS file nodes;
CIDv1 (``--cid-version=1``) implies raw leaves. A file of one chunk is that chunk's
block alone.

The balanced tree is built bottom-up while chunks arrive: each level keeps at most
``max_links`` pending links and is closed into a parent when full, so memory holds
one chunk plus ``levels x max_links`` links whatever the file size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Final

from adapters.content.cid import DAG_PB, RAW, Cid
from adapters.content.dag_pb import (
    UNIXFS_FILE,
    PBLink,
    PBNode,
    UnixFsData,
    encode_node,
    encode_unixfs,
    file_leaf_block,
)
from certificates.errors import InvalidInput

DEFAULT_CHUNK_SIZE: Final = 262_144
DEFAULT_MAX_LINKS: Final = 174

#: receives every block as it is made (children before parents)
BlockSink = Callable[[Cid, bytes], None]


@dataclass(frozen=True, slots=True)
class ImportLayout:
    """How a file is cut and linked; the defaults are ``ipfs add``'s."""

    cid_version: int = 0
    chunk_size: int = DEFAULT_CHUNK_SIZE
    max_links: int = DEFAULT_MAX_LINKS

    def __post_init__(self) -> None:
        if self.cid_version not in (0, 1):
            raise InvalidInput(f"cid version must be 0 or 1, not {self.cid_version}")
        if self.chunk_size < 1 or self.max_links < 2:
            raise InvalidInput("chunk size must be >= 1 and max links >= 2")

    @property
    def raw_leaves(self) -> bool:
        return self.cid_version == 1


@dataclass(frozen=True, slots=True)
class ImportedFile:
    cid: Cid
    #: bytes of the file
    size: int
    #: bytes of every block of the DAG, counted once per link (Kubo's CumulativeSize)
    cumulative_size: int
    blocks: int


@dataclass(frozen=True, slots=True)
class _Child:
    cid: Cid
    tsize: int
    filesize: int


def read_chunks(stream: IO[bytes], chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
    """Cut a binary stream into chunks of exactly ``chunk_size`` bytes (the last shorter)."""
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            return
        while len(chunk) < chunk_size:
            more = stream.read(chunk_size - len(chunk))
            if not more:
                break
            chunk += more
        yield chunk
        if len(chunk) < chunk_size:
            return


def rechunk(pieces: Iterable[bytes], chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
    """Cut pieces of any sizes into chunks of exactly ``chunk_size`` bytes."""
    pending = bytearray()
    for piece in pieces:
        pending += piece
        while len(pending) >= chunk_size:
            yield bytes(pending[:chunk_size])
            del pending[:chunk_size]
    if pending:
        yield bytes(pending)


def _discard(_cid: Cid, _block: bytes) -> None:
    return None


class _BalancedBuilder:
    def __init__(self, layout: ImportLayout, sink: BlockSink) -> None:
        self.layout = layout
        self.sink = sink
        self.levels: list[list[_Child]] = [[]]
        self.blocks = 0

    def _emit(self, block: bytes, codec: int) -> Cid:
        version = 1 if codec == RAW else self.layout.cid_version
        cid = Cid.for_block(block, codec=codec, version=version)
        self.sink(cid, block)
        self.blocks += 1
        return cid

    def add_chunk(self, chunk: bytes) -> None:
        if self.layout.raw_leaves:
            child = _Child(self._emit(chunk, RAW), len(chunk), len(chunk))
        else:
            block = file_leaf_block(chunk)
            child = _Child(self._emit(block, DAG_PB), len(block), len(chunk))
        self._push(0, child)

    def _push(self, level: int, child: _Child) -> None:
        if level == len(self.levels):
            self.levels.append([])
        self.levels[level].append(child)
        if len(self.levels[level]) == self.layout.max_links:
            parent = self._parent(self.levels[level])
            self.levels[level] = []
            self._push(level + 1, parent)

    def _parent(self, children: list[_Child]) -> _Child:
        unixfs = UnixFsData(
            UNIXFS_FILE,
            filesize=sum(child.filesize for child in children),
            blocksizes=tuple(child.filesize for child in children),
        )
        links = tuple(PBLink(child.cid, "", child.tsize) for child in children)
        block = encode_node(PBNode(links, encode_unixfs(unixfs)))
        cid = self._emit(block, DAG_PB)
        tsize = len(block) + sum(child.tsize for child in children)
        return _Child(cid, tsize, unixfs.filesize or 0)

    def finish(self) -> _Child:
        if self.blocks == 0:  # an empty file is one empty chunk, as in Kubo
            self.add_chunk(b"")
        level = 0
        while True:
            pending = self.levels[level]
            is_top = level == len(self.levels) - 1
            if is_top and len(pending) == 1:
                return pending[0]
            if pending:
                parent = self._parent(pending)
                self.levels[level] = []
                if is_top:
                    self.levels.append([])
                self.levels[level + 1].append(parent)
            level += 1


def import_chunks(
    chunks: Iterable[bytes], layout: ImportLayout | None = None, sink: BlockSink | None = None
) -> ImportedFile:
    """Build the UnixFS DAG of a file given as chunks of ``layout.chunk_size`` bytes."""
    builder = _BalancedBuilder(layout or ImportLayout(), sink or _discard)
    size = 0
    for chunk in chunks:
        size += len(chunk)
        builder.add_chunk(chunk)
    root = builder.finish()
    return ImportedFile(root.cid, size, root.tsize, builder.blocks)


def import_stream(
    stream: IO[bytes], layout: ImportLayout | None = None, sink: BlockSink | None = None
) -> ImportedFile:
    """Import a binary stream; blocks go to ``sink`` as they are made."""
    layout = layout or ImportLayout()
    return import_chunks(read_chunks(stream, layout.chunk_size), layout, sink)


def import_bytes(
    content: bytes, layout: ImportLayout | None = None, sink: BlockSink | None = None
) -> ImportedFile:
    layout = layout or ImportLayout()
    size = layout.chunk_size
    chunks = (content[start : start + size] for start in range(0, len(content), size))
    return import_chunks(chunks, layout, sink)
