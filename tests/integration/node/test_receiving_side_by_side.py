"""The receiver fetches the documents of a batch side by side, not one after the other.

KR anchors two certificates addressed to VN (the scene of the hostile-peer tests, real
HTTP, uvicorn on 127.0.0.1); KR's gateway holds every content request until requests
for both documents are in. A receiver that asked for the second only once the first was
answered would never get the first (held, then answered 504 after a guard), so both
being filed in one pass shows the fetches overlapped: what keeps a node that receives
many documents from queueing them behind each other's round trips (docs/network.md,
"Measurements").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

from adapters.content.embedded import EmbeddedContentStore

from .test_security_hostile_peer import HostilePeer, Scene, _answer

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration

#: how long a held request waits for the other one: a hang guard, not a speed assertion
GUARD_SECONDS: Final = 10.0


class HoldingPeer(HostilePeer):
    """An honest KR node whose gateway answers no document until two were asked for."""

    def __init__(self, store: EmbeddedContentStore) -> None:
        super().__init__(store)
        self.asked: set[str] = set()
        self._both_asked = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path: str = scope["path"]
        if path.startswith("/ipfs/"):
            self.asked.add(path)
            if len(self.asked) >= 2:
                self._both_asked.set()
            try:
                await asyncio.wait_for(self._both_asked.wait(), GUARD_SECONDS)
            except TimeoutError:
                await _answer(send, 504, "text/plain", b"held: no other document was asked for")
                return
        await super().__call__(scope, receive, send)


def test_the_documents_of_a_batch_are_fetched_side_by_side(
    make_node: Any, serve: Callable[[Any], str], tmp_path: Path
) -> None:
    peer = HoldingPeer(EmbeddedContentStore(tmp_path / "kr-store"))
    node: NodeUnderTest = make_node(peer_gateways={"KR": serve(peer)})
    scene = Scene(node, peer, tmp_path)

    scene.receive()

    filed = node.services.inbox.documents()
    assert sorted(document.cid for document in filed) == sorted(scene.cids)
    assert scene.reports() == []
    assert len(peer.asked) == 2
