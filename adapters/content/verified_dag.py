"""What every way of fetching a DAG shares (a peer's trustless gateway, the node's own
Kubo over bitswap): the limits, the verifier that accepts only the blocks the DAG under
the requested root still needs (each hashing to its CID, parents first), and the
verified result, held in memory until the caller stores it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Final

from adapters.content.blockstore import MAX_BLOCK_SIZE
from adapters.content.car import CarReader, ReadFunction
from adapters.content.cid import Cid
from adapters.content.dag_walk import block_links
from adapters.content.unixfs_exporter import file_chunks
from adapters.errors import BlockMismatch, ContentTooLarge, InvalidBlock, InvalidCar, PeerRejection

_DEFAULT_MAX_CONTENT: Final = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FetchLimits:
    #: bytes of response bodies accepted from one peer for one CID
    max_content_bytes: int = _DEFAULT_MAX_CONTENT
    max_block_bytes: int = MAX_BLOCK_SIZE
    #: seconds for each network step (connect, each read, each write)
    timeout_seconds: float = 30.0
    #: seconds for the whole exchange with one peer
    deadline_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class FetchedDag:
    """A DAG whose every block verified, and the peer it came from."""

    root: Cid
    blocks: tuple[tuple[Cid, bytes], ...]
    peer: str
    #: peers tried before ``peer`` and why each was rejected
    rejections: tuple[PeerRejection, ...] = field(default=())

    def content(self) -> bytes:
        """The file's bytes, from these (verified) blocks alone: to check content before
        anything of it is stored."""
        blocks = {cid.multihash: block for cid, block in self.blocks}

        class _Fetched:
            def get(self, cid: Cid) -> bytes:
                return blocks[cid.multihash]

        return b"".join(file_chunks(self.root, _Fetched()))

    @property
    def size(self) -> int:
        return sum(len(block) for _, block in self.blocks)


class DagRejected(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class DagVerifier:
    """Accepts only blocks the DAG under ``root`` still needs, parents first."""

    def __init__(self, root: Cid, limits: FetchLimits) -> None:
        self.root = root
        self.limits = limits
        self.pending: dict[bytes, Cid] = {root.to_bytes(): root}
        self.received: set[bytes] = set()
        self.blocks: list[tuple[Cid, bytes]] = []
        self.total = 0

    def next_needed(self) -> Cid | None:
        return next(iter(self.pending.values()), None)

    def accept(self, cid: Cid, block: bytes) -> None:
        key = cid.to_bytes()
        if key in self.received:
            return  # a duplicate (dups=y) of a block already verified
        if key not in self.pending:
            raise DagRejected("unexpected-block", f"{cid} is not a block of {self.root}")
        if not cid.matches(block):
            raise DagRejected("corrupted-block", f"block sent as {cid} does not hash to it")
        if len(block) > self.limits.max_block_bytes:
            raise DagRejected("too-large", f"block {cid} is {len(block)} bytes")
        try:
            links = block_links(cid, block)
        except InvalidBlock as error:
            raise DagRejected("invalid-block", error.message) from None
        del self.pending[key]
        self.received.add(key)
        self.blocks.append((cid, block))
        for child in links:
            child_key = child.to_bytes()
            if child_key not in self.received:
                self.pending.setdefault(child_key, child)

    def result(self, peer: str) -> FetchedDag:
        if self.pending:
            raise DagRejected("incomplete-dag", f"{len(self.pending)} block(s) never arrived")
        return FetchedDag(self.root, tuple(self.blocks), peer)


class BodyReader:
    """``read(n)`` over a streamed response body, enforcing the size limit and deadline."""

    def __init__(
        self, chunks: Iterator[bytes], limit: int, deadline: float, clock: Callable[[], float]
    ) -> None:
        self._chunks = chunks
        self._buffer = bytearray()
        self._limit = limit
        self._deadline = deadline
        self._clock = clock
        self.consumed = 0

    def read(self, count: int) -> bytes:
        while len(self._buffer) < count:
            if self._clock() > self._deadline:
                raise DagRejected("timeout", "peer did not finish before the deadline")
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self.consumed += len(chunk)
            if self.consumed > self._limit:
                raise DagRejected("too-large", f"response body exceeds {self._limit} bytes")
            self._buffer += chunk
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data


def read_car_into(verifier: DagVerifier, read: ReadFunction) -> None:
    """Feed every block of the CAR ``read`` returns to ``verifier``; a CAR that does not
    parse, a block that does not hash to its CID or that is too large is a
    :class:`DagRejected` with its reason."""
    try:
        reader = CarReader(read, max_block_size=verifier.limits.max_block_bytes)
        for block_cid, block in reader.blocks():
            verifier.accept(block_cid, block)
    except BlockMismatch as error:
        raise DagRejected("corrupted-block", error.message) from None
    except InvalidCar as error:
        raise DagRejected("malformed-response", error.message) from None
    except ContentTooLarge as error:
        raise DagRejected("too-large", error.message) from None
