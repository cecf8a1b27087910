"""POST /v1/verify: a verdict of independent checks, offline and against the node's index."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from certificates.json_types import JsonObject
from certificates.schemas.samples import sample_document

if TYPE_CHECKING:
    from conftest import NodeUnderTest


def coo(index: int = 1) -> JsonObject:
    return sample_document("coo/1", index)


def issued_and_anchored(node: NodeUnderTest, index: int = 1) -> dict[str, Any]:
    receipt_id = node.issue(coo(index)).json()["receipts"][0]["id"]
    node.anchor_pending()
    wrapped: dict[str, Any] = node.receipt(receipt_id).json()["document"]
    return wrapped


def statuses(verdict: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in verdict["checks"]}


def codes(verdict: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["code"] for check in verdict["checks"]}


def test_an_anchored_document_passes_every_check(node: NodeUnderTest) -> None:
    wrapped = issued_and_anchored(node)

    verdict = node.client.post("/v1/verify", json=wrapped).json()

    assert verdict["valid"] is True
    assert statuses(verdict) == {
        "integrity": "valid",
        "signature": "valid",
        "issuance": "valid",
        "issuer": "valid",
        "status": "valid",
        "recognition": "valid",
    }
    assert codes(verdict) == {
        "integrity": "intact",
        "signature": "signed",
        "issuance": "anchored",
        "issuer": "authorised",
        "status": "in-force",
        "recognition": "own-country",
    }


def test_a_document_changed_by_one_character_fails_integrity(node: NodeUnderTest) -> None:
    wrapped = issued_and_anchored(node)
    wrapped["data"]["exporter"]["name"] += "."

    verdict = node.client.post("/v1/verify", json=wrapped).json()

    assert verdict["valid"] is False
    integrity = next(c for c in verdict["checks"] if c["name"] == "integrity")
    assert integrity["status"] == "invalid"
    assert integrity["code"] == "target-hash-mismatch"
    assert "altered" in integrity["reason"]


def test_a_signed_but_never_anchored_batch_fails_issuance(node: NodeUnderTest) -> None:
    receipt_id = node.issue(coo()).json()["receipts"][0]["id"]
    batcher = node.services.batcher
    assert batcher is not None
    batch_id = node.services.outbox.claim_batch(10, 0, force=True)
    assert batch_id is not None
    batcher._sign_and_store(node.services.outbox.batch(batch_id))
    receipt = node.services.outbox.receipt(receipt_id)
    assert receipt is not None
    assert receipt.wrapped_json is not None

    verdict = node.client.post(
        "/v1/verify", content=receipt.wrapped_json, headers={"Content-Type": "application/json"}
    ).json()

    assert verdict["valid"] is False
    assert statuses(verdict)["integrity"] == "valid"
    assert statuses(verdict)["issuance"] == "invalid"
    assert statuses(verdict)["recognition"] == "skipped"
    assert codes(verdict) == {
        "integrity": "intact",
        "signature": "signed",
        "issuance": "batch-not-anchored",
        "issuer": "batch-not-anchored",
        "status": "batch-not-anchored",
        "recognition": "batch-not-anchored",
    }


def test_a_wrapped_document_uploaded_as_a_file_is_verified_the_same(node: NodeUnderTest) -> None:
    wrapped = issued_and_anchored(node)

    response = node.client.post(
        "/v1/verify",
        files={"file": ("coo-1.wrapped.json", json.dumps(wrapped).encode(), "application/json")},
    )

    assert response.status_code == 200, response.text
    assert response.json()["valid"] is True


def test_something_that_is_not_a_wrapped_document_fails_integrity_and_skips_the_rest(
    node: NodeUnderTest,
) -> None:
    verdict = node.client.post("/v1/verify", json=coo()).json()

    assert verdict["valid"] is False
    assert statuses(verdict)["integrity"] == "invalid"
    assert set(statuses(verdict).values()) == {"invalid", "skipped"}
    assert set(codes(verdict).values()) == {"schema-invalid"}


def test_the_api_schema_shows_each_checks_code(node: NodeUnderTest) -> None:
    paths = node.client.get("/openapi.json").json()["paths"]

    for path, method in (("/v1/verify", "post"), ("/v1/verify/{ref}", "get")):
        answer = paths[path][method]["responses"]["200"]["content"]["application/json"]
        check = answer["schema"]["properties"]["checks"]["items"]
        assert {"name", "status", "code", "reason", "data"} <= set(check["required"])
        assert {"revoked", "superseded", "batch-not-anchored", "expired"} <= set(
            check["properties"]["code"]["enum"]
        )
        assert "code" in answer["example"]["checks"][0]


def test_verification_is_rate_limited_per_client_with_retry_after(make_node: Any) -> None:
    node: NodeUnderTest = make_node(verify_burst=3, verify_rate_per_second=0.001)
    for _ in range(3):
        assert node.client.post("/v1/verify", json={}).status_code == 200

    response = node.client.post("/v1/verify", json={})

    node.problem(response, 429, "rate-limited")
    assert int(response.headers["retry-after"]) >= 1


def test_verifications_are_counted_in_the_metrics(node: NodeUnderTest) -> None:
    wrapped = issued_and_anchored(node)
    node.client.post("/v1/verify", json=wrapped)

    metrics = node.client.get("/metrics")

    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'docex_verifications_total{verdict="valid"} 1.0' in metrics.text
    assert "docex_documents_anchored_total 1.0" in metrics.text
