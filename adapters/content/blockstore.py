"""Blocks on disk, one file per block, in Kubo's flatfs layout.

``<root>/blocks/<shard>/<KEY>.data`` where KEY is the unpadded uppercase base32 of the
block's multihash and shard its next-to-last two characters (Kubo's
``/repo/flatfs/shard/v1/next-to-last/2``). Keyed by multihash, a block is stored once
whether it is reached by a CIDv0 or a CIDv1.

Writes are crash-safe: the block goes to a temporary file in ``<root>/tmp`` on the
same file system, is fsynced, then renamed into place (atomic on POSIX) and the shard
directory fsynced; a reader sees the whole block or no block. Every read re-hashes
the bytes and refuses a block that no longer matches its CID.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from adapters.content.cid import Cid
from adapters.errors import BlockCorrupted, BlockMismatch, ContentNotFound, ContentTooLarge

#: larger than any block docex makes (262,144-byte chunks, 174-link parents) and than
#: the 2 MiB limit IPFS implementations use for blocks exchanged between peers
MAX_BLOCK_SIZE: Final = 2 * 1024 * 1024


def block_key(cid: Cid) -> str:
    return base64.b32encode(cid.multihash).decode("ascii").rstrip("=")


class FlatFsBlockstore:
    """Content-addressed blocks in a directory tree; verified on every read."""

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self._blocks = root / "blocks"
        self._tmp = root / "tmp"
        self._fsync = fsync
        self._blocks.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(parents=True, exist_ok=True)

    def _path(self, cid: Cid) -> Path:
        key = block_key(cid)
        return self._blocks / key[-3:-1] / f"{key}.data"

    def has(self, cid: Cid) -> bool:
        return self._path(cid).is_file()

    def put(self, cid: Cid, block: bytes) -> None:
        """Store ``block`` under ``cid``; refuse it if it does not hash to ``cid``."""
        if len(block) > MAX_BLOCK_SIZE:
            raise ContentTooLarge(f"block of {len(block)} bytes exceeds {MAX_BLOCK_SIZE}")
        if not cid.matches(block):
            raise BlockMismatch(f"block does not hash to {cid}")
        path = self._path(cid)
        if path.is_file():
            return
        path.parent.mkdir(exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=self._tmp, suffix=".part")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(block)
                if self._fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
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
