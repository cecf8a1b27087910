"""The Kubo RPC backend against a real Kubo v0.43.1 daemon (built by `make engines`).

Two cases stay replayed through an httpx MockTransport (fixtures/kubo/, see its README):
a daemon that lies about CIDs or bytes (a real Kubo does not), and the IPFS Cluster
proxy (no Cluster is built here).
"""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.content.cid import Cid
from adapters.content.kubo import KuboContentStore
from adapters.errors import (
    ContentStoreUnavailable,
    ContentVerificationFailed,
    KuboError,
)
from node.network import KuboNode

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parent / "fixtures" / "kubo"
TEXT = b"certificate of origin VN-2026-000123"
# the CIDs of TEXT as the JS UnixFS importer computes them (ipfs add defaults; --cid-version=1)
V1 = Cid.parse("bafkreihotfcrr52znf2xmqluxbvqdtifb4wg7h5gscjlcvjknlaypixtqm")
V0 = Cid.parse("QmXc6H1YUfRnDvHxovDb8FB1qUx5D8xHDiChA6jTbwfjSm")
OTHER = Cid.parse("bafkreif6fyvm3tnk4ccihxa6dana45shhebzr2raaaq3gyc5sa6pi25p6u")
#: the empty UnixFS directory a fresh Kubo repo pins (its MFS root)
EMPTY_DIRECTORY = Cid.parse("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn")


def test_full_lifecycle_add_cat_stat_pins_against_kubo(kubo: KuboNode) -> None:
    with KuboContentStore(kubo.api_url, cid_version=1) as store:
        assert store.version().version == "0.43.1"
        assert store.put(TEXT) == V1
        assert store.get(V1) == TEXT
        assert store.has(V1)
        stat = store.stat(V1)
        assert (stat.size, stat.cumulative_size) == (36, 36)
        assert store.pins() == {V1, EMPTY_DIRECTORY}
        store.unpin(V1)
        assert store.pins() == {EMPTY_DIRECTORY}
        store.unpin(V1)  # "not pinned" from Kubo is not an error
        store.pin(V1)
        assert V1 in store.pins()


def test_add_with_cid_version_0_gives_the_ipfs_add_default_cid(kubo: KuboNode) -> None:
    with KuboContentStore(kubo.api_url, cid_version=0) as store:
        assert store.put(TEXT) == V0
        assert store.get(V0) == TEXT
        assert V0 in store.pins()


def test_content_missing_from_the_daemon(kubo: KuboNode) -> None:
    with KuboContentStore(kubo.api_url, timeout_seconds=2) as store:
        assert not store.has(OTHER)
        assert OTHER not in store.pins()
        store.unpin(OTHER)  # "not pinned" is not an error
        # a real daemon searches its peers for content it lacks: `get` waits for it, and
        # the client's timeout ends the wait (not an immediate "not found")
        with pytest.raises(KuboError, match="Timeout"):
            store.get(OTHER)


def test_a_stream_is_uploaded_and_verified_like_bytes(kubo: KuboNode, tmp_path: Path) -> None:
    source = tmp_path / "certificate.txt"
    source.write_bytes(TEXT * 20_000)  # 720 kB: three chunks and a root
    with KuboContentStore(kubo.api_url, cid_version=1) as store, source.open("rb") as stream:
        cid = store.put(stream)
        assert b"".join(store.stream(cid)) == TEXT * 20_000
        assert store.stat(cid).size == len(TEXT) * 20_000


def test_a_kubo_daemon_that_does_not_answer_is_not_ready() -> None:
    # a real connection to a port nothing listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = KuboContentStore(f"http://127.0.0.1:{port}", timeout_seconds=5)
    with pytest.raises(ContentStoreUnavailable, match="Kubo"):
        store.check_ready()


# -- replayed: what a real daemon cannot be made to do ----------------------------------


class Replay:
    """Answers each request with the next recorded exchange, after checking it matches."""

    def __init__(self, name: str) -> None:
        self.exchanges: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text())
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert self.exchanges, f"unexpected request {request.method} {request.url}"
        recorded = self.exchanges.pop(0)
        expected, answer = recorded["request"], recorded["response"]
        assert request.method == expected["method"]
        assert request.url.path == expected["path"]
        for key, value in expected["query"].items():
            assert request.url.params.get(key) == value, key
        self.requests.append(request)
        if "body_base64" in answer:
            body = base64.b64decode(answer["body_base64"])
        else:
            body = answer["body"].encode()
        return httpx.Response(
            answer["status"], content=body, headers={"Content-Type": answer["content_type"]}
        )

    def done(self) -> bool:
        return not self.exchanges


def _replayed(replay: Replay, url: str, **options: Any) -> KuboContentStore:
    return KuboContentStore(url, transport=httpx.MockTransport(replay), **options)


def test_a_daemon_returning_other_bytes_or_another_cid_is_caught() -> None:
    replay = Replay("kubo_lying_daemon.json")
    with _replayed(replay, "http://127.0.0.1:5001", cid_version=1) as kubo:
        with pytest.raises(ContentVerificationFailed):
            kubo.get(OTHER)  # answers with TEXT, whose CID is V1
        with pytest.raises(ContentVerificationFailed):
            kubo.put(TEXT)  # claims OTHER
        with pytest.raises(ContentVerificationFailed):
            kubo.get_block(OTHER)  # a block the gateway would serve: TEXT again
    assert replay.done()


def test_the_same_backend_works_through_an_ipfs_cluster_proxy() -> None:
    replay = Replay("cluster_proxy_cidv1.json")
    with _replayed(replay, "http://127.0.0.1:9095", cid_version=1) as cluster:
        assert cluster.put(TEXT) == V1
        assert cluster.pins() == {V1}
        cluster.unpin(V1)
    assert replay.done()
    assert {request.url.port for request in replay.requests} == {9095}
