"""The content-store interface every backend (embedded, Kubo) implements."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from adapters.content.cid import Cid
from adapters.content.unixfs_importer import ImportLayout


@dataclass(frozen=True, slots=True)
class ContentStat:
    cid: Cid
    #: bytes of the content (the file)
    size: int
    #: bytes of every block of its DAG (Kubo's CumulativeSize)
    cumulative_size: int


class ContentStore(Protocol):
    """Content addressed by CID. Whatever a backend returns is verified against the CID.

    ``put`` takes bytes or a binary stream and returns the CID ``ipfs add`` gives them
    (with the store's CID version); ``get`` returns the verified bytes and ``stream``
    yields them piece by piece, each piece verified before it is yielded. ``has`` is
    true when the whole content is held locally. Pins are recursive; ``unpin`` of a
    CID that is not pinned does nothing.
    """

    #: how ``put`` cuts and links content (so a caller can know a CID before storing)
    layout: ImportLayout

    def put(self, content: bytes | BinaryIO, *, pin: bool = True) -> Cid: ...

    def get(self, cid: Cid) -> bytes: ...

    def stream(self, cid: Cid) -> Iterator[bytes]: ...

    def has(self, cid: Cid) -> bool: ...

    def pin(self, cid: Cid) -> None: ...

    def unpin(self, cid: Cid) -> None: ...

    def pins(self) -> frozenset[Cid]: ...

    def stat(self, cid: Cid) -> ContentStat: ...

    def check_ready(self) -> None:
        """Raise :class:`~adapters.errors.ContentStoreUnavailable` unless the store can
        be used now; cheap whatever the store holds (a readiness probe)."""
        ...


class DagStore(ContentStore, Protocol):
    """A content store that also reads and writes single blocks, each verified against
    its CID: what the trustless gateway serves (``/ipfs/{cid}``) and what the receiver
    fills with a DAG it fetched and verified. The embedded store and Kubo are both."""

    def has_block(self, cid: Cid) -> bool: ...

    def get_block(self, cid: Cid) -> bytes: ...

    def dag_blocks(self, root: Cid) -> Iterator[tuple[Cid, bytes]]:
        """Every block of the DAG under ``root``, depth-first, each once (a CAR's order);
        only for a DAG held whole (:meth:`has`)."""
        ...

    def put_blocks(self, blocks: Iterable[tuple[Cid, bytes]]) -> int:
        """Store blocks already verified against their CIDs; the number written."""
        ...
