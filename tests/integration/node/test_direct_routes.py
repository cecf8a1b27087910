"""POST /v1/verify answered directly (node/http/direct_routes.py) answers as FastAPI did.

The rule: for every request, the app with the direct route and the app without it give
the same status, the same body and the same headers that matter (content type,
Retry-After, X-Request-Id), and count it under the same route in the metrics.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from certificates.schemas.samples import sample_document
from node.http.app import create_app

if TYPE_CHECKING:
    from conftest import NodeUnderTest

_HEADERS = ("content-type", "retry-after", "x-request-id", "allow")


def _clients(node: NodeUnderTest) -> tuple[TestClient, TestClient]:
    settings, services = node.runtime.settings, node.services
    client = ("203.0.113.9", 5000)
    return (
        TestClient(create_app(settings, services), client=client, raise_server_exceptions=False),
        TestClient(
            create_app(settings, services, direct_routes=False),
            client=client,
            raise_server_exceptions=False,
        ),
    )


def _answer(client: TestClient, method: str, path: str, **request: Any) -> tuple[Any, ...]:
    response = client.request(method, path, **request)
    try:
        body: Any = response.json()
    except json.JSONDecodeError:
        body = response.content
    return (
        response.status_code,
        body,
        {name: response.headers.get(name) for name in _HEADERS},
    )


def _wrapped(node: NodeUnderTest) -> dict[str, Any]:
    receipt_id = node.issue(sample_document("coo/1", 1)).json()["receipts"][0]["id"]
    node.anchor_pending()
    wrapped: dict[str, Any] = node.receipt(receipt_id).json()["document"]
    return wrapped


def test_every_kind_of_answer_is_the_same(node: NodeUnderTest) -> None:
    wrapped = _wrapped(node)
    tampered = json.loads(json.dumps(wrapped))
    tampered["data"]["exporter"]["name"] += "."
    pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/v1/verify", {"json": wrapped}),
        ("POST", "/v1/verify", {"json": tampered}),
        ("POST", "/v1/verify", {"json": {"not": "a wrapped document"}}),
        ("POST", "/v1/verify", {"json": wrapped, "headers": {"X-Request-Id": "abc-123"}}),
        (
            "POST",
            "/v1/verify",
            {"content": b'{"a": 1, "a": 2}', "headers": {"content-type": "application/json"}},
        ),
        (
            "POST",
            "/v1/verify",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
        ),
        ("POST", "/v1/verify", {"content": b"hello", "headers": {"content-type": "text/plain"}}),
        ("POST", "/v1/verify", {"files": {"file": ("c.pdf", pdf, "application/pdf")}}),
        (
            "POST",
            "/v1/verify",
            {
                "content": json.dumps(wrapped).encode(),
                "headers": {"content-type": "application/octet-stream"},
            },
        ),
        (
            "POST",
            "/v1/verify",
            {
                "content": b"[" + b"0," * node.runtime.settings.max_body_bytes + b"0]",
                "headers": {"content-type": "application/json"},
            },
        ),
        # passed on to FastAPI by the direct app: another method, a trailing slash
        ("GET", "/v1/verify", {}),
        ("POST", "/v1/verify/", {"json": wrapped}),
    ]
    direct, through_fastapi = _clients(node)
    for method, path, request in requests:
        expected = _answer(through_fastapi, method, path, **request)
        got = _answer(direct, method, path, **request)
        if expected[2]["x-request-id"] != "abc-123":
            # generated ids differ from app to app; both must have one
            assert got[2].pop("x-request-id")
            assert expected[2].pop("x-request-id")
        assert got == expected, (method, path, request.keys())


def test_the_rate_limit_answers_the_same(make_node: Any) -> None:
    node: NodeUnderTest = make_node(verify_burst=2, verify_rate_per_second=0.001)
    wrapped = _wrapped(node)
    for client in _clients(node):
        # each app shares the node's limiter: spend what is left, then one more
        answers = [_answer(client, "POST", "/v1/verify", json=wrapped) for _ in range(3)]
        assert answers[-1][0] == 429
        assert answers[-1][2]["retry-after"]
        assert answers[-1][1]["code"] == "rate-limited"


def test_an_unexpected_error_is_a_500_problem_from_both(
    node: NodeUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapped = _wrapped(node)

    def broken(_value: object) -> None:
        raise RuntimeError("the verifier broke")

    monkeypatch.setattr(node.services.verifier, "verify", broken)
    direct, through_fastapi = _clients(node)
    expected = _answer(through_fastapi, "POST", "/v1/verify", json=wrapped)
    got = _answer(direct, "POST", "/v1/verify", json=wrapped)
    assert expected[0] == 500
    assert got[:2] == expected[:2]
    assert "the verifier broke" not in json.dumps(got[1])


def test_direct_requests_are_counted_under_their_route(node: NodeUnderTest) -> None:
    direct, _ = _clients(node)
    direct.post("/v1/verify", json={"not": "a wrapped document"})
    metrics = node.client.get("/metrics").text
    counted = [
        line
        for line in metrics.splitlines()
        if line.startswith("docex_http_requests_total{") and 'route="/v1/verify"' in line
    ]
    assert counted, metrics[:2000]


def test_the_direct_app_does_not_go_through_fastapi_for_the_route(
    node: NodeUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # without this, an app that passed every request on would pass the tests above
    from fastapi.routing import APIRoute

    async def refuse(self: APIRoute, *_: object) -> None:
        raise AssertionError(f"FastAPI handled {self.path}")

    monkeypatch.setattr(APIRoute, "handle", refuse)
    direct, through_fastapi = _clients(node)
    assert direct.post("/v1/verify", json={"not": "a wrapped document"}).status_code == 200
    assert through_fastapi.post("/v1/verify", json={}).status_code == 500
