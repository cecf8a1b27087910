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
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from typing import Literal

import httpx

from adapters.content.cid import Cid
from adapters.content.gateway_media import CAR_CONTENT_TYPE, CAR_MEDIA_TYPE, RAW_MEDIA_TYPE
from adapters.content.store import DagStore
from adapters.content.verified_dag import (
    BodyReader,
    DagRejected,
    DagVerifier,
    FetchedDag,
    FetchLimits,
    read_car_into,
)
from adapters.errors import PeerFetchFailed, PeerRejection

logger = logging.getLogger(__name__)

FetchStrategy = Literal["car", "blocks"]

__all__ = ["FetchLimits", "FetchStrategy", "FetchedDag", "GatewayFetcher"]


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
            except DagRejected as rejected:
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
        self, cid: Cid, store: DagStore, *, strategy: FetchStrategy = "car"
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
            raise DagRejected("timeout", f"{type(error).__name__}") from None
        except httpx.HTTPError as error:
            raise DagRejected("unreachable", f"{type(error).__name__}: {error}") from None

    def _check_response(self, response: httpx.Response, media_type: str, limit: int) -> None:
        if response.status_code != 200:
            raise DagRejected("http-status", f"HTTP {response.status_code}")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != media_type:
            raise DagRejected("malformed-response", f"content type {content_type!r}")
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise DagRejected("too-large", f"declared body of {declared} bytes")

    def _body(self, response: httpx.Response, limit: int, deadline: float) -> BodyReader:
        return BodyReader(response.iter_bytes(), limit, deadline, self._clock)

    def _fetch_car(self, peer: str, cid: Cid) -> FetchedDag:
        deadline = self._clock() + self.limits.deadline_seconds
        verifier = DagVerifier(cid, self.limits)
        params = {"format": "car", "dag-scope": "all"}
        with closing(self._get(peer, cid, params, CAR_CONTENT_TYPE)) as response:
            self._check_response(response, CAR_MEDIA_TYPE, self.limits.max_content_bytes)
            body = self._body(response, self.limits.max_content_bytes, deadline)
            try:
                read_car_into(verifier, body.read)
            except httpx.TimeoutException as error:
                raise DagRejected("timeout", type(error).__name__) from None
            except httpx.HTTPError as error:
                raise DagRejected("unreachable", f"{type(error).__name__}: {error}") from None
        return verifier.result(peer)

    def _fetch_blocks(self, peer: str, cid: Cid) -> FetchedDag:
        deadline = self._clock() + self.limits.deadline_seconds
        verifier = DagVerifier(cid, self.limits)
        spent = 0
        while (needed := verifier.next_needed()) is not None:
            allowance = min(self.limits.max_block_bytes, self.limits.max_content_bytes - spent)
            with closing(self._get(peer, needed, {"format": "raw"}, RAW_MEDIA_TYPE)) as response:
                self._check_response(response, RAW_MEDIA_TYPE, allowance)
                body = self._body(response, allowance, deadline)
                try:
                    block = body.read(allowance + 1)
                except httpx.TimeoutException as error:
                    raise DagRejected("timeout", type(error).__name__) from None
                except httpx.HTTPError as error:
                    raise DagRejected("unreachable", f"{type(error).__name__}: {error}") from None
            spent += len(block)
            verifier.accept(needed, block)
        return verifier.result(peer)
