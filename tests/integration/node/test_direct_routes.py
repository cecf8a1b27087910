"""POST /v1/verify and POST /v1/documents answered directly (node/http/direct_routes.py)
answer as FastAPI did.

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
from node.access.roles import Role
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


def _read(response: Any, headers: tuple[str, ...] = _HEADERS) -> tuple[Any, ...]:
    """What the two apps must agree on: the status, the body, the ``headers`` that matter."""
    try:
        body: Any = response.json()
    except json.JSONDecodeError:
        body = response.content
    return (
        response.status_code,
        body,
        {name: response.headers.get(name) for name in headers},
    )


def _answer(client: TestClient, method: str, path: str, **request: Any) -> tuple[Any, ...]:
    return _read(client.request(method, path, **request))


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


# --- POST /v1/documents ----------------------------------------------------------------


def _receipts_as_shape(answer: tuple[Any, ...]) -> tuple[Any, ...]:
    """An issuing answer with what differs from document to document (receipt ids, the
    Location naming one) taken out; everything else compared as it is."""
    status, body, headers = answer
    if isinstance(body, dict) and "receipts" in body:
        body = {
            **body,
            "receipts": [{**receipt, "id": "-", "url": "-"} for receipt in body["receipts"]],
        }
    headers = dict(headers)
    headers.pop("x-request-id", None)
    return status, body, headers


def _issuing(client: TestClient, body: Any, **request: Any) -> Any:
    headers = {"Content-Type": "application/json", **request.pop("headers", {})}
    response = client.post(
        "/v1/documents" + request.pop("query", ""),
        content=json.dumps(body) if not isinstance(body, bytes) else body,
        headers=headers,
        **request,
    )
    return (*_read(response, (*_HEADERS, "idempotent-replayed")), "location" in response.headers)


def _renumbered(body: Any) -> Any:
    """``body``'s documents under other numbers (a number is issued once), the rest the
    same."""
    if isinstance(body, list):
        return [_renumbered(document) for document in body]
    if isinstance(body, dict) and "certificateNumber" in body:
        prefix, _, serial = str(body["certificateNumber"]).rpartition("/")
        return {**body, "certificateNumber": f"{prefix}/9{serial[1:]}"}
    return body


def _stored(node: NodeUnderTest) -> int:
    return sum(node.services.outbox.count_by_state().values())


def test_issuing_answers_the_same_directly_and_through_fastapi(node: NodeUnderTest) -> None:
    issuer = node.auth("issuer")
    numbers = iter(range(100, 1000))

    def one() -> Any:
        return sample_document("coo/1", next(numbers))

    # (what to send, the request besides the body); each app gets documents of its own
    cases: list[tuple[Any, dict[str, Any]]] = [
        (one, {"headers": issuer}),  # one document
        (lambda: [one(), one(), one()], {"headers": issuer}),  # many
        (one, {"headers": issuer, "query": "?allowance=3"}),
        (one, {"headers": issuer, "query": "?confidential=false&allowance=1"}),
        (one, {"headers": issuer, "query": "?confidential=true"}),
        # forms the direct path passes on: FastAPI's own parsing answers them
        (one, {"headers": issuer, "query": "?allowance=01"}),
        (one, {"headers": issuer, "query": "?confidential=yes"}),
        (one, {"headers": issuer, "query": "?allowance=2&allowance=3"}),
        (one, {"headers": issuer, "query": "?unknown=1"}),
        (one, {"headers": {"Authorization": "bearer " + node.tokens["issuer"]}}),
        # refusals: by FastAPI's parameters, by the access matrix, by the route
        (one, {"headers": issuer, "query": "?allowance=0"}),
        (one, {"headers": issuer, "query": "?allowance=abc"}),
        (one, {"headers": issuer, "query": "?confidential="}),
        (one, {"headers": {**issuer, "Idempotency-Key": "k" * 256}}),
        (one, {"headers": {**issuer, "Idempotency-Key": ""}}),
        (one, {}),
        (one, {"headers": {"Authorization": "Basic " + node.tokens["issuer"]}}),
        (one, {"headers": {"Authorization": "Bearer not-a-token"}}),
        (one, {"headers": node.auth("officer")}),
        (one, {"headers": node.auth("admin")}),
        (one, {"headers": node.auth("permit-issuer")}),  # an issuer, not of this type
        (lambda: {"documentType": "coo/1"}, {"headers": issuer}),  # schema violation
        (lambda: [], {"headers": issuer}),
        (lambda: b"{not json", {"headers": issuer}),
        (lambda: b'{"a": 1, "a": 2}', {"headers": issuer}),
        (one, {"headers": {**issuer, "Content-Type": "text/plain"}}),
    ]
    direct, through_fastapi = _clients(node)
    statuses = []
    for make_body, request in cases:
        body = make_body()
        expected = _issuing(through_fastapi, body, **dict(request))
        got = _issuing(direct, _renumbered(body), **dict(request))
        assert (
            _receipts_as_shape(got[:3]) + got[3:] == _receipts_as_shape(expected[:3]) + expected[3:]
        ), request
        statuses.append(got[0])
    assert statuses.count(202) >= 8
    assert {401, 403, 400, 415, 422} <= set(statuses)


def test_an_idempotent_retry_replays_the_same_directly_and_through_fastapi(
    node: NodeUnderTest,
) -> None:
    direct, through_fastapi = _clients(node)
    answers = []
    for index, client in enumerate((through_fastapi, direct)):
        headers = {**node.auth("issuer"), "Idempotency-Key": f"retry-{index}"}
        body = sample_document("coo/1", 2000 + index)
        first = _issuing(client, body, headers=headers)
        again = _issuing(client, body, headers=headers)
        other = _issuing(client, sample_document("coo/1", 2100 + index), headers=headers)
        assert first[0] == 202
        assert again[1] == first[1]  # the same receipts
        shapes = [_receipts_as_shape(a[:3]) + a[3:] for a in (first, again, other)]
        # each app its own key (they share the node's database): named in a refusal
        answers.append(json.loads(json.dumps(shapes).replace(f"retry-{index}", "retry-N")))
    assert answers[0] == answers[1]
    assert answers[1][1][2]["idempotent-replayed"] == "true"
    assert answers[1][2][0] == 422


def test_no_one_but_a_live_issuer_gets_a_document_stored_on_the_direct_path(
    node: NodeUnderTest,
) -> None:
    # the rule: whatever the Authorization header, a request the direct path answers 202
    # comes from a live token of an issuer of the type; every other one stores nothing
    direct, _ = _clients(node)
    revoked = node.services.users.add("gone-clerk", Role.ISSUER, ["coo/1"])
    node.services.users.revoke("gone-clerk")
    token = node.tokens["issuer"]
    refused = [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": token},
        {"Authorization": f"Token {token}"},
        {"Authorization": f"Bearer {token}x"},
        {"Authorization": f"Bearer {token[:-1]}"},
        {"Authorization": f"Bearer {revoked}"},
        *(
            {"Authorization": f"Bearer {node.tokens[user]}"}
            for user in ("officer", "auditor", "admin")
        ),
        {"Authorization": f"Bearer {node.tokens['permit-issuer']}"},
    ]
    before = _stored(node)
    for number, headers in enumerate(refused):
        answer = _issuing(direct, sample_document("coo/1", 3000 + number), headers=headers)
        assert answer[0] in (401, 403), headers
        assert answer[1]["code"] in ("not-authenticated", "not-authorised"), answer[1]
    assert _stored(node) == before
    accepted = _issuing(
        direct, sample_document("coo/1", 3100), headers={"Authorization": f"Bearer  {token} "}
    )
    assert accepted[0] == 202  # HTTPBearer's reading: the token stripped of spaces
    assert _stored(node) == before + 1


def test_the_direct_app_issues_without_fastapi_and_passes_the_rest_on(
    node: NodeUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.routing import APIRoute

    handled: list[str] = []
    original = APIRoute.handle

    async def counting(self: APIRoute, *args: Any) -> None:
        handled.append(self.path)
        await original(self, *args)

    monkeypatch.setattr(APIRoute, "handle", counting)
    direct, _ = _clients(node)
    issuer = node.auth("issuer")
    assert _issuing(direct, sample_document("coo/1", 4000), headers=issuer)[0] == 202
    assert handled == []
    # a form the direct path leaves to FastAPI: accepted there
    answer = _issuing(direct, sample_document("coo/1", 4001), headers=issuer, query="?allowance=01")
    assert answer[0] == 202
    assert handled == ["/v1/documents"]
