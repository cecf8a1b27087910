"""Who may call what, as one table: every role x every endpoint, on a document of the
caller's own institution or of another one, gives the expected 401, 403 or 2xx.

The document in question is always issued by ``issuer`` (moit-coo, coo/1): for
``other-issuer`` (vcci-coo, coo/1) it is another institution's document, for
``permit-issuer`` a document of a type it does not issue. ``use`` and ``reject`` act on a
certificate KR issued to VN, the only kind a VN customs officer may use. ``none`` sends
no token, ``revoked`` the token of a revoked user. One node serves the whole table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest
from fastapi.testclient import TestClient

from certificates import BatchBuilder, validate_document
from certificates.json_types import JsonObject
from certificates.keccak import keccak256
from certificates.schemas.samples import sample_document
from certificates.signing import checksum_address
from ledger import Journal, TransactionManager, open_index
from node.access.roles import Role
from node.chain.index_follower import sync_index
from node.chain.ledger_link import LedgerLink, link_ledger
from node.dev.dev_consortium import keystore_path, load_or_create_key
from node.http.app import create_app
from node.runtime import NodeRuntime
from node.services import NodeServices
from node.settings import NodeSettings

pytestmark = pytest.mark.integration

ROLES: Final = (
    "none",
    "revoked",
    "issuer",
    "other-issuer",
    "permit-issuer",
    "officer",
    "auditor",
    "admin",
)
_ISSUERS: Final = ("issuer", "other-issuer", "permit-issuer")
_ALL_SIGNED_IN: Final = (*_ISSUERS, "officer", "auditor", "admin")


def _only(allowed: dict[str, int], otherwise: int = 403) -> dict[str, int]:
    """Expected status per role: ``allowed`` ones as given, other signed-in roles
    ``otherwise``, no or a revoked token 401."""
    expected = {"none": 401, "revoked": 401}
    expected.update({role: allowed.get(role, otherwise) for role in _ALL_SIGNED_IN})
    return expected


#: endpoint -> role -> status
MATRIX: Final[dict[str, dict[str, int]]] = {
    "issue": _only({"issuer": 202, "other-issuer": 202}),
    "issue for another country": _only({}),
    "verify": dict.fromkeys(ROLES, 200),
    "receipt": _only({"issuer": 200, "auditor": 200, "admin": 200}),
    "revoke": _only({"issuer": 200}),
    "amend": _only({"issuer": 202}),
    "use": _only({"officer": 200}),
    "reject": _only({"officer": 200}),
    "history": _only({"issuer": 200, "officer": 200, "auditor": 200, "admin": 200}),
    "inbox": _only({"officer": 200, "auditor": 200, "admin": 200}),
    "inbox document": _only({"officer": 404, "auditor": 404, "admin": 404}),
    "list proposals": _only({"auditor": 200, "admin": 200}),
    "propose": _only({"admin": 201}),
    "approve": _only({"admin": 200}),
    "agreements": _only(dict.fromkeys(_ALL_SIGNED_IN, 200)),
    "verify by reference": dict.fromkeys(ROLES, 200),
    # for members' signed requests only, never a bearer token (ADR 0023)
    "batch manifest": _only({}, otherwise=401),
    "certificate": _only({"issuer": 200, "auditor": 200, "admin": 200}),
    "audit": _only({"issuer": 200, "auditor": 200, "admin": 200}),
    "create share link": _only({"issuer": 201}),
    "list share links": _only({"issuer": 200, "auditor": 200, "admin": 200}),
    "revoke share link": _only({"issuer": 200, "admin": 200}),
    "shared document": dict.fromkeys(ROLES, 200),
    "export credential": _only({"issuer": 200, "auditor": 200, "admin": 200}),
    # public, as a status list must be for any verifier of an exported credential
    "credential status list": dict.fromkeys(ROLES, 200),
}

#: endpoint -> the operation it calls (every operation of /v1 is in the table)
OPERATIONS: Final[dict[str, str]] = {
    "issue": "POST /v1/documents",
    "issue for another country": "POST /v1/documents",
    "verify": "POST /v1/verify",
    "receipt": "GET /v1/receipts/{receipt_id}",
    "revoke": "POST /v1/documents/{document_id}/revoke",
    "amend": "POST /v1/documents/{document_id}/amend",
    "use": "POST /v1/documents/{document_id}/use",
    "reject": "POST /v1/documents/{document_id}/reject",
    "history": "GET /v1/documents/{document_id}/history",
    "inbox": "GET /v1/inbox",
    "inbox document": "GET /v1/inbox/{target_hash}",
    "list proposals": "GET /v1/consortium/proposals",
    "propose": "POST /v1/consortium/proposals",
    "approve": "POST /v1/consortium/proposals/{proposal_id}/approve",
    "agreements": "GET /v1/consortium/agreements",
    "verify by reference": "GET /v1/verify/{ref}",
    "batch manifest": "GET /v1/batches/{root}/manifest",
    "certificate": "GET /v1/documents/{document_id}/certificate.pdf",
    "audit": "GET /v1/audit",
    "create share link": "POST /v1/documents/{document_id}/share-links",
    "list share links": "GET /v1/documents/{document_id}/share-links",
    "revoke share link": "DELETE /v1/share-links/{link_id}",
    "shared document": "GET /v1/shared/{token}",
    "export credential": "GET /v1/documents/{document_id}/credential",
    "credential status list": "GET /v1/credentials/status/{purpose}/{list_number}",
}


@dataclass
class Node:
    services: NodeServices
    client: TestClient
    tokens: dict[str, str]
    kr_issuer: LedgerLink
    kr_member: TransactionManager
    kr_member_address: str
    counter: int = 0

    @property
    def ledger(self) -> LedgerLink:
        assert self.services.ledger is not None
        return self.services.ledger

    def headers(self, role: str) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if role != "none":
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return headers

    def next_index(self) -> int:
        self.counter += 1
        return self.counter

    def sync(self) -> None:
        sync_index(self.ledger, self.services.metrics)

    def own_document(self) -> dict[str, Any]:
        """A fresh coo/1 issued by ``issuer`` and anchored: its anchored receipt."""
        response = self.client.post(
            "/v1/documents",
            content=json.dumps(sample_document("coo/1", self.next_index())),
            headers=self.headers("issuer"),
        )
        receipt_id = response.json()["receipts"][0]["id"]
        assert self.services.batcher is not None
        self.services.batcher.run_once(force=True)
        self.sync()
        receipt: dict[str, Any] = self.client.get(
            f"/v1/receipts/{receipt_id}", headers=self.headers("auditor")
        ).json()
        return receipt

    def kr_document(self) -> JsonObject:
        """A fresh coo/1 KR issued to VN, anchored and indexed: its wrapped form."""
        index = self.next_index()
        document = sample_document("coo/1", index)
        document["issuingAuthority"] = {**document["issuingAuthority"], "country": "KR"}  # type: ignore[dict-item]
        document["importingCountry"] = "VN"
        builder = BatchBuilder()
        builder.add(validate_document(document))
        signed = builder.sign(signing_key=self.kr_issuer.signing_key, domain=self.kr_issuer.domain)
        self.kr_issuer.anchor(f"kr-{index}", signed.anchor.root, "coo/1", 1, ["VN"])
        self.sync()
        wrapped: JsonObject = next(iter(signed)).to_json()
        return wrapped

    def kr_proposal(self) -> int:
        """A proposal KR made (one approval of two): its id."""
        key = f"kr-propose-{self.next_index()}"
        self.kr_member.transact(
            self.kr_member_address,
            # KR proposes a new member account of its own (its consent; VN's approval
            # executes it): always valid again, with a fresh account each time
            self.ledger.consortium.request(
                key,
                "proposeAddKey",
                2,
                checksum_address("0x" + keccak256(key.encode())[:20].hex()),
                bytes(32),
            ),
        )
        (count,) = self.ledger.consortium.call(self.ledger.chain, "proposalCount")
        return int(count)


@pytest.fixture(scope="module")
def matrix_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    data_dir: Path = tmp_path_factory.mktemp("matrix") / "vn"
    settings = NodeSettings(data_dir=data_dir, chain="eth-tester")
    runtime = NodeRuntime(settings, kdf_iterations=2**10)
    services = runtime.open()
    users = services.users
    tokens = {
        "issuer": users.add("moit-coo", Role.ISSUER, ["coo/1"]),
        "permit-issuer": users.add("moh-permits", Role.ISSUER, ["permit/1"]),
        "other-issuer": users.add("vcci-coo", Role.ISSUER, ["coo/1"]),
        "officer": users.add("hcm-customs", Role.CUSTOMS_OFFICER),
        "auditor": users.add("state-audit", Role.AUDITOR),
        "admin": users.add("node-admin", Role.ADMIN),
        "revoked": users.add("former-issuer", Role.ISSUER, ["coo/1"]),
    }
    users.revoke("former-issuer")
    ledger = services.ledger
    assert ledger is not None
    keys = data_dir / "keys"
    kr_member_key = load_or_create_key(keystore_path(keys, "KR", "member"))
    node = Node(
        services=services,
        client=TestClient(create_app(settings, services), client=("203.0.113.9", 5000)),
        tokens=tokens,
        kr_issuer=link_ledger(
            ledger.chain,
            ledger.deployment,
            Journal(data_dir / "kr-issuer.sqlite"),
            open_index(data_dir / "kr-index.sqlite"),
            load_or_create_key(keystore_path(keys, "KR", "issuer")),
        ),
        kr_member=TransactionManager(
            ledger.chain,
            Journal(data_dir / "kr-member.sqlite"),
            [kr_member_key],
            revert_decoder=ledger.manager.revert_decoder,
        ),
        kr_member_address=kr_member_key.address,
    )
    yield node
    runtime.stop()


Request = tuple[str, str, Any]


def _issue(node: Node) -> Request:
    return ("POST", "/v1/documents", sample_document("coo/1", node.next_index()))


def _issue_for_kr(node: Node) -> Request:
    document = sample_document("coo/1", node.next_index())
    document["issuingAuthority"] = {**document["issuingAuthority"], "country": "KR"}  # type: ignore[dict-item]
    document["importingCountry"] = "TH"
    return ("POST", "/v1/documents", document)


def _verify(node: Node) -> Request:
    return ("POST", "/v1/verify", {"version": "docex-wrapped/1"})


def _receipt(node: Node) -> Request:
    return ("GET", f"/v1/receipts/{node.own_document()['id']}", None)


def _revoke(node: Node) -> Request:
    return ("POST", f"/v1/documents/{node.own_document()['id']}/revoke", {"reasonCode": 1})


def _amend(node: Node) -> Request:
    document_id = node.own_document()["id"]
    return ("POST", f"/v1/documents/{document_id}/amend", sample_document("coo/1", 999))


def _use(node: Node) -> Request:
    wrapped = node.kr_document()
    body = {"declarationReference": "VN-IMP-1", "document": wrapped}
    return ("POST", f"/v1/documents/{wrapped['targetHash']}/use", body)


def _reject(node: Node) -> Request:
    wrapped = node.kr_document()
    body = {"reasonCode": 5, "document": wrapped}
    return ("POST", f"/v1/documents/{wrapped['targetHash']}/reject", body)


def _history(node: Node) -> Request:
    return ("GET", f"/v1/documents/{node.own_document()['id']}/history", None)


def _inbox(node: Node) -> Request:
    return ("GET", "/v1/inbox", None)


def _inbox_document(node: Node) -> Request:
    return ("GET", "/v1/inbox/0x" + "ab" * 32, None)


def _list_proposals(node: Node) -> Request:
    return ("GET", "/v1/consortium/proposals", None)


def _propose(node: Node) -> Request:
    body = {"action": "admitMember", "country": "JP", "name": "JP", "account": "0x" + "22" * 20}
    return ("POST", "/v1/consortium/proposals", body)


def _approve(node: Node) -> Request:
    return ("POST", f"/v1/consortium/proposals/{node.kr_proposal()}/approve", None)


def _agreements(node: Node) -> Request:
    return ("GET", "/v1/consortium/agreements", None)


def _verify_by_reference(node: Node) -> Request:
    return ("GET", f"/v1/verify/{node.own_document()['id']}", None)


def _batch_manifest(node: Node) -> Request:
    return ("GET", f"/v1/batches/{node.own_document()['batchRoot']}/manifest", None)


def _certificate(node: Node) -> Request:
    return ("GET", f"/v1/documents/{node.own_document()['id']}/certificate.pdf", None)


def _audit(node: Node) -> Request:
    return ("GET", f"/v1/audit?document={node.own_document()['id']}", None)


def _create_share_link(node: Node) -> Request:
    return (
        "POST",
        f"/v1/documents/{node.own_document()['id']}/share-links",
        {"expiresInDays": 3},
    )


def _list_share_links(node: Node) -> Request:
    return ("GET", f"/v1/documents/{node.own_document()['id']}/share-links", None)


def _new_share_link(node: Node) -> dict[str, Any]:
    response = node.client.post(
        f"/v1/documents/{node.own_document()['id']}/share-links",
        content=json.dumps({"expiresInDays": 3}),
        headers=node.headers("issuer"),
    )
    assert response.status_code == 201, response.text
    link: dict[str, Any] = response.json()
    return link


def _revoke_share_link(node: Node) -> Request:
    return ("DELETE", f"/v1/share-links/{_new_share_link(node)['id']}", None)


def _shared_document(node: Node) -> Request:
    return ("GET", f"/v1/shared/{_new_share_link(node)['token']}", None)


def _export_credential(node: Node) -> Request:
    return ("GET", f"/v1/documents/{node.own_document()['id']}/credential", None)


def _credential_status_list(node: Node) -> Request:
    exported = node.client.get(
        f"/v1/documents/{node.own_document()['id']}/credential", headers=node.headers("issuer")
    )
    assert exported.status_code == 200, exported.text  # a list exists once a credential uses it
    return ("GET", "/v1/credentials/status/revocation/1", None)


REQUESTS: Final[dict[str, Callable[[Node], Request]]] = {
    "issue": _issue,
    "issue for another country": _issue_for_kr,
    "verify": _verify,
    "receipt": _receipt,
    "revoke": _revoke,
    "amend": _amend,
    "use": _use,
    "reject": _reject,
    "history": _history,
    "inbox": _inbox,
    "inbox document": _inbox_document,
    "list proposals": _list_proposals,
    "propose": _propose,
    "approve": _approve,
    "agreements": _agreements,
    "verify by reference": _verify_by_reference,
    "batch manifest": _batch_manifest,
    "certificate": _certificate,
    "audit": _audit,
    "create share link": _create_share_link,
    "list share links": _list_share_links,
    "revoke share link": _revoke_share_link,
    "shared document": _shared_document,
    "export credential": _export_credential,
    "credential status list": _credential_status_list,
}

CASES: Final = [
    pytest.param(endpoint, role, status, id=f"{endpoint}-{role}")
    for endpoint, statuses in MATRIX.items()
    for role, status in statuses.items()
]


def test_the_matrix_covers_every_endpoint_and_role(matrix_node: Node) -> None:
    assert set(MATRIX) == set(REQUESTS) == set(OPERATIONS)
    assert all(set(statuses) == set(ROLES) for statuses in MATRIX.values())
    schema = matrix_node.client.get("/openapi.json").json()
    operations = {
        f"{method.upper()} {path}"
        for path, methods in schema["paths"].items()
        if path.startswith("/v1/")
        for method in methods
    }
    assert operations == set(OPERATIONS.values())


@pytest.mark.parametrize(("endpoint", "role", "status"), CASES)
def test_who_may_call_what(matrix_node: Node, endpoint: str, role: str, status: int) -> None:
    method, path, body = REQUESTS[endpoint](matrix_node)

    response = matrix_node.client.request(
        method,
        path,
        content=None if body is None else json.dumps(body),
        headers=matrix_node.headers(role),
    )

    assert response.status_code == status, f"{endpoint} as {role}: {response.text}"
    if status in (401, 403):
        assert response.headers["content-type"].startswith("application/problem+json")
        code = "not-authenticated" if status == 401 else "not-authorised"
        assert response.json()["code"] == code
