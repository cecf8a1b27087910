"""The Kubo RPC backend against replayed Kubo RPC exchanges.

No Kubo daemon can run on the machines docex is built on: these tests replay the
exchanges in fixtures/kubo/ (written from the Kubo RPC reference, see its README)
through an httpx MockTransport. They check what docex sends (command, parameters)
and how it reads and verifies the answers; they cannot prove a live daemon agrees.
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
from adapters.errors import ContentNotFound, ContentStoreUnavailable, ContentVerificationFailed

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parent / "fixtures" / "kubo"
TEXT = b"certificate of origin VN-2026-000123"
V1 = Cid.parse("bafkreihotfcrr52znf2xmqluxbvqdtifb4wg7h5gscjlcvjknlaypixtqm")
V0 = Cid.parse("QmXc6H1YUfRnDvHxovDb8FB1qUx5D8xHDiChA6jTbwfjSm")
OTHER = Cid.parse("bafkreif6fyvm3tnk4ccihxa6dana45shhebzr2raaaq3gyc5sa6pi25p6u")


class Replay:
    """Answers each request with the next recorded exchange, after checking it matches."""

    def __init__(self, name: str, base_path: str = "") -> None:
        self.exchanges: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text())
        self.base_path = base_path
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert self.exchanges, f"unexpected request {request.method} {request.url}"
        recorded = self.exchanges.pop(0)
        expected, answer = recorded["request"], recorded["response"]
        assert request.method == expected["method"]
        assert request.url.path == self.base_path + expected["path"]
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


def _store(replay: Replay, url: str = "http://127.0.0.1:5001", **options: Any) -> KuboContentStore:
    return KuboContentStore(url, transport=httpx.MockTransport(replay), **options)


def test_full_lifecycle_add_cat_stat_pins_against_kubo() -> None:
    replay = Replay("kubo_lifecycle_cidv1.json")
    with _store(replay, cid_version=1) as kubo:
        assert kubo.version().version == "0.32.1"
        assert kubo.put(TEXT) == V1
        assert kubo.get(V1) == TEXT
        assert kubo.has(V1)
        stat = kubo.stat(V1)
        assert (stat.size, stat.cumulative_size) == (36, 36)
        assert kubo.pins() == {V1, V0}
        kubo.unpin(V1)
        kubo.unpin(V1)  # "not pinned" from Kubo is not an error
        kubo.pin(V1)
    assert replay.done()


def test_add_uploads_the_bytes_as_multipart_with_explicit_import_parameters() -> None:
    replay = Replay("kubo_add_cidv0.json")
    with _store(replay, cid_version=0) as kubo:
        assert kubo.put(TEXT) == V0
        assert kubo.get(V0) == TEXT
    upload = replay.requests[0]
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert TEXT in upload.read()
    assert upload.url.params["pin"] == "true"


def test_content_missing_from_the_daemon_is_not_found() -> None:
    replay = Replay("kubo_missing_content.json")
    with _store(replay) as kubo:
        assert not kubo.has(OTHER)
        with pytest.raises(ContentNotFound):
            kubo.get(OTHER)
    assert replay.done()


def test_a_daemon_returning_other_bytes_or_another_cid_is_caught() -> None:
    replay = Replay("kubo_lying_daemon.json")
    with _store(replay, cid_version=1) as kubo:
        with pytest.raises(ContentVerificationFailed):
            kubo.get(OTHER)  # answers with TEXT, whose CID is V1
        with pytest.raises(ContentVerificationFailed):
            kubo.put(TEXT)  # claims OTHER
    assert replay.done()


def test_the_same_backend_works_through_an_ipfs_cluster_proxy() -> None:
    replay = Replay("cluster_proxy_cidv1.json")
    with _store(replay, url="http://127.0.0.1:9095", cid_version=1) as cluster:
        assert cluster.put(TEXT) == V1
        assert cluster.pins() == {V1}
        cluster.unpin(V1)
    assert replay.done()
    assert {request.url.port for request in replay.requests} == {9095}


def test_a_stream_is_uploaded_and_verified_like_bytes(tmp_path: Path) -> None:
    replay = Replay("kubo_lifecycle_cidv1.json")
    replay.exchanges = replay.exchanges[1:3]  # add, cat
    source = tmp_path / "certificate.txt"
    source.write_bytes(TEXT)
    with _store(replay, cid_version=1) as kubo, source.open("rb") as stream:
        assert kubo.put(stream) == V1
        assert b"".join(kubo.stream(V1)) == TEXT


def test_a_kubo_daemon_that_does_not_answer_is_not_ready() -> None:
    # a real connection to a port nothing listens on (no recorded exchange needed)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = KuboContentStore(f"http://127.0.0.1:{port}", timeout_seconds=5)
    with pytest.raises(ContentStoreUnavailable, match="Kubo"):
        store.check_ready()
