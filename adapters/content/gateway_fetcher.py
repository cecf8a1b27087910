"""Fetching content from peer nodes' trustless gateways, trusting none of them.

The fetcher asks each peer in turn for a CAR (``order=dfs``, ``dups=n``) or block by
block (``format=raw``), and accepts a block only if it hashes to its CID *and* is
the next block the DAG under the requested root still needs (a parent always comes
before its children). A peer that sends a corrupted block, a block that does not
belong, a malformed or oversized body, or that times out is rejected, reported, and
the next peer is tried. Blocks are kept in memory (bounded by
``FetchLimits.max_content_bytes``) and reach a store only once the whole DAG has
verified: a failed fetch stores nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Final, Literal

import httpx

from adapters.content.blockstore import MAX_BLOCK_SIZE
from adapters.content.car import CarReader
from adapters.content.cid import Cid
from adapters.content.dag_walk import block_links
from adapters.content.embedded import EmbeddedContentStore
from adapters.content.gateway_media import CAR_CONTENT_TYPE, CAR_MEDIA_TYPE, RAW_MEDIA_TYPE
from adapters.content.unixfs_exporter import file_chunks
from adapters.errors import (
    BlockMismatch,
    ContentTooLarge,
    InvalidBlock,
    InvalidCar,
    PeerFetchFailed,
    PeerRejection,
)

logger = logging.getLogger(__name__)

FetchStrategy = Literal["car", "blocks"]
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


class _Rejected(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class _DagVerifier:
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
            raise _Rejected("unexpected-block", f"{cid} is not a block of {self.root}")
        if not cid.matches(block):
            raise _Rejected("corrupted-block", f"block sent as {cid} does not hash to it")
        if len(block) > self.limits.max_block_bytes:
            raise _Rejected("too-large", f"block {cid} is {len(block)} bytes")
        try:
            links = block_links(cid, block)
        except InvalidBlock as error:
            raise _Rejected("invalid-block", error.message) from None
        del self.pending[key]
        self.received.add(key)
        self.blocks.append((cid, block))
        for child in links:
            child_key = child.to_bytes()
            if child_key not in self.received:
                self.pending.setdefault(child_key, child)

    def result(self, peer: str) -> FetchedDag:
        if self.pending:
            raise _Rejected("incomplete-dag", f"{len(self.pending)} block(s) never arrived")
        return FetchedDag(self.root, tuple(self.blocks), peer)


class _BodyReader:
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
                raise _Rejected("timeout", "peer did not finish before the deadline")
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self.consumed += len(chunk)
            if self.consumed > self._limit:
                raise _Rejected("too-large", f"response body exceeds {self._limit} bytes")
            self._buffer += chunk
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data


class GatewayFetcher:
    """Fetches a CID's DAG from peer gateways (base URLs), verifying every block."""

    def __init__(
        self,
        peers: Sequence[str],
        *,
        limits: FetchLimits | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sign: Callable[[str, str], Mapping[str, str]] | None = None,
    ) -> None:
        self.peers = tuple(peer.rstrip("/") for peer in peers)
        self.limits = limits or FetchLimits()
        self._clock = clock
        #: headers that authenticate each request, from (method, path and query as sent):
        #: a docex node signs its requests to another member's gateway (ADR 0023)
        self._sign = sign
        self._client = httpx.Client(
            timeout=httpx.Timeout(self.limits.timeout_seconds),
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> GatewayFetcher:
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self.close()

    def fetch(self, cid: Cid, *, strategy: FetchStrategy = "car") -> FetchedDag:
        """The verified DAG under ``cid`` from the first peer that delivers it whole."""
        rejections: list[PeerRejection] = []
        for peer in self.peers:
            try:
                if strategy == "car":
                    fetched = self._fetch_car(peer, cid)
                else:
                    fetched = self._fetch_blocks(peer, cid)
            except _Rejected as rejected:
                rejection = PeerRejection(peer, rejected.reason, rejected.detail)
                logger.warning("peer %s rejected for %s: %s", peer, cid, rejection)
                rejections.append(rejection)
                continue
            return FetchedDag(fetched.root, fetched.blocks, peer, tuple(rejections))
        raise PeerFetchFailed(
            f"no peer delivered {cid} verified ({len(rejections)} rejected)",
            rejections=tuple(rejections),
        )

    def fetch_into(
        self, cid: Cid, store: EmbeddedContentStore, *, strategy: FetchStrategy = "car"
    ) -> FetchedDag:
        """Fetch, verify the whole DAG, then store and pin it; on failure store nothing."""
        fetched = self.fetch(cid, strategy=strategy)
        store.put_blocks(fetched.blocks)
        store.pin(cid)
        return fetched

    def _get(self, peer: str, cid: Cid, params: dict[str, str], accept: str) -> httpx.Response:
        request = self._client.build_request(
            "GET", f"{peer}/ipfs/{cid}", params=params, headers={"Accept": accept}
        )
        if self._sign is not None:
            request.headers.update(self._sign("GET", request.url.raw_path.decode("ascii")))
        try:
            return self._client.send(request, stream=True)
        except httpx.TimeoutException as error:
            raise _Rejected("timeout", f"{type(error).__name__}") from None
        except httpx.HTTPError as error:
            raise _Rejected("unreachable", f"{type(error).__name__}: {error}") from None

    def _check_response(self, response: httpx.Response, media_type: str, limit: int) -> None:
        if response.status_code != 200:
            raise _Rejected("http-status", f"HTTP {response.status_code}")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != media_type:
            raise _Rejected("malformed-response", f"content type {content_type!r}")
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _Rejected("too-large", f"declared body of {declared} bytes")

    def _body(self, response: httpx.Response, limit: int, deadline: float) -> _BodyReader:
        return _BodyReader(response.iter_bytes(), limit, deadline, self._clock)

    def _fetch_car(self, peer: str, cid: Cid) -> FetchedDag:
        deadline = self._clock() + self.limits.deadline_seconds
        verifier = _DagVerifier(cid, self.limits)
        params = {"format": "car", "dag-scope": "all"}
        with closing(self._get(peer, cid, params, CAR_CONTENT_TYPE)) as response:
            self._check_response(response, CAR_MEDIA_TYPE, self.limits.max_content_bytes)
            body = self._body(response, self.limits.max_content_bytes, deadline)
            try:
                reader = CarReader(body.read, max_block_size=self.limits.max_block_bytes)
                for block_cid, block in reader.blocks():
                    verifier.accept(block_cid, block)
            except BlockMismatch as error:
                raise _Rejected("corrupted-block", error.message) from None
            except InvalidCar as error:
                raise _Rejected("malformed-response", error.message) from None
            except ContentTooLarge as error:
                raise _Rejected("too-large", error.message) from None
            except httpx.TimeoutException as error:
                raise _Rejected("timeout", type(error).__name__) from None
            except httpx.HTTPError as error:
                raise _Rejected("unreachable", f"{type(error).__name__}: {error}") from None
        return verifier.result(peer)

    def _fetch_blocks(self, peer: str, cid: Cid) -> FetchedDag:
        deadline = self._clock() + self.limits.deadline_seconds
        verifier = _DagVerifier(cid, self.limits)
        spent = 0
        while (needed := verifier.next_needed()) is not None:
            allowance = min(self.limits.max_block_bytes, self.limits.max_content_bytes - spent)
            with closing(self._get(peer, needed, {"format": "raw"}, RAW_MEDIA_TYPE)) as response:
                self._check_response(response, RAW_MEDIA_TYPE, allowance)
                body = self._body(response, allowance, deadline)
                try:
                    block = body.read(allowance + 1)
                except httpx.TimeoutException as error:
                    raise _Rejected("timeout", type(error).__name__) from None
                except httpx.HTTPError as error:
                    raise _Rejected("unreachable", f"{type(error).__name__}: {error}") from None
            spent += len(block)
            verifier.accept(needed, block)
        return verifier.result(peer)
