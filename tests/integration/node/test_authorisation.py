"""Who may do what: no or revoked token 401, wrong role or another institution's 403."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from certificates.json_types import JsonObject
from certificates.schemas.samples import sample_document

if TYPE_CHECKING:
    from conftest import NodeUnderTest


def coo(index: int = 1) -> JsonObject:
    return sample_document("coo/1", index)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer dx_not-a-token"}])
def test_issuing_without_a_live_token_is_401_with_a_bearer_challenge(
    node: NodeUnderTest, headers: dict[str, str]
) -> None:
    response = node.client.post("/v1/documents", json=coo(), headers=headers)

    node.problem(response, 401, "not-authenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_revoked_users_token_is_401_from_then_on(node: NodeUnderTest) -> None:
    assert node.issue(coo()).status_code == 202

    node.services.users.revoke("moit-coo")

    node.problem(node.issue(coo(2)), 401, "not-authenticated")


@pytest.mark.parametrize("user", ["officer", "auditor", "admin"])
def test_only_issuers_issue(node: NodeUnderTest, user: str) -> None:
    node.problem(node.issue(coo(), user=user), 403, "not-authorised")
    assert node.services.outbox.pending_count() == 0


def test_an_issuer_issues_only_its_own_document_types(node: NodeUnderTest) -> None:
    body = node.problem(node.issue(coo(), user="permit-issuer"), 403, "not-authorised")

    assert body["path"] == "/documentType"
    assert node.services.outbox.pending_count() == 0


def test_a_node_issues_only_for_its_own_country(node: NodeUnderTest) -> None:
    document = coo()
    document["issuingAuthority"] = {**document["issuingAuthority"], "country": "KR"}  # type: ignore[dict-item]

    node.problem(node.issue(document), 403, "not-authorised")


@pytest.mark.parametrize(
    ("reader", "status"),
    [
        ("issuer", 200),
        ("auditor", 200),
        ("admin", 200),
        ("other-issuer", 403),
        ("permit-issuer", 403),
        ("officer", 403),
    ],
)
def test_a_receipt_is_read_by_its_issuer_auditors_and_admins_only(
    node: NodeUnderTest, reader: str, status: int
) -> None:
    receipt_id = node.issue(coo()).json()["receipts"][0]["id"]

    response = node.receipt(receipt_id, user=reader)

    assert response.status_code == status, response.text
    if status == 403:
        node.problem(response, 403, "not-authorised")


def test_reading_a_receipt_without_a_token_is_401(node: NodeUnderTest) -> None:
    receipt_id = node.issue(coo()).json()["receipts"][0]["id"]

    node.problem(node.client.get(f"/v1/receipts/{receipt_id}"), 401, "not-authenticated")


def test_verification_is_public(node: NodeUnderTest) -> None:
    response = node.client.post("/v1/verify", json={"version": "docex-wrapped/1"})

    assert response.status_code == 200
    assert response.json()["valid"] is False
