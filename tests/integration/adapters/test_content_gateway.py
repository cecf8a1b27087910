"""Trustless gateway between two stores over real HTTP on 127.0.0.1, and hostile peers.

Peers are real uvicorn servers: the store's own gateway router, or small ASGI apps
that answer with crafted bytes the way a hostile or broken peer would.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.content.car import car_stream, encode_header, encode_section
from adapters.content.cid import Cid
from adapters.content.embedded import EmbeddedContentStore
from adapters.content.gateway_fetcher import FetchLimits, GatewayFetcher
from adapters.content.gateway_server import gateway_router
from adapters.errors import PeerFetchFailed

pytestmark = pytest.mark.integration

Serve = Callable[[Any], str]
CAR_TYPE = "application/vnd.ipld.car; version=1; order=dfs; dups=n"
CONTENT = bytes(range(256)) * 4096 + b"customs declaration"  # 1 MiB + 19 B: 5 chunks


def _static_peer(
    body: bytes | Iterator[bytes], content_type: str = CAR_TYPE, **headers: str
) -> Any:
    """An ASGI app answering every request with ``body``."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raw_headers = [(b"content-type", content_type.encode())]
        raw_headers += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": 200, "headers": raw_headers})
        pieces = [body] if isinstance(body, bytes) else list(body)
        for piece in pieces:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return app


@pytest.fixture
def origin(tmp_path: Path) -> tuple[EmbeddedContentStore, Cid]:
    store = EmbeddedContentStore(tmp_path / "origin", cid_version=1)
    return store, store.put(CONTENT)


@pytest.fixture
def receiver(tmp_path: Path) -> EmbeddedContentStore:
    return EmbeddedContentStore(tmp_path / "receiver")


def _stored_nothing(store: EmbeddedContentStore) -> bool:
    return not list(store.blocks.multihashes()) and not store.pins()


def _dag_blocks(store: EmbeddedContentStore, cid: Cid) -> list[tuple[Cid, bytes]]:
    return list(store.dag_blocks(cid))


@pytest.mark.parametrize("strategy", ["car", "blocks"])
def test_content_travels_between_two_stores_verified(
    serve: Serve,
    origin: tuple[EmbeddedContentStore, Cid],
    receiver: EmbeddedContentStore,
    strategy: str,
) -> None:
    store, cid = origin
    peer = serve(gateway_router(store))
    with GatewayFetcher([peer]) as fetcher:
        fetched = fetcher.fetch_into(cid, receiver, strategy=strategy)  # type: ignore[arg-type]
    assert fetched.peer == peer
    assert fetched.rejections == ()
    assert receiver.get(cid) == CONTENT
    assert cid in receiver.pins()


def test_gateway_serves_raw_blocks_and_cars_with_trustless_content_types(
    serve: Serve, origin: tuple[EmbeddedContentStore, Cid]
) -> None:
    store, cid = origin
    base = serve(gateway_router(store))
    with httpx.Client(base_url=base) as client:
        raw = client.get(f"/ipfs/{cid}", params={"format": "raw"})
        assert raw.status_code == 200
        assert raw.headers["content-type"] == "application/vnd.ipld.raw"
        assert raw.headers["content-disposition"].startswith("attachment")
        assert raw.headers["x-content-type-options"] == "nosniff"
        assert raw.content == store.get_block(cid)
        by_accept = client.get(f"/ipfs/{cid}", headers={"Accept": "application/vnd.ipld.car"})
        assert by_accept.headers["content-type"] == CAR_TYPE
        assert by_accept.content == b"".join(car_stream([cid], _dag_blocks(store, cid)))
        block_scope = client.get(f"/ipfs/{cid}", params={"format": "car", "dag-scope": "block"})
        assert block_scope.content == b"".join(car_stream([cid], [(cid, store.get_block(cid))]))
        head = client.head(f"/ipfs/{cid}", headers={"Accept": "application/vnd.ipld.raw"})
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == str(len(store.get_block(cid)))
        etag = raw.headers["etag"]
        cached = client.get(f"/ipfs/{cid}?format=raw", headers={"If-None-Match": etag})
        assert cached.status_code == 304


def test_gateway_refuses_untrusted_formats_unknown_content_and_bad_cids(
    serve: Serve, origin: tuple[EmbeddedContentStore, Cid], tmp_path: Path
) -> None:
    store, _ = origin
    absent = EmbeddedContentStore(tmp_path / "other").put(b"elsewhere")
    base = serve(gateway_router(store))
    with httpx.Client(base_url=base) as client:
        assert client.get(f"/ipfs/{absent}?format=raw").status_code == 404
        assert client.get(f"/ipfs/{absent}?format=car").status_code == 404
        assert client.get(f"/ipfs/{absent}", headers={"Accept": "text/html"}).status_code == 406
        assert client.get("/ipfs/not-a-cid?format=raw").status_code == 400
        assert client.get(f"/ipfs/{absent}?format=tar").status_code == 400


def test_a_peer_sending_a_corrupted_block_is_rejected_and_nothing_is_stored(
    serve: Serve, origin: tuple[EmbeddedContentStore, Cid], receiver: EmbeddedContentStore
) -> None:
    store, cid = origin
    blocks = _dag_blocks(store, cid)
    leaf_cid, leaf = blocks[-1]
    blocks[-1] = (leaf_cid, leaf[:-1] + bytes([leaf[-1] ^ 1]))
    hostile = serve(_static_peer(b"".join(car_stream([cid], blocks))))
    with GatewayFetcher([hostile]) as fetcher, pytest.raises(PeerFetchFailed) as failure:
        fetcher.fetch_into(cid, receiver)
    assert [(r.peer, r.reason) for r in failure.value.rejections] == [(hostile, "corrupted-block")]
    assert _stored_nothing(receiver)


def test_a_peer_sending_a_wrong_but_valid_block_is_rejected(
    serve: Serve,
    origin: tuple[EmbeddedContentStore, Cid],
    receiver: EmbeddedContentStore,
    tmp_path: Path,
) -> None:
    _, cid = origin
    decoy_store = EmbeddedContentStore(tmp_path / "decoy", cid_version=1)
    decoy = decoy_store.put(b"a forged certificate")
    hostile = serve(_static_peer(b"".join(car_stream([cid], _dag_blocks(decoy_store, decoy)))))
    with GatewayFetcher([hostile]) as fetcher, pytest.raises(PeerFetchFailed) as failure:
        fetcher.fetch_into(cid, receiver)
    assert [r.reason for r in failure.value.rejections] == ["unexpected-block"]
    assert _stored_nothing(receiver)


def test_a_peer_that_leaves_out_blocks_is_rejected(
    serve: Serve, origin: tuple[EmbeddedContentStore, Cid], receiver: EmbeddedContentStore
) -> None:
    store, cid = origin
    hostile = serve(_static_peer(b"".join(car_stream([cid], _dag_blocks(store, cid)[:-1]))))
    with GatewayFetcher([hostile]) as fetcher, pytest.raises(PeerFetchFailed) as failure:
        fetcher.fetch_into(cid, receiver)
    assert [r.reason for r in failure.value.rejections] == ["incomplete-dag"]
    assert _stored_nothing(receiver)


def test_a_peer_sending_an_oversized_body_is_cut_off(
    serve: Serve, origin: tuple[EmbeddedContentStore, Cid], receiver: EmbeddedContentStore
) -> None:
    _, cid = origin
    endless = (b"\x00" * 65_536 for _ in range(64))  # 4 MiB of padding after the header
    hostile = serve(_static_peer(iter([encode_header([cid]), b"\xff\xff\x3f", *endless])))
    limits = FetchLimits(max_content_bytes=1024 * 1024, max_block_bytes=4 * 1024 * 1024)
    with (
        GatewayFetcher([hostile], limits=limits) as fetcher,
        pytest.raises(PeerFetchFailed) as failure,
    ):
        fetcher.fetch_into(cid, receiver)
    assert [r.reason for r in failure.value.rejections] == ["too-large"]
    assert _stored_nothing(receiver)


def test_a_single_block_over_the_block_limit_is_refused(
    serve: Serve, receiver: EmbeddedContentStore
) -> None:
    big = b"x" * 300_000
    cid = Cid.for_block(big, codec=0x55, version=1)
    hostile = serve(_static_peer(encode_header([cid]) + encode_section(cid, big)))
    limits = FetchLimits(max_block_bytes=262_144 + 1024)
    with (
        GatewayFetcher([hostile], limits=limits) as fetcher,
        pytest.raises(PeerFetchFailed) as failure,
    ):
        fetcher.fetch_into(cid, receiver)
    assert [r.reason for r in failure.value.rejections] == ["too-large"]
    assert _stored_nothing(receiver)


def test_a_peer_answering_html_instead_of_a_car_is_rejected(
    serve: Serve, origin: tuple[EmbeddedContentStore, Cid], receiver: EmbeddedContentStore
) -> None:
    _, cid = origin
    hostile = serve(_static_peer(b"<html>surely this is it</html>", content_type="text/html"))
    with GatewayFetcher([hostile]) as fetcher, pytest.raises(PeerFetchFailed) as failure:
        fetcher.fetch_into(cid, receiver)
    assert [r.reason for r in failure.value.rejections] == ["malformed-response"]


def test_a_peer_that_never_answers_times_out(
    origin: tuple[EmbeddedContentStore, Cid], receiver: EmbeddedContentStore
) -> None:
    _, cid = origin
    with socket.socket() as silent:  # accepts connections (backlog) but never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        peer = f"http://127.0.0.1:{silent.getsockname()[1]}"
        limits = FetchLimits(timeout_seconds=0.5)
        with (
            GatewayFetcher([peer], limits=limits) as fetcher,
            pytest.raises(PeerFetchFailed) as failure,
        ):
            fetcher.fetch_into(cid, receiver)
    assert [r.reason for r in failure.value.rejections] == ["timeout"]
    assert _stored_nothing(receiver)


def test_after_a_hostile_peer_the_next_honest_peer_is_used_and_the_rejection_reported(
    serve: Serve, origin: tuple[EmbeddedContentStore, Cid], receiver: EmbeddedContentStore
) -> None:
    store, cid = origin
    blocks = _dag_blocks(store, cid)
    blocks[1] = (blocks[1][0], b"tampered")
    hostile = serve(_static_peer(b"".join(car_stream([cid], blocks))))
    honest = serve(gateway_router(store))
    with GatewayFetcher([hostile, honest]) as fetcher:
        fetched = fetcher.fetch_into(cid, receiver)
    assert fetched.peer == honest
    assert [(r.peer, r.reason) for r in fetched.rejections] == [(hostile, "corrupted-block")]
    assert receiver.get(cid) == CONTENT


def test_block_by_block_fetch_rejects_a_peer_that_swaps_a_block(
    serve: Serve, origin: tuple[EmbeddedContentStore, Cid], receiver: EmbeddedContentStore
) -> None:
    _, cid = origin
    hostile = serve(
        _static_peer(b"not the block asked for", content_type="application/vnd.ipld.raw")
    )
    with GatewayFetcher([hostile]) as fetcher, pytest.raises(PeerFetchFailed) as failure:
        fetcher.fetch_into(cid, receiver, strategy="blocks")
    assert [r.reason for r in failure.value.rejections] == ["corrupted-block"]
    assert _stored_nothing(receiver)
