"""``GET /v1/inbox`` pages by (receivedAt, targetHash): documents filed at the same
instant are neither skipped nor repeated at a page boundary."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import pytest

from node.receiving.inbox import ReceivedDocument

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration


def _file(node: NodeUnderTest, index: int, received_at: float) -> str:
    target_hash = hashlib.sha256(f"document {index}".encode()).digest()
    node.services.inbox.file(
        ReceivedDocument(
            target_hash=target_hash,
            batch_root=hashlib.sha256(b"batch").digest(),
            document_type="coo/1",
            issuer_country="KR",
            issuer="0x" + "11" * 20,
            cid=f"bafy-test-{index}",
            confidential=False,
            block_number=1,
            received_at=received_at,
            wrapped_json=b"{}",
            verdict_json="{}",
            valid=True,
        )
    )
    return "0x" + target_hash.hex()


def _all_pages(node: NodeUnderTest, limit: int) -> list[str]:
    seen: list[str] = []
    cursor: dict[str, Any] = {}
    for _ in range(100):
        answer = node.client.get(
            "/v1/inbox", params={"limit": limit, **cursor}, headers=node.auth("officer")
        ).json()
        seen += [entry["targetHash"] for entry in answer["documents"]]
        if answer["next"] is None:
            return seen
        cursor = answer["next"]
    raise AssertionError("paging did not end")


@pytest.mark.both_databases  # inbox paging
def test_pages_of_documents_filed_at_the_same_instant_list_each_once(
    node: NodeUnderTest,
) -> None:
    # seven documents filed within one instant, two later: pages of three cut through them
    filed = [_file(node, i, 1_000.0) for i in range(7)] + [
        _file(node, 7, 1_001.0),
        _file(node, 8, 1_002.0),
    ]

    seen = _all_pages(node, limit=3)

    assert len(seen) == len(set(seen)) == 9
    assert set(seen) == set(filed)


def test_after_hash_without_after_is_422_and_a_malformed_one_too(node: NodeUnderTest) -> None:
    officer = node.auth("officer")
    response = node.client.get("/v1/inbox", params={"afterHash": "0x" + "ab" * 32}, headers=officer)
    node.problem(response, 422, "invalid-request")
    response = node.client.get(
        "/v1/inbox", params={"after": 1.0, "afterHash": "0xnothex"}, headers=officer
    )
    assert response.status_code == 422
