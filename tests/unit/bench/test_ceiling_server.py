"""The ceiling server's trivial routes answer as the node's would, on the node's stack."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from bench.ceiling_server import trivial_app
from node.http.direct_routes import DirectRoutes


def test_the_trivial_routes_answer_like_the_node() -> None:
    client = TestClient(trivial_app())
    verdict = client.post("/v1/verify", content=b'{"a": 1}')
    assert verdict.status_code == 200
    assert verdict.json() == {"valid": True, "checks": []}
    issued = client.post("/v1/documents", content=json.dumps([{}, {}, {}]).encode())
    assert issued.status_code == 202
    assert len(issued.json()["receipts"]) == 3


def test_verify_is_answered_directly_as_in_the_node() -> None:
    app = trivial_app()
    assert any(middleware.cls is DirectRoutes for middleware in app.user_middleware)
