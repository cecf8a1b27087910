"""The ceiling server's trivial routes answer as the node's would, on the node's stack."""

from __future__ import annotations

import json

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from bench.ceiling_server import trivial_app


def test_the_trivial_routes_answer_like_the_node() -> None:
    client = TestClient(trivial_app())
    verdict = client.post("/v1/verify", content=b'{"a": 1}')
    assert verdict.status_code == 200
    assert verdict.json() == {"valid": True, "checks": []}
    issued = client.post("/v1/documents", content=json.dumps([{}, {}, {}]).encode())
    assert issued.status_code == 202
    assert len(issued.json()["receipts"]) == 3


def test_both_routes_are_answered_directly_as_in_the_node(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def refuse(self: APIRoute, *_: object) -> None:
        raise AssertionError(f"FastAPI handled {self.path}")

    monkeypatch.setattr(APIRoute, "handle", refuse)
    client = TestClient(trivial_app())
    assert client.post("/v1/verify", content=b"{}").status_code == 200
    assert client.post("/v1/documents", content=b"[{}]").status_code == 202
