"""Reading a UnixFS file back out of its DAG, one verified block at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from adapters.content.cid import DAG_PB, RAW, Cid
from adapters.content.dag_pb import UNIXFS_FILE, UNIXFS_RAW, decode_node, decode_unixfs
from adapters.content.dag_walk import BlockSource
from adapters.errors import InvalidBlock


@dataclass(frozen=True, slots=True)
class FileStat:
    cid: Cid
    #: bytes of the file
    size: int
    #: the root block plus the Tsize of its links (Kubo's CumulativeSize)
    cumulative_size: int


def stat_file(cid: Cid, root_block: bytes) -> FileStat:
    """Sizes of a UnixFS file, read from its root block alone."""
    if cid.codec == RAW:
        return FileStat(cid, len(root_block), len(root_block))
    node = decode_node(root_block)
    unixfs = decode_unixfs(node.data or b"")
    if unixfs.type not in (UNIXFS_FILE, UNIXFS_RAW):
        raise InvalidBlock(f"{cid} is not a UnixFS file (type {unixfs.type})")
    size = unixfs.filesize if unixfs.filesize is not None else len(unixfs.data or b"")
    links_size = sum(link.tsize or 0 for link in node.links)
    return FileStat(cid, size, len(root_block) + links_size)


def file_chunks(root: Cid, source: BlockSource) -> Iterator[bytes]:
    """The file's bytes in order; each block is fetched (and verified) when reached."""
    stack = [root]
    while stack:
        cid = stack.pop()
        block = source.get(cid)
        if cid.codec == RAW:
            yield block
            continue
        if cid.codec != DAG_PB:
            raise InvalidBlock(f"{cid} is neither dag-pb nor raw")
        node = decode_node(block)
        unixfs = decode_unixfs(node.data or b"")
        if unixfs.type not in (UNIXFS_FILE, UNIXFS_RAW):
            raise InvalidBlock(f"{cid} is not part of a UnixFS file (type {unixfs.type})")
        if node.links and len(unixfs.blocksizes) != len(node.links):
            raise InvalidBlock(f"{cid} has {len(node.links)} links but not as many blocksizes")
        if unixfs.data:
            yield unixfs.data
        stack.extend(reversed([link.hash for link in node.links]))
