"""The allowance an issuer sets when it issues (``POST /v1/documents?allowance=N``) is the
one committed in each document's terms on chain, listed in its batch's manifest and
measured by the verdict; uses by the addressee add up and a use beyond it is refused by
the DocumentRegistry, on a real (eth-tester) chain with the dev consortium. Invariant:
the quantity a document may be used for is what its issuer committed, never a number
the user who uses it gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from adapters.content import Cid
from certificates import keccak256
from certificates.issuance_rules import MAX_ALLOWANCE
from certificates.json_types import JsonObject
from certificates.merkle import DocumentTerms
from certificates.schemas.samples import sample_document
from ledger import ContractReverted, Journal, open_index
from ledger.contracts import use_request
from node.chain.index_follower import sync_index
from node.chain.ledger_link import LedgerLink, link_ledger
from node.dev.dev_consortium import keystore_path, load_or_create_key
from node.issuing.outbox import SubmissionRow
from node.receiving.manifests import manifest_json

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration


def issue(node: NodeUnderTest, index: int, query: str = "", **headers: str) -> Any:
    """A certificate of origin VN issues to KR (a member of the dev consortium)."""
    document = sample_document("coo/1", index)
    document["importingCountry"] = "KR"
    return node.client.post(
        f"/v1/documents{query}",
        content=json.dumps(document),
        headers={"Content-Type": "application/json", **node.auth("issuer"), **headers},
    )


def anchored_wrapped(node: NodeUnderTest, receipt_id: str) -> JsonObject:
    node.anchor_pending()
    receipt = node.receipt(receipt_id, user="auditor").json()
    assert receipt["status"] == "anchored", receipt
    wrapped: JsonObject = json.loads(node.services.store.get(Cid.parse(receipt["cid"])))
    return wrapped


def kr_link(node: NodeUnderTest, tmp_path: Path) -> LedgerLink:
    """KR's key on the node's chain: the addressee of the documents issued here."""
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


def use(
    kr: LedgerLink, wrapped: JsonObject, declaration: str, quantity: int, allowance: int
) -> None:
    batch = wrapped["batch"]
    assert isinstance(batch, dict)
    terms = batch["terms"]
    assert isinstance(terms, dict)
    request = use_request(
        kr.documents,
        f"use/{declaration}",
        root=bytes.fromhex(str(batch["root"])[2:]),
        target_hash=bytes.fromhex(str(wrapped["targetHash"])[2:]),
        proof=[bytes.fromhex(str(p)[2:]) for p in batch["proof"]],  # type: ignore[union-attr]
        terms=DocumentTerms(tuple(terms["addressees"]), allowance),  # type: ignore[arg-type]
        declaration_ref=keccak256(declaration.encode()),
        quantity=quantity,
    )
    kr.manager.transact(kr.issuer.address, request)


def status(node: NodeUnderTest, wrapped: JsonObject) -> dict[str, Any]:
    assert node.services.ledger is not None
    sync_index(node.services.ledger, node.services.metrics)
    checks = node.client.post("/v1/verify", json=wrapped).json()["checks"]
    return next(c for c in checks if c["name"] == "status")


def test_the_allowance_set_at_issue_is_committed_listed_and_used_up_in_parts(
    node: NodeUnderTest, tmp_path: Path
) -> None:
    accepted = issue(node, 301, "?allowance=4")
    assert accepted.status_code == 202, accepted.text
    wrapped = anchored_wrapped(node, accepted.json()["receipts"][0]["id"])

    assert wrapped["batch"]["terms"]["allowance"] == 4  # type: ignore[index,call-overload]
    root = bytes.fromhex(str(wrapped["batch"]["root"])[2:])  # type: ignore[index,call-overload]
    listed = node.services.outbox.anchored_batch_documents(root)
    assert listed is not None
    manifest = manifest_json(listed, lambda _: True)
    assert [entry["allowance"] for entry in manifest["documents"]] == [4]  # type: ignore[index,union-attr]
    assert status(node, wrapped)["data"]["allowedQuantity"] == 4

    kr = kr_link(node, tmp_path)
    use(kr, wrapped, "KR-IMP-1", 3, 4)
    assert status(node, wrapped)["code"] == "in-force"  # 3 of 4: one left
    with pytest.raises(ContractReverted):
        use(kr, wrapped, "KR-IMP-2", 2, 4)  # over-use: refused on chain
    with pytest.raises(ContractReverted):
        use(kr, wrapped, "KR-IMP-3", 1, 5)  # another allowance than the issuer's: refused
    use(kr, wrapped, "KR-IMP-4", 1, 4)

    used = status(node, wrapped)
    assert used["code"] == "used-up"
    assert used["data"]["usedQuantity"] == 4


def test_by_default_a_document_is_single_use(node: NodeUnderTest) -> None:
    accepted = issue(node, 302)
    wrapped = anchored_wrapped(node, accepted.json()["receipts"][0]["id"])

    assert wrapped["batch"]["terms"]["allowance"] == 1  # type: ignore[index,call-overload]


@pytest.mark.parametrize("value", ["0", "-1", str(MAX_ALLOWANCE + 1), "two", "1.5"])
def test_an_allowance_out_of_range_is_422_and_stores_nothing(
    node: NodeUnderTest, value: str
) -> None:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    response = issue(node, 303, f"?allowance={value}")

    body = node.problem(response, 422, "invalid-request")
    assert "allowance" in json.dumps(body)
    with Session(node.services.database.engine) as session:
        assert session.scalar(select(func.count()).select_from(SubmissionRow)) == 0


def test_an_idempotency_key_is_bound_to_the_allowance(node: NodeUnderTest) -> None:
    first = issue(node, 304, "?allowance=2", **{"Idempotency-Key": "k-304"})
    assert first.status_code == 202

    again = issue(node, 304, "?allowance=3", **{"Idempotency-Key": "k-304"})

    node.problem(again, 422, "idempotency-key-reused")
