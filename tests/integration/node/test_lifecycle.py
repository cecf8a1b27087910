"""Revoke, amend, use, reject, history and consortium governance through the API, on a real
(eth-tester) chain with the dev consortium. Documents another member issued come from KR's
issuer key anchoring on the same chain, addressed to this (VN) node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from certificates import BatchBuilder, validate_document
from certificates.json_types import JsonObject
from certificates.schemas.samples import sample_document
from ledger import Journal, TransactionManager, open_index
from node.chain.index_follower import sync_index
from node.chain.ledger_link import LedgerLink, link_ledger
from node.dev.dev_consortium import keystore_path, load_or_create_key
from node.receiving.inbox import ReceivedDocument

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration


def coo(index: int = 1) -> JsonObject:
    return sample_document("coo/1", index)


def post(node: NodeUnderTest, path: str, body: Any, user: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if user is not None:
        headers.update(node.auth(user))
    return node.client.post(path, content=json.dumps(body), headers=headers)


def sync(node: NodeUnderTest) -> None:
    assert node.services.ledger is not None
    sync_index(node.services.ledger, node.services.metrics)


def anchored(node: NodeUnderTest, index: int = 1, user: str = "issuer") -> dict[str, Any]:
    """A document issued by ``user`` and anchored; its anchored receipt."""
    receipt_id = node.issue(coo(index), user=user).json()["receipts"][0]["id"]
    node.anchor_pending()
    receipt: dict[str, Any] = node.receipt(receipt_id, user="auditor").json()
    assert receipt["status"] == "anchored"
    return receipt


def kr_link(node: NodeUnderTest, tmp_path: Path) -> LedgerLink:
    """KR's issuer key on the node's chain, with its own journal and index."""
    ledger = node.services.ledger
    assert ledger is not None
    key = load_or_create_key(keystore_path(node.runtime.settings.data_dir / "keys", "KR", "issuer"))
    return link_ledger(
        ledger.chain,
        ledger.deployment,
        Journal(tmp_path / "kr-transactions.sqlite"),
        open_index(tmp_path / "kr-index.sqlite"),
        key,
    )


def kr_document_to_vn(
    node: NodeUnderTest, kr: LedgerLink, index: int = 1, allowance: int = 1
) -> JsonObject:
    """A certificate of origin KR issued to VN (with the allowance KR commits for its use),
    anchored and in the VN node's index."""
    document = coo(index)
    document["issuingAuthority"] = {**document["issuingAuthority"], "country": "KR"}  # type: ignore[dict-item]
    document["importingCountry"] = "VN"
    builder = BatchBuilder()
    builder.add(validate_document(document), allowance=allowance)
    signed = builder.sign(signing_key=kr.signing_key, domain=kr.domain)
    kr.anchor(f"kr-{index}", signed.anchor.root, "coo/1", 1, signed.anchor.addressees)
    sync(node)
    wrapped: JsonObject = next(iter(signed)).to_json()
    return wrapped


@pytest.fixture
def kr(node: NodeUnderTest, tmp_path: Path) -> LedgerLink:
    return kr_link(node, tmp_path)


def verdict_status(node: NodeUnderTest, wrapped: Any) -> dict[str, Any]:
    checks = node.client.post("/v1/verify", json=wrapped).json()["checks"]
    return next(c for c in checks if c["name"] == "status")


# --- revoke -------------------------------------------------------------------------------


@pytest.mark.both_databases  # amendments, inbox, index
def test_an_issuer_revokes_its_document_and_verification_then_fails_status(
    node: NodeUnderTest,
) -> None:
    receipt = anchored(node)
    # verified once before: the node memoises on-chain answers per indexed block, and
    # the revocation's block must replace the earlier answer
    assert verdict_status(node, receipt["document"])["status"] == "valid"

    response = post(node, f"/v1/documents/{receipt['id']}/revoke", {"reasonCode": 7}, "issuer")

    assert response.status_code == 200, response.text
    assert response.json()["txHash"].startswith("0x")
    sync(node)
    status = verdict_status(node, receipt["document"])
    assert status["status"] == "invalid"
    assert status["code"] == "revoked"
    assert "revoked" in status["reason"]


def test_a_revocation_repeated_returns_the_first_transaction_and_another_reason_is_409(
    node: NodeUnderTest,
) -> None:
    receipt = anchored(node)
    path = f"/v1/documents/{receipt['id']}/revoke"
    first = post(node, path, {"reasonCode": 1}, "issuer").json()

    again = post(node, path, {"reasonCode": 1}, "issuer")
    other = post(node, path, {"reasonCode": 2}, "issuer")

    assert again.json()["txHash"] == first["txHash"]
    body = node.problem(other, 409, "already-recorded")
    assert "revoked" in body["detail"]


def test_a_document_is_also_named_by_its_target_hash(node: NodeUnderTest) -> None:
    receipt = anchored(node)

    response = post(
        node, f"/v1/documents/{receipt['targetHash']}/revoke", {"reasonCode": 3}, "issuer"
    )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("user", ["other-issuer", "permit-issuer", "officer", "auditor", "admin"])
def test_only_the_documents_issuer_revokes_it(node: NodeUnderTest, user: str) -> None:
    receipt = anchored(node)

    response = post(node, f"/v1/documents/{receipt['id']}/revoke", {"reasonCode": 1}, user)

    node.problem(response, 403, "not-authorised")


def test_revoking_a_document_not_anchored_yet_is_409_and_sends_nothing(
    node: NodeUnderTest,
) -> None:
    receipt_id = node.issue(coo()).json()["receipts"][0]["id"]
    ledger = node.services.ledger
    assert ledger is not None
    before = ledger.head_block()

    response = post(node, f"/v1/documents/{receipt_id}/revoke", {"reasonCode": 1}, "issuer")

    node.problem(response, 409, "document-not-anchored")
    assert ledger.head_block() == before


@pytest.mark.parametrize(
    "body",
    [{}, {"reasonCode": -1}, {"reasonCode": 2**32}, {"reasonCode": "1"}, {"reasonCode": 1, "x": 1}],
)
def test_an_invalid_revocation_body_is_422_and_sends_nothing(
    node: NodeUnderTest, body: dict[str, Any]
) -> None:
    receipt = anchored(node)
    ledger = node.services.ledger
    assert ledger is not None
    before = ledger.head_block()

    response = post(node, f"/v1/documents/{receipt['id']}/revoke", body, "issuer")

    problem = node.problem(response, 422, "invalid-request-body")
    assert problem["errors"]
    assert ledger.head_block() == before


def test_a_deeply_nested_body_is_refused_without_crashing(node: NodeUnderTest) -> None:
    receipt = anchored(node)

    response = node.client.post(
        f"/v1/documents/{receipt['id']}/revoke",
        content=b"[" * 100_000 + b"]" * 100_000,
        headers={"Content-Type": "application/json", **node.auth("issuer")},
    )

    assert response.status_code in (400, 413)


def test_an_unknown_document_is_404(node: NodeUnderTest) -> None:
    for document_id in ("0" * 32, "0x" + "ab" * 32, "not-an-id"):
        response = post(node, f"/v1/documents/{document_id}/revoke", {"reasonCode": 1}, "issuer")
        node.problem(response, 404, "document-not-found")


# --- amend --------------------------------------------------------------------------------


@pytest.mark.both_databases  # amendments, inbox, index
def test_an_amendment_supersedes_the_original_once_both_are_anchored(
    node: NodeUnderTest,
) -> None:
    original = anchored(node)

    response = post(node, f"/v1/documents/{original['id']}/amend", coo(2), "issuer")

    assert response.status_code == 202, response.text
    replacement_id = response.json()["amendment"]["replacement"]
    assert response.headers["location"] == f"/v1/receipts/{replacement_id}"
    lifecycle = node.services.lifecycle
    assert lifecycle.complete_amendments() == 0  # the replacement is not anchored yet
    node.anchor_pending()
    assert lifecycle.complete_amendments() == 1
    sync(node)
    replacement = node.receipt(replacement_id).json()
    status = verdict_status(node, original["document"])
    assert status["status"] == "invalid"
    assert status["code"] == "superseded"
    assert status["data"]["successorTargetHash"] == replacement["targetHash"]
    history = node.client.get(
        f"/v1/documents/{original['id']}/history", headers=node.auth("issuer")
    ).json()
    assert history["status"] == "superseded"
    assert history["supersededBy"]["receipt"] == replacement_id
    assert history["amendment"]["status"] == "superseded"
    assert [e["event"] for e in history["events"]][-1] == "DocumentSuperseded"


def test_a_document_is_amended_once(node: NodeUnderTest) -> None:
    original = anchored(node)
    assert post(node, f"/v1/documents/{original['id']}/amend", coo(2), "issuer").status_code == 202

    again = post(node, f"/v1/documents/{original['id']}/amend", coo(3), "issuer")

    node.problem(again, 409, "document-not-current")


def test_a_revoked_document_cannot_be_amended(node: NodeUnderTest) -> None:
    original = anchored(node)
    post(node, f"/v1/documents/{original['id']}/revoke", {"reasonCode": 1}, "issuer")
    sync(node)
    pending = node.services.outbox.pending_count()

    response = post(node, f"/v1/documents/{original['id']}/amend", coo(2), "issuer")

    node.problem(response, 409, "document-not-current")
    assert node.services.outbox.pending_count() == pending


def test_an_amendment_by_another_issuer_or_of_another_type_is_refused_and_stores_nothing(
    node: NodeUnderTest,
) -> None:
    original = anchored(node)
    path = f"/v1/documents/{original['id']}/amend"

    node.problem(post(node, path, coo(2), "other-issuer"), 403, "not-authorised")
    node.problem(post(node, path, sample_document("permit/1", 1), "issuer"), 403, "not-authorised")
    node.problem(post(node, path, {"documentType": "coo/1"}, "issuer"), 422, "invalid-document")
    assert node.services.outbox.pending_count() == 0


# --- use and reject -----------------------------------------------------------------------


def test_a_customs_officer_uses_a_document_addressed_to_its_country(
    node: NodeUnderTest, kr: LedgerLink
) -> None:
    wrapped = kr_document_to_vn(node, kr, allowance=3)
    path = f"/v1/documents/{wrapped['targetHash']}/use"

    response = post(
        node,
        path,
        {
            "declarationReference": "VN-IMP-2024-0001",
            "quantity": 2,
            "allowedQuantity": 3,
            "document": wrapped,
        },
        "officer",
    )

    assert response.status_code == 200, response.text
    sync(node)
    assert verdict_status(node, wrapped)["data"]["usedQuantity"] == 2


@pytest.mark.both_databases  # amendments, inbox, index
def test_a_document_in_the_inbox_is_used_without_presenting_it_again(
    node: NodeUnderTest, kr: LedgerLink
) -> None:
    wrapped = kr_document_to_vn(node, kr, index=5)
    content = json.dumps(wrapped).encode()
    ledger = node.services.ledger
    assert ledger is not None
    node.services.inbox.file(  # as the receiver files what it fetched and verified
        ReceivedDocument(
            target_hash=bytes.fromhex(str(wrapped["targetHash"])[2:]),
            batch_root=bytes.fromhex(str(wrapped["batch"]["root"])[2:]),  # type: ignore[index]
            document_type="coo/1",
            issuer_country="KR",
            issuer=kr.issuer.address,
            cid=str(node.services.store.put(content)),
            confidential=False,
            block_number=ledger.head_block(),
            received_at=1.0,
            wrapped_json=content,
            verdict_json=json.dumps(node.services.verifier.verify(wrapped).to_json()),
            valid=True,
        )
    )

    response = post(
        node,
        f"/v1/documents/{wrapped['targetHash']}/use",
        {"declarationReference": "VN-IMP-2024-0005", "quantity": 1, "allowedQuantity": 1},
        "officer",
    )

    assert response.status_code == 200, response.text
    sync(node)
    assert verdict_status(node, wrapped)["data"]["usedQuantity"] == 1


def test_over_use_is_409_with_the_contracts_reason(node: NodeUnderTest, kr: LedgerLink) -> None:
    wrapped = kr_document_to_vn(node, kr)
    path = f"/v1/documents/{wrapped['targetHash']}/use"
    first = {"declarationReference": "D-1", "document": wrapped}
    assert post(node, path, first, "officer").status_code == 200
    sync(node)

    second = post(node, path, {"declarationReference": "D-2", "document": wrapped}, "officer")

    body = node.problem(second, 409, "contract-reverted")
    assert "over-used" in body["detail"]


def test_the_same_use_repeated_is_recorded_once(node: NodeUnderTest, kr: LedgerLink) -> None:
    wrapped = kr_document_to_vn(node, kr, allowance=5)
    path = f"/v1/documents/{wrapped['targetHash']}/use"
    body = {"declarationReference": "D-1", "allowedQuantity": 5, "document": wrapped}

    first = post(node, path, body, "officer").json()
    again = post(node, path, body, "officer").json()

    assert again["txHash"] == first["txHash"]
    sync(node)
    assert verdict_status(node, wrapped)["data"]["usedQuantity"] == 1


def test_a_document_not_addressed_to_this_country_cannot_be_used_here(
    node: NodeUnderTest,
) -> None:
    receipt = anchored(node)  # VN -> TH

    response = post(
        node, f"/v1/documents/{receipt['id']}/use", {"declarationReference": "D"}, "officer"
    )

    body = node.problem(response, 403, "not-authorised")
    assert "not an addressee" in body["detail"]


def test_a_foreign_document_needs_its_wrapped_form(node: NodeUnderTest, kr: LedgerLink) -> None:
    wrapped = kr_document_to_vn(node, kr)
    path = f"/v1/documents/{wrapped['targetHash']}/use"

    node.problem(
        post(node, path, {"declarationReference": "D"}, "officer"), 404, "document-not-found"
    )
    tampered = {**wrapped, "targetHash": "0x" + "11" * 32}
    response = post(node, path, {"declarationReference": "D", "document": tampered}, "officer")
    assert response.status_code == 422


@pytest.mark.both_databases  # amendments, inbox, index
def test_a_customs_officer_rejects_a_document_and_the_history_shows_it(
    node: NodeUnderTest, kr: LedgerLink
) -> None:
    wrapped = kr_document_to_vn(node, kr)

    response = post(
        node,
        f"/v1/documents/{wrapped['targetHash']}/reject",
        {"reasonCode": 42, "document": wrapped},
        "officer",
    )

    assert response.status_code == 200, response.text
    sync(node)
    history = node.client.get(
        f"/v1/documents/{wrapped['targetHash']}/history", headers=node.auth("auditor")
    ).json()
    events = history["events"]
    assert [e["event"] for e in events] == ["BatchAnchored", "DocumentRejected"][-len(events) :]
    rejected = events[-1]
    assert rejected["event"] == "DocumentRejected"
    assert rejected["arguments"]["reasonCode"] == 42
    assert rejected["txHash"] == response.json()["txHash"]
    assert isinstance(rejected["timestamp"], int)
    assert [e["blockNumber"] for e in events] == sorted(e["blockNumber"] for e in events)


@pytest.mark.parametrize("user", ["issuer", "auditor", "admin"])
def test_only_customs_officers_use_or_reject(
    node: NodeUnderTest, kr: LedgerLink, user: str
) -> None:
    wrapped = kr_document_to_vn(node, kr)
    target = wrapped["targetHash"]

    use = {"declarationReference": "D", "document": wrapped}
    node.problem(post(node, f"/v1/documents/{target}/use", use, user), 403, "not-authorised")
    reject = {"reasonCode": 1, "document": wrapped}
    node.problem(post(node, f"/v1/documents/{target}/reject", reject, user), 403, "not-authorised")


# --- history ------------------------------------------------------------------------------


def test_a_pending_documents_history_is_empty_and_pending(node: NodeUnderTest) -> None:
    receipt_id = node.issue(coo()).json()["receipts"][0]["id"]

    history = node.client.get(
        f"/v1/documents/{receipt_id}/history", headers=node.auth("issuer")
    ).json()

    assert history == {"id": receipt_id, "receipt": receipt_id, "status": "pending", "events": []}


def test_an_anchored_documents_history_starts_with_its_batch(node: NodeUnderTest) -> None:
    receipt = anchored(node)

    history = node.client.get(
        f"/v1/documents/{receipt['id']}/history", headers=node.auth("auditor")
    ).json()

    assert history["status"] == "valid"
    first = history["events"][0]
    assert first["blockNumber"] == receipt["blockNumber"]
    assert first["txHash"] == receipt["txHash"]


# --- consortium ---------------------------------------------------------------------------


def kr_member(node: NodeUnderTest, tmp_path: Path) -> tuple[TransactionManager, str]:
    ledger = node.services.ledger
    assert ledger is not None
    key = load_or_create_key(keystore_path(node.runtime.settings.data_dir / "keys", "KR", "member"))
    manager = TransactionManager(
        ledger.chain,
        Journal(tmp_path / "kr-member.sqlite"),
        [key],
        revert_decoder=ledger.manager.revert_decoder,
    )
    return manager, key.address


def test_an_admin_proposes_an_agreement_and_it_executes_at_quorum(
    node: NodeUnderTest, tmp_path: Path
) -> None:
    # VN (this node) recognises coo/1 from SG: an agreement needs the recogniser's approval
    proposal = {
        "action": "addAgreement",
        "verifierCountry": "VN",
        "issuerCountry": "SG",
        "documentType": "coo/1",
        "validFrom": 0,
    }

    created = post(node, "/v1/consortium/proposals", proposal, "admin")

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "pending"
    assert body["approvals"] == 1
    assert body["proposal"] == {**proposal, "validUntil": 0}
    listed = node.client.get("/v1/consortium/proposals", headers=node.auth("auditor")).json()
    assert listed["proposals"][0]["id"] == body["id"]
    again = post(node, f"/v1/consortium/proposals/{body['id']}/approve", {}, "admin")
    node.problem(again, 409, "already-recorded")
    manager, account = kr_member(node, tmp_path)
    ledger = node.services.ledger
    assert ledger is not None
    manager.transact(account, ledger.consortium.request("kr-approve", "approve", body["id"]))
    sync(node)
    agreements = node.client.get("/v1/consortium/agreements", headers=node.auth("officer")).json()
    assert {
        "verifierCountry": "VN",
        "issuerCountry": "SG",
        "documentType": "coo/1",
        "validFrom": 0,
        "validUntil": 0,
        "inForce": True,
    } in agreements["agreements"]


def test_an_admin_approves_another_members_proposal(node: NodeUnderTest, tmp_path: Path) -> None:
    manager, account = kr_member(node, tmp_path)
    ledger = node.services.ledger
    assert ledger is not None
    newcomer = "0x" + "11" * 20
    manager.transact(
        account,
        ledger.consortium.request("kr-propose", "proposeAdmitMember", b"JP", "JP", newcomer),
    )

    response = post(node, "/v1/consortium/proposals/1/approve", {}, "admin")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "executed"
    assert response.json()["proposal"] == {
        "action": "admitMember",
        "country": "JP",
        "name": "JP",
        "account": newcomer,
    }


def test_an_unknown_proposal_is_404_and_a_bad_one_422(node: NodeUnderTest) -> None:
    node.problem(
        post(node, "/v1/consortium/proposals/99/approve", {}, "admin"), 404, "not-found-on-chain"
    )
    bad = {"action": "addKey", "memberId": 1, "account": "0x" + "00" * 20, "documentType": "x/9"}
    node.problem(post(node, "/v1/consortium/proposals", bad, "admin"), 422, "invalid-request-body")
    node.problem(
        post(node, "/v1/consortium/proposals", {"action": "explode"}, "admin"),
        422,
        "invalid-request-body",
    )


def test_the_dev_agreement_is_listed(node: NodeUnderTest) -> None:
    sync(node)

    agreements = node.client.get("/v1/consortium/agreements", headers=node.auth("issuer")).json()

    assert any(
        a["verifierCountry"] == "KR" and a["issuerCountry"] == "VN" and a["inForce"]
        for a in agreements["agreements"]
    )


def test_a_certificate_used_up_is_no_longer_in_force(node: NodeUnderTest, kr: LedgerLink) -> None:
    wrapped = kr_document_to_vn(node, kr, allowance=3)
    path = f"/v1/documents/{wrapped['targetHash']}/use"
    assert verdict_status(node, wrapped)["code"] == "in-force"
    body = {"declarationReference": "D-1", "quantity": 2, "document": wrapped}
    assert post(node, path, body, "officer").status_code == 200
    sync(node)
    assert verdict_status(node, wrapped)["code"] == "in-force"  # 2 of 3: one left

    body = {"declarationReference": "D-2", "quantity": 1, "document": wrapped}
    assert post(node, path, body, "officer").status_code == 200
    sync(node)

    status = verdict_status(node, wrapped)
    assert status["status"] == "invalid"
    assert status["code"] == "used-up"
    assert status["data"]["usedQuantity"] == 3
    assert status["data"]["allowedQuantity"] == 3


def test_a_permit_past_its_signed_validity_is_expired(node: NodeUnderTest) -> None:
    permit = sample_document("permit/1", 1)
    permit["validity"] = {"validFrom": "2024-01-01", "validUntil": "2024-03-31"}
    permit["issueDate"] = "2023-12-20"
    response = post(node, "/v1/documents", permit, "permit-issuer")
    assert response.status_code == 202, response.text
    node.anchor_pending()
    receipt_id = response.json()["receipts"][0]["id"]
    receipt = node.receipt(receipt_id, user="auditor").json()
    assert receipt["status"] == "anchored"

    status = verdict_status(node, receipt["document"])

    assert status["status"] == "invalid"
    assert status["code"] == "expired"
    assert status["data"]["validUntil"] == "2024-03-31"


def test_an_addressee_of_another_document_in_the_batch_cannot_use_this_one(
    node: NodeUnderTest, kr: LedgerLink
) -> None:
    """KR posts two certificates in one batch, one to VN and one to SG: VN's officer may
    act on the first only, though VN is an addressee of the batch."""
    to_vn, to_sg = coo(41), coo(42)
    for document, importer in ((to_vn, "VN"), (to_sg, "SG")):
        document["issuingAuthority"] = {**document["issuingAuthority"], "country": "KR"}  # type: ignore[dict-item]
        document["importingCountry"] = importer
    builder = BatchBuilder()
    builder.add(validate_document(to_vn))
    builder.add(validate_document(to_sg))
    signed = builder.sign(signing_key=kr.signing_key, domain=kr.domain)
    kr.anchor("kr-pair", signed.anchor.root, "coo/1", 2, signed.anchor.addressees)
    sync(node)
    assert signed.anchor.addressees == ("SG", "VN")
    for_vn, for_sg = (document.to_json() for document in signed)

    refused = post(
        node,
        f"/v1/documents/{for_sg['targetHash']}/use",
        {"declarationReference": "D-SG", "document": for_sg},
        "officer",
    )
    node.problem(refused, 403, "not-authorised")
    assert "not an addressee of this document" in refused.json()["detail"]

    accepted = post(
        node,
        f"/v1/documents/{for_vn['targetHash']}/use",
        {"declarationReference": "D-VN", "document": for_vn},
        "officer",
    )
    assert accepted.status_code == 200, accepted.text
