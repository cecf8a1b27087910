"""GET /v1/verify/{ref}: the verdict on a document the node holds, named by receipt id,
target hash or CID, with its summary and on-chain history; on a real (eth-tester) chain
with the dev consortium. A document another member issued is anchored with KR's issuer
key on the same chain and filed in the VN inbox as the receiver files it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from certificates import BatchBuilder, validate_document
from certificates.json_types import JsonObject
from certificates.schemas.samples import sample_document
from ledger import Journal, open_index
from node.chain.index_follower import sync_index
from node.chain.ledger_link import link_ledger
from node.dev.dev_consortium import keystore_path, load_or_create_key
from node.receiving.inbox import ReceivedDocument

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration

CHECKS = ["integrity", "signature", "issuance", "issuer", "status", "recognition"]


def coo(index: int = 1, **changes: Any) -> JsonObject:
    return {**sample_document("coo/1", index), **changes}


def anchored(
    node: NodeUnderTest, document: JsonObject | None = None, **params: str
) -> dict[str, Any]:
    """``document`` issued by the coo issuer and anchored; its anchored receipt."""
    accepted = node.client.post(
        "/v1/documents",
        params=params,
        content=json.dumps(document if document is not None else coo()),
        headers={"Content-Type": "application/json", **node.auth("issuer")},
    )
    assert accepted.status_code == 202, accepted.text
    node.anchor_pending()
    receipt: dict[str, Any] = node.receipt(accepted.json()["receipts"][0]["id"]).json()
    assert receipt["status"] == "anchored"
    return receipt


def by_reference(node: NodeUnderTest, ref: str) -> Any:
    return node.client.get(f"/v1/verify/{ref}")


def statuses(body: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in body["checks"]}


def codes(body: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["code"] for check in body["checks"]}


@pytest.mark.both_databases  # lookups
def test_a_document_issued_here_verifies_by_receipt_id_target_hash_and_cid(
    node: NodeUnderTest,
) -> None:
    receipt = anchored(node, coo())
    presented = node.client.post("/v1/verify", json=receipt["document"]).json()

    for ref in (receipt["id"], receipt["targetHash"], receipt["cid"]):
        response = by_reference(node, ref)

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["valid"] is True
        assert [c["name"] for c in body["checks"]] == CHECKS
        assert body["checks"] == presented["checks"]
    assert by_reference(node, receipt["targetHash"].upper().replace("0X", "0x")).json()["valid"]


def test_the_answer_summarises_the_anchoring_and_shows_no_field(node: NodeUnderTest) -> None:
    document = coo(importingCountry="KR")
    receipt = anchored(node, document)

    response = by_reference(node, receipt["targetHash"])
    body = response.json()

    summary = body["document"]
    assert body["reference"] == {"kind": "targetHash", "value": receipt["targetHash"]}
    assert summary["documentType"] == "coo/1"
    assert summary["issuerCountry"] == "VN"
    # a target hash is public (on paper, in manifests): it discloses no field (ADR 0023)
    assert summary["issuerName"] is None
    assert summary["data"] is None
    for field in (
        document["certificateNumber"],
        document["exporter"]["name"],  # type: ignore[index,call-overload]
        document["issuingAuthority"]["name"],  # type: ignore[index,call-overload]
    ):
        assert str(field) not in response.text
    assert summary["targetHash"] == receipt["targetHash"]
    assert summary["batchRoot"] == receipt["batchRoot"]
    assert summary["cid"] == receipt["cid"]
    assert summary["addressees"] == ["KR"]
    assert summary["origin"] == "issued"
    assert summary["confidential"] is False
    assert summary["anchoring"]["blockNumber"] == receipt["blockNumber"]
    assert summary["anchoring"]["txHash"] == receipt["txHash"]
    assert summary["anchoring"]["timestamp"] > 0
    settings = node.runtime.settings
    assert summary["link"] == f"{settings.base_url}/v/{receipt['targetHash']}"
    (event,) = body["history"]
    assert event["event"] == "BatchAnchored"
    assert event["blockNumber"] == receipt["blockNumber"]
    assert event["timestamp"] == summary["anchoring"]["timestamp"]
    assert "supersededBy" not in body


def test_a_confidential_document_shows_no_content_to_the_public(node: NodeUnderTest) -> None:
    document = coo(importingCountry="KR")
    # the members' encryption keys are read from the chain through the index (ADR 0024)
    sync_index(node.services.ledger, node.services.metrics)
    receipt = anchored(node, document, confidential="true")

    response = by_reference(node, receipt["cid"])

    body = response.json()
    assert body["valid"] is True
    assert body["document"]["confidential"] is True
    assert body["document"]["data"] is None
    assert body["document"]["issuerName"] is None
    for secret in (document["certificateNumber"], document["exporter"]["name"]):  # type: ignore[index,call-overload]
        assert str(secret) not in response.text


def test_a_revoked_document_fails_status_and_shows_the_revocation(node: NodeUnderTest) -> None:
    receipt = anchored(node)
    revoked = node.client.post(
        f"/v1/documents/{receipt['id']}/revoke",
        json={"reasonCode": 4},
        headers=node.auth("issuer"),
    )
    assert revoked.status_code == 200, revoked.text
    assert node.services.ledger is not None
    sync_index(node.services.ledger, node.services.metrics)

    body = by_reference(node, receipt["id"]).json()

    assert body["valid"] is False
    assert statuses(body)["status"] == "invalid"
    assert codes(body)["status"] == "revoked"
    assert [e["event"] for e in body["history"]][-1] == "DocumentRevoked"
    assert body["historyStatus"] == "revoked"


def test_a_superseded_document_links_to_its_replacement(node: NodeUnderTest) -> None:
    original = anchored(node)
    amended = node.client.post(
        f"/v1/documents/{original['id']}/amend",
        content=json.dumps(coo(2)),
        headers={"Content-Type": "application/json", **node.auth("issuer")},
    )
    assert amended.status_code == 202, amended.text
    node.anchor_pending()
    assert node.services.lifecycle.complete_amendments() == 1
    assert node.services.ledger is not None
    sync_index(node.services.ledger, node.services.metrics)
    replacement = node.receipt(amended.json()["amendment"]["replacement"]).json()

    body = by_reference(node, original["targetHash"]).json()

    assert body["valid"] is False
    assert statuses(body)["status"] == "invalid"
    assert codes(body)["status"] == "superseded"
    successor = body["supersededBy"]
    assert successor["targetHash"] == replacement["targetHash"]
    assert successor["link"] == f"{node.runtime.settings.base_url}/v/{replacement['targetHash']}"
    assert by_reference(node, replacement["targetHash"]).json()["valid"] is True


@pytest.mark.both_databases  # lookups
def test_a_received_document_verifies_by_target_hash_and_cid(
    node: NodeUnderTest, tmp_path: Path
) -> None:
    wrapped, cid = received_from_kr(node, tmp_path)

    for ref in (str(wrapped["targetHash"]), cid):
        body = by_reference(node, ref).json()

        assert body["document"]["origin"] == "received"
        assert body["document"]["issuerCountry"] == "KR"
        assert body["document"]["cid"] == cid
        checks = statuses(body)
        assert checks["integrity"] == checks["issuance"] == checks["issuer"] == "valid"
        assert body["history"][0]["event"] == "BatchAnchored"


@pytest.mark.parametrize(
    "ref",
    ["0" * 32, "0x" + "ab" * 32, "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"],
)
def test_a_document_this_node_does_not_hold_is_404(node: NodeUnderTest, ref: str) -> None:
    node.problem(by_reference(node, ref), 404, "document-not-found")


@pytest.mark.parametrize(
    "ref", ["not-a-ref", "0x1234", "0" * 31, "0x" + "g" * 64, "Qm" + "0" * 44, "x" * 200]
)
def test_a_malformed_reference_is_422(node: NodeUnderTest, ref: str) -> None:
    problem = node.problem(by_reference(node, ref), 422, "invalid-reference")
    assert "receipt id" in problem["detail"]


def test_a_document_not_signed_yet_is_409(node: NodeUnderTest) -> None:
    receipt_id = node.issue(coo()).json()["receipts"][0]["id"]

    node.problem(by_reference(node, receipt_id), 409, "document-not-anchored")


def test_verification_by_reference_is_rate_limited_with_post_verify(make_node: Any) -> None:
    node: NodeUnderTest = make_node(verify_burst=2, verify_rate_per_second=0.001)
    ref = "0x" + "ab" * 32
    node.client.post("/v1/verify", json={})
    by_reference(node, ref)

    response = by_reference(node, ref)

    node.problem(response, 429, "rate-limited")
    assert int(response.headers["retry-after"]) >= 1


# --- a document another member issued, received in the inbox --------------------------


def received_from_kr(node: NodeUnderTest, tmp_path: Path) -> tuple[JsonObject, str]:
    """A certificate of origin KR issued to VN, anchored, indexed and filed in the VN
    inbox as the receiver files it; the wrapped document and a CID for it."""
    ledger = node.services.ledger
    assert ledger is not None
    kr = link_ledger(
        ledger.chain,
        ledger.deployment,
        Journal(tmp_path / "kr-transactions.sqlite"),
        open_index(tmp_path / "kr-index.sqlite"),
        load_or_create_key(keystore_path(node.runtime.settings.data_dir / "keys", "KR", "issuer")),
    )
    document = coo(7, importingCountry="VN")
    document["issuingAuthority"] = {**document["issuingAuthority"], "country": "KR"}  # type: ignore[dict-item]
    builder = BatchBuilder()
    builder.add(validate_document(document))
    signed = builder.sign(signing_key=kr.signing_key, domain=kr.domain)
    kr.anchor("kr-7", signed.anchor.root, "coo/1", 1, signed.anchor.addressees)
    sync_index(ledger, node.services.metrics)
    wrapped: JsonObject = next(iter(signed)).to_json()
    content = json.dumps(wrapped).encode()
    cid = str(node.services.store.put(content))
    verdict = node.services.verifier.verify(wrapped)
    node.services.inbox.file(
        ReceivedDocument(
            target_hash=bytes.fromhex(str(wrapped["targetHash"])[2:]),
            batch_root=signed.anchor.root,
            document_type="coo/1",
            issuer_country="KR",
            issuer=kr.issuer.address,
            cid=cid,
            confidential=False,
            block_number=ledger.head_block(),
            received_at=1.0,
            wrapped_json=content,
            verdict_json=json.dumps(verdict.to_json()),
            valid=verdict.valid,
        )
    )
    return wrapped, cid
