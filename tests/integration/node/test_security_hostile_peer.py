"""Security: files from peers. KR anchors a batch addressed to VN on the chain; the "KR
node" VN's receiver fetches from is a hostile server on 127.0.0.1 (real HTTP, uvicorn)
that lies in its batch manifest or serves wrong, forged or corrupted content. The
receiver must refuse every lie, report it against the peer with a clear reason, file
nothing in the inbox and keep nothing in the node's content store (neither pinned nor
as loose blocks its gateway would serve).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

from adapters.content.car import encode_header, encode_section
from adapters.content.cid import Cid
from adapters.content.embedded import EmbeddedContentStore
from adapters.content.gateway_server import gateway_router
from certificates import BatchBuilder, validate_document
from certificates.json_types import JsonObject
from certificates.schemas.samples import sample_document
from ledger import Journal, open_index
from node.chain.index_follower import sync_index
from node.chain.ledger_link import link_ledger
from node.consortium.member_directory import seal_wrapped
from node.dev.dev_consortium import keystore_path, load_or_create_key
from node.receiving.manifests import MANIFEST_FORMAT

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration

CAR_TYPE: Final = "application/vnd.ipld.car; version=1; order=dfs; dups=n"


class HostilePeer:
    """KR's node as VN sees it: a manifest and a trustless gateway, both under the test's
    control (``manifest``: the JSON to answer; ``corrupt``: serve flipped bytes)."""

    def __init__(self, store: EmbeddedContentStore) -> None:
        self.store = store
        self.manifest: JsonObject | None = None
        self.corrupt = False
        self._gateway = gateway_router(store)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path: str = scope["path"]
        if path.startswith("/v1/batches/"):
            body = json.dumps(self.manifest).encode()
            await _answer(send, 200, "application/json", body)
        elif path.startswith("/ipfs/") and self.corrupt:
            cid = Cid.parse(path.removeprefix("/ipfs/"))
            block = self.store.get_block(cid)
            flipped = bytes([block[0] ^ 1]) + block[1:]
            await _answer(send, 200, CAR_TYPE, encode_header([cid]) + encode_section(cid, flipped))
        else:
            await self._gateway(scope, receive, send)


async def _answer(send: Any, status: int, content_type: str, body: bytes) -> None:
    headers = [(b"content-type", content_type.encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Scene:
    """VN's node, the hostile KR peer, and a genuine KR batch of two certificates to VN."""

    def __init__(self, node: NodeUnderTest, peer: HostilePeer, tmp_path: Path) -> None:
        self.node = node
        self.peer = peer
        ledger = node.services.ledger
        assert ledger is not None
        kr = link_ledger(
            ledger.chain,
            ledger.deployment,
            Journal(tmp_path / "kr-journal.sqlite"),
            open_index(tmp_path / "kr-index.sqlite"),
            load_or_create_key(
                keystore_path(node.runtime.settings.data_dir / "keys", "KR", "issuer")
            ),
        )
        builder = BatchBuilder()
        for index in (1, 2):
            document = sample_document("coo/1", index)
            document["issuingAuthority"] = {**document["issuingAuthority"], "country": "KR"}  # type: ignore[dict-item]
            document["importingCountry"] = "VN"
            builder.add(validate_document(document))
        self.batch = builder.sign(signing_key=kr.signing_key, domain=kr.domain)
        self.wrapped = [document.to_json() for document in self.batch]
        self.cids = [self.put(document) for document in self.wrapped]
        self.peer.manifest = self.manifest()
        kr.anchor("kr-1", self.batch.anchor.root, "coo/1", 2, self.batch.anchor.addressees)
        sync_index(ledger, node.services.metrics)

    def put(self, value: Any) -> str:
        raw = value if isinstance(value, bytes) else json.dumps(value).encode()
        return str(self.peer.store.put(raw))

    def manifest(self, **changes: Any) -> JsonObject:
        documents: list[Any] = [
            {
                "targetHash": wrapped["targetHash"],
                "cid": cid,
                "addressees": ["VN"],
                "confidential": False,
            }
            for wrapped, cid in zip(self.wrapped, self.cids, strict=True)
        ]
        manifest: JsonObject = {
            "format": MANIFEST_FORMAT,
            "root": "0x" + self.batch.anchor.root.hex(),
            "documentType": "coo/1",
            "documentCount": 2,
            "documents": documents,
        }
        manifest.update(changes)
        return manifest

    def stored(self) -> tuple[list[str], frozenset[Cid]]:
        store = self.node.services.gateway_store
        assert store is not None
        return sorted(b.hex() for b in store.blocks.multihashes()), store.pins()

    def receive(self) -> None:
        receiver = self.node.runtime.receiver
        assert receiver is not None
        receiver.run_once()

    def reports(self) -> list[tuple[str, str]]:
        return [(r.reason, r.detail) for r in self.node.services.inbox.reports()]


@pytest.fixture
def scene(make_node: Any, serve: Callable[[Any], str], tmp_path: Path) -> Scene:
    peer = HostilePeer(EmbeddedContentStore(tmp_path / "kr-store"))
    url = serve(peer)
    node: NodeUnderTest = make_node(peer_gateways={"KR": url})
    return Scene(node, peer, tmp_path)


@pytest.mark.both_databases  # inbox, receiving_batches
def test_an_honest_peer_delivers_both_certificates(scene: Scene) -> None:
    """The control case: without a lie the same scene files both documents."""
    scene.receive()

    filed = scene.node.services.inbox.documents()
    assert len(filed) == 2
    assert scene.reports() == []


def _lie(scene: Scene, lie: str) -> None:
    wrapped, cids = scene.wrapped, scene.cids
    documents: list[Any] = scene.manifest()["documents"]  # type: ignore[assignment]
    if lie == "hashes that do not build the root":
        documents[0]["targetHash"] = "0x" + "ab" * 32
        scene.peer.manifest = scene.manifest(documents=documents)
    elif lie == "a manifest for another root":
        scene.peer.manifest = scene.manifest(root="0x" + "cd" * 32)
    elif lie == "a manifest of another type":
        scene.peer.manifest = scene.manifest(documentType="permit/1")
    elif lie == "a document left out":
        scene.peer.manifest = scene.manifest(documents=documents[:1], documentCount=1)
    elif lie == "not a manifest":
        scene.peer.manifest = {"documents": "all of them"}
    elif lie == "the other document's content":
        documents[0]["cid"], documents[1]["cid"] = cids[1], cids[0]
        scene.peer.manifest = scene.manifest(documents=documents)
    elif lie == "forged content":
        forged = json.loads(json.dumps(wrapped[0]))
        forged["data"]["certificateNumber"] = "KR-VN FORGED"
        documents[0]["cid"] = scene.put(forged)
        scene.peer.manifest = scene.manifest(documents=documents)
    elif lie == "content that is not a wrapped document":
        documents[0]["cid"] = scene.put(b"\x00\x01 not json at all")
        scene.peer.manifest = scene.manifest(documents=documents)
    elif lie == "content that is strict-JSON invalid":
        documents[0]["cid"] = scene.put(b'{"version": "docex-wrapped/1", "version": 2}')
        scene.peer.manifest = scene.manifest(documents=documents)
    elif lie == "an envelope sealed for other members":
        sealed = seal_wrapped(
            json.dumps(wrapped[0]).encode(),
            scene.batch.anchor.root,
            bytes.fromhex(wrapped[0]["targetHash"][2:]),
            scene.node.services.members.recipients(("KR", "SG")),
        )
        documents[0]["cid"] = scene.put(sealed)
        documents[0]["confidential"] = True
        scene.peer.manifest = scene.manifest(documents=documents)
    elif lie == "a corrupted block":
        scene.peer.corrupt = True
    else:
        raise AssertionError(lie)


LIES: Final = {
    "hashes that do not build the root": "invalid-manifest",
    "a manifest for another root": "invalid-manifest",
    "a manifest of another type": "invalid-manifest",
    "a document left out": "invalid-manifest",
    "not a manifest": "invalid-manifest",
    "the other document's content": "wrong-document",
    "forged content": "not-verified",
    "content that is not a wrapped document": "not-a-wrapped-document",
    "content that is strict-JSON invalid": "not-a-wrapped-document",
    "an envelope sealed for other members": "cannot-open",
    "a corrupted block": "bad-content",
}


@pytest.mark.parametrize(("lie", "reason"), LIES.items(), ids=list(LIES))
def test_a_lying_peer_is_reported_and_nothing_is_filed_or_kept(
    scene: Scene, lie: str, reason: str
) -> None:
    _lie(scene, lie)
    before = scene.stored()

    scene.receive()

    filed = {document.target_hash for document in scene.node.services.inbox.documents()}
    assert bytes.fromhex(scene.wrapped[0]["targetHash"][2:]) not in filed
    reports = scene.reports()
    assert reason in {r for r, _ in reports}, reports
    assert all(detail for _, detail in reports)
    if filed:  # the lie was about the first document only: the second one arrived
        assert filed == {bytes.fromhex(scene.wrapped[1]["targetHash"][2:])}
        blocks, pins = scene.stored()
        assert {str(pin) for pin in pins} == {scene.cids[1]}
        assert len(blocks) == len(before[0]) + 1
    else:
        assert scene.stored() == before, "refused content stayed in the node's store"
