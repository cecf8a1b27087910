"""Bad input is answered with RFC 9457 problem+json, and nothing is stored."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from certificates.json_types import JsonObject
from certificates.schemas.samples import sample_document

if TYPE_CHECKING:
    from conftest import NodeUnderTest


def coo(index: int = 1) -> JsonObject:
    return sample_document("coo/1", index)


@pytest.mark.parametrize(
    ("raw", "code", "path"),
    [
        (b'{"documentType": "coo/1", "documentType": "coo/1"}', "duplicate-key", "/documentType"),
        (b'{"a": NaN}', "non-finite-number", "/a"),
        (b'{"a": 9007199254740993}', "unsafe-integer", "/a"),
        (b"[" * 100_000 + b"]" * 100_000, "nesting-too-deep", None),
        (b"\xff\xfe", "invalid-utf8", ""),
        (b"{", "malformed-json", None),
    ],
)
def test_issuing_non_strict_json_is_a_400_problem_and_stores_nothing(
    node: NodeUnderTest, raw: bytes, code: str, path: str | None
) -> None:
    response = node.client.post(
        "/v1/documents",
        content=raw,
        headers={"Content-Type": "application/json", **node.auth("issuer")},
    )

    body = node.problem(response, 400, code)
    if path is not None:
        assert body["path"] == path
    assert node.services.outbox.pending_count() == 0


def test_a_document_that_fails_its_schema_is_a_422_problem_listing_every_violation(
    node: NodeUnderTest,
) -> None:
    document = coo()
    del document["exporter"]
    document["items"] = "none"

    body = node.problem(node.issue(document), 422, "invalid-document")

    paths = {error["path"] for error in body["errors"]}  # type: ignore[attr-defined]
    assert {"/exporter", "/items"} <= paths
    assert node.services.outbox.pending_count() == 0


def test_one_invalid_document_in_many_refuses_them_all_naming_its_index(
    node: NodeUnderTest,
) -> None:
    bad = coo(2)
    bad["documentType"] = "coo/9"

    body = node.problem(node.issue([coo(1), bad, coo(3)]), 422, "unknown-document-type")

    assert body["path"] == "/1/documentType"
    assert node.services.outbox.pending_count() == 0


def test_a_body_over_the_limit_is_a_413_problem_before_it_is_parsed(make_node: Any) -> None:
    node: NodeUnderTest = make_node(max_body_bytes=2048)
    padded = coo()
    padded["remarks"] = "x" * 4096

    node.problem(node.issue(padded), 413, "input-too-large")
    assert node.services.outbox.pending_count() == 0


def test_a_body_that_is_not_json_is_a_415_problem(node: NodeUnderTest) -> None:
    response = node.client.post(
        "/v1/documents",
        content=json.dumps(coo()),
        headers={"Content-Type": "text/plain", **node.auth("issuer")},
    )

    node.problem(response, 415, "unsupported-media-type")
    assert node.services.outbox.pending_count() == 0


def test_unknown_routes_and_bad_path_parameters_are_problems_too(node: NodeUnderTest) -> None:
    node.problem(node.client.get("/v1/nothing-here"), 404, "not-found")
    node.problem(node.client.delete("/v1/verify"), 405, "method-not-allowed")
    node.problem(node.receipt("no-such-receipt"), 404, "receipt-not-found")


def test_a_deeply_nested_verify_body_is_refused_without_crashing_the_process(
    node: NodeUnderTest,
) -> None:
    deep = b'{"a":' * 50_000 + b"1" + b"}" * 50_000

    response = node.client.post(
        "/v1/verify", content=deep, headers={"Content-Type": "application/json"}
    )

    node.problem(response, 400, "nesting-too-deep")
    assert node.client.get("/healthz").status_code == 200
