"""The node exports a document as a W3C VC 2.0 and serves what a verifier needs: the
member's DID document and the Bitstring Status Lists, kept in step with the chain.

Checked by implementations that are not ours, with what the node serves over HTTP:
``jwcrypto`` (PyPI) verifies the JWS with the key the DID document fetched from the node
lists for the JWT's ``kid``; Digital Bazaar's ``@digitalbazaar/vc-bitstring-status-list``
(npm) reads the status lists fetched from the node. Revoking the document on chain turns
the status red once the node's index follows; a tampered credential fails the signature.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from jwcrypto import jwk, jws  # type: ignore[import-untyped]
from typer.testing import CliRunner

from certificates.schemas.samples import sample_document
from node.chain.index_follower import sync_index
from node.cli.main import app as docex

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration

RunReference = Callable[[str, dict[str, Any]], Any]
MEDIA_TYPE = "application/vc+jwt"


def _anchored(node: NodeUnderTest, index: int = 1) -> dict[str, Any]:
    response = node.issue(sample_document("coo/1", index))
    receipt_id = response.json()["receipts"][0]["id"]
    node.anchor_pending()
    receipt: dict[str, Any] = node.receipt(receipt_id).json()
    assert receipt["status"] == "anchored"
    return receipt


def _served(node: NodeUnderTest, url: str) -> Any:
    """GET a URL the node published (its public base URL) from the node under test."""
    base = node.runtime.settings.base_url
    assert url.startswith(base + "/"), url
    return node.client.get(url.removeprefix(base))


def _export(node: NodeUnderTest, document_id: str, user: str = "issuer") -> Any:
    return node.client.get(f"/v1/documents/{document_id}/credential", headers=node.auth(user))


def _fetched_did_document(node: NodeUnderTest) -> dict[str, Any]:
    response = node.client.get(node.services.credentials.did_path)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    assert document["id"] == node.services.credentials.did
    return document


def their_verification(token: str, did_document: dict[str, Any]) -> dict[str, Any]:
    """jwcrypto verifies the JWS with the public key the DID document lists for its kid."""
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["kid"] in did_document["assertionMethod"]
    method = next(m for m in did_document["verificationMethod"] if m["id"] == header["kid"])
    checked = jws.JWS()
    checked.deserialize(token)
    checked.verify(jwk.JWK(**method["publicKeyJwk"]), alg="ES256K")
    payload: dict[str, Any] = json.loads(checked.payload)
    return payload


def their_status(
    node: NodeUnderTest, run_reference: RunReference, credential: dict[str, Any]
) -> dict[str, Any]:
    """The status lists fetched from the node, verified by jwcrypto, read by Digital Bazaar."""
    did_document = _fetched_did_document(node)
    lists = {}
    for entry in credential["credentialStatus"]:
        response = _served(node, entry["statusListCredential"])
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(MEDIA_TYPE)
        lists[entry["statusListCredential"]] = their_verification(response.text, did_document)
    answer: dict[str, Any] = run_reference(
        "vc_status.mjs", {"credential": credential, "statusLists": lists}
    )
    assert answer["verified"] is True, answer
    return answer


def test_an_exported_credential_verifies_and_turns_red_when_the_document_is_revoked(
    node: NodeUnderTest, run_reference: RunReference
) -> None:
    receipt = _anchored(node)
    response = _export(node, receipt["id"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(MEDIA_TYPE)
    token = response.text

    credential = their_verification(token, _fetched_did_document(node))
    assert credential["issuer"]["id"] == node.services.credentials.did
    assert credential["evidence"][0]["targetHash"] == receipt["targetHash"]
    assert credential["credentialSubject"]["iD"] == sample_document("coo/1", 1)["certificateNumber"]
    before = their_status(node, run_reference, credential)
    assert before["statuses"] == {"revocation": False, "suspension": False}

    revoked = node.client.post(
        f"/v1/documents/{receipt['id']}/revoke", json={"reasonCode": 7}, headers=node.auth("issuer")
    )
    assert revoked.status_code == 200, revoked.text
    sync_index(node.services.ledger, node.services.metrics)

    after = their_status(node, run_reference, credential)
    assert after["statuses"] == {"revocation": True, "suspension": False}
    # the same document keeps its place in the lists at a second export
    again = their_verification(
        _export(node, receipt["targetHash"]).text, _fetched_did_document(node)
    )
    assert again["credentialStatus"] == credential["credentialStatus"]


def test_a_tampered_credential_fails_the_independent_signature_check(
    node: NodeUnderTest,
) -> None:
    token = _export(node, _anchored(node)["id"]).text
    header, payload, signature = token.split(".")
    changed = json.loads(base64.urlsafe_b64decode(payload + "=="))
    changed["credentialSubject"]["iD"] = "VN-KR 24/02/9999999"
    forged = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()

    with pytest.raises(jws.InvalidJWSSignature):
        their_verification(f"{header}.{forged}.{signature}", _fetched_did_document(node))


@pytest.mark.both_databases  # credential tables
def test_each_document_takes_its_own_status_place(node: NodeUnderTest) -> None:
    first, second = _anchored(node, 1), _anchored(node, 2)
    did_document = _fetched_did_document(node)
    places = {
        their_verification(_export(node, r["id"]).text, did_document)["credentialStatus"][0][
            "statusListIndex"
        ]
        for r in (first, second)
    }
    assert len(places) == 2


def test_the_did_document_lists_the_registry_account_the_node_signs_with(
    node: NodeUnderTest,
) -> None:
    sync_index(node.services.ledger, node.services.metrics)  # the registry's events
    did_document = _fetched_did_document(node)
    account = node.services.ledger.issuer.address.lower()
    chain_id = node.services.ledger.deployment.chain_id
    (method,) = did_document["verificationMethod"]
    assert method["blockchainAccountId"] == f"eip155:{chain_id}:{account}"
    assert method["publicKeyJwk"]["crv"] == "secp256k1"
    assert did_document["authentication"] == [method["id"]]


@pytest.mark.parametrize(("user", "status"), [("other-issuer", 403), ("officer", 403)])
def test_only_the_documents_issuer_auditors_and_admins_export_it(
    node: NodeUnderTest, user: str, status: int
) -> None:
    receipt = _anchored(node)
    node.problem(_export(node, receipt["id"], user), status, "not-authorised")
    for allowed in ("auditor", "admin"):
        assert _export(node, receipt["id"], allowed).status_code == 200


def test_a_pending_document_and_an_unknown_list_are_problems(node: NodeUnderTest) -> None:
    receipt_id = node.issue(sample_document("coo/1", 3)).json()["receipts"][0]["id"]
    node.problem(_export(node, receipt_id), 409, "document-not-anchored")
    node.problem(_export(node, "0x" + "ab" * 32), 404, "document-not-found")
    node.problem(
        node.client.get("/v1/credentials/status/revocation/7"), 404, "status-list-not-found"
    )
    node.problem(node.client.get("/v1/credentials/status/expiry/1"), 404, "status-list-not-found")


def test_docex_credential_writes_the_credential_the_node_exports(
    node: NodeUnderTest, serve: Any, tmp_path: Path
) -> None:
    receipt = _anchored(node)
    url = serve(node.client.app)
    output = tmp_path / "coo.jwt"
    arguments = ["credential", receipt["id"], "-o", str(output), "--node", url]

    written = CliRunner().invoke(docex, [*arguments, "--token", node.tokens["issuer"]])
    assert written.exit_code == 0, written.output
    credential = their_verification(output.read_text().strip(), _fetched_did_document(node))
    assert credential["evidence"][0]["targetHash"] == receipt["targetHash"]

    refused = CliRunner().invoke(
        docex, [*arguments, "--force", "--token", node.tokens["other-issuer"]]
    )
    assert refused.exit_code == 1
    assert "403" in refused.output


def test_a_public_url_that_makes_no_did_web_turns_the_export_off_not_the_node(
    make_node: Any,
) -> None:
    node = make_node(public_url="http://[::1]:8000")
    assert node.client.get("/healthz").status_code == 200
    node.problem(node.client.get("/.well-known/did.json"), 503, "credentials-unavailable")
