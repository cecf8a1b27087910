"""Security: content only for those entitled (issue 12 §4, ADR 0023).

VN's node (eth-tester, dev consortium VN/KR/SG) issues certificates to KR. Its stored
content (``/ipfs/{cid}``) and batch manifests answer only a member's node that signs its
request with a current member account and is the document's issuer or one of its own
addressees, and the holder of a live share link for that one document. Each attack ends
refused with its problem code; refused requests and bad input store nothing.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from certificates.member_requests import MemberRequest, sign_member_request
from certificates.schemas.samples import sample_document
from certificates.signing import address_of
from ledger import Journal, TransactionManager
from node.access.member_requests import MemberRequestSigner
from node.chain.index_follower import sync_index
from node.db.tables import MemberRequestNonceRow, ShareLinkRow
from node.dev.dev_consortium import keystore_path, load_or_create_key

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration

RAW = {"Accept": "application/vnd.ipld.raw"}


def _anchored(node: NodeUnderTest, index: int, to: str = "KR", **params: str) -> dict[str, Any]:
    body = {**sample_document("coo/1", index), "importingCountry": to}
    query = "&".join(f"{k}={v}" for k, v in params.items())
    # sealing reads the members' encryption keys from the chain (the index)
    assert node.services.ledger is not None
    sync_index(node.services.ledger, node.services.metrics)
    response = node.client.post(
        "/v1/documents" + (f"?{query}" if query else ""),
        content=json.dumps(body),
        headers={"Content-Type": "application/json", **node.auth("issuer")},
    )
    assert response.status_code == 202, response.text
    node.anchor_pending()
    receipt = node.receipt(response.json()["receipts"][0]["id"]).json()
    assert receipt["status"] == "anchored", receipt
    return dict(receipt)


def _member_key(node: NodeUnderTest, country: str) -> bytes:
    keys = node.runtime.settings.data_dir / "keys"
    return bytes(load_or_create_key(keystore_path(keys, country, "member")).key)


def _signer(node: NodeUnderTest, key: bytes, **options: Any) -> MemberRequestSigner:
    assert node.services.ledger is not None
    return MemberRequestSigner(key, node.services.ledger.request_domain, **options)


def _get(
    node: NodeUnderTest,
    target: str,
    signer: MemberRequestSigner | None,
    audience: str = "VN",
    **headers: str,
) -> Any:
    signed = {} if signer is None else signer.headers("GET", target, audience)
    return node.client.get(target, headers={**RAW, **signed, **headers})


def _content(receipt: dict[str, Any]) -> str:
    return f"/ipfs/{receipt['cid']}?format=raw"


def _manifest(receipt: dict[str, Any]) -> str:
    return f"/v1/batches/{receipt['batchRoot']}/manifest"


def _links(node: NodeUnderTest) -> int:
    with Session(node.services.database) as session:
        return int(session.scalar(select(func.count()).select_from(ShareLinkRow)) or 0)


def _share(
    node: NodeUnderTest, receipt: dict[str, Any], user: str = "issuer", days: int = 7
) -> Any:
    return node.client.post(
        f"/v1/documents/{receipt['id']}/share-links",
        content=json.dumps({"expiresInDays": days}),
        headers={"Content-Type": "application/json", **node.auth(user)},
    )


# --- members' nodes ---------------------------------------------------------------------


def test_an_addressees_node_reads_its_document_and_its_manifest(node: NodeUnderTest) -> None:
    receipt = _anchored(node, 1)
    kr = _signer(node, _member_key(node, "KR"))

    content = _get(node, _content(receipt), kr)
    manifest = _get(node, _manifest(receipt), kr)

    assert content.status_code == 200, content.text
    assert json.loads(content.content)["targetHash"] == receipt["targetHash"]
    assert manifest.status_code == 200, manifest.text
    (entry,) = manifest.json()["documents"]
    assert entry["cid"] == receipt["cid"]
    assert manifest.headers["cache-control"] == "private, no-store"


def test_an_outsider_gets_neither_content_nor_manifest(node: NodeUnderTest) -> None:
    receipt = _anchored(node, 2)

    for target in (_content(receipt), _manifest(receipt)):
        node.problem(_get(node, target, None), 401, "not-authenticated")
        # a bearer token of this node is no member signature either
        node.problem(_get(node, target, None, **node.auth("admin")), 401, "not-authenticated")


def test_a_key_that_is_no_members_account_is_refused(node: NodeUnderTest) -> None:
    receipt = _anchored(node, 3)
    stranger = _signer(node, secrets.token_bytes(32))
    kr_issuer_key = bytes(
        load_or_create_key(
            keystore_path(node.runtime.settings.data_dir / "keys", "KR", "issuer")
        ).key
    )

    for target in (_content(receipt), _manifest(receipt)):
        node.problem(_get(node, target, stranger), 403, "not-a-member")
        # an issuer key is not the member account a node signs its requests with
        node.problem(_get(node, target, _signer(node, kr_issuer_key)), 403, "not-a-member")


def test_a_member_that_is_not_an_addressee_gets_no_content_and_no_cid(
    node: NodeUnderTest,
) -> None:
    receipt = _anchored(node, 4)
    sg = _signer(node, _member_key(node, "SG"))

    node.problem(_get(node, _content(receipt), sg), 403, "not-entitled")
    manifest = _get(node, _manifest(receipt), sg)
    assert manifest.status_code == 200
    (entry,) = manifest.json()["documents"]
    assert entry["cid"] is None
    assert receipt["cid"] not in manifest.text
    # the target hashes and terms are all there: the root rebuilds
    assert entry["targetHash"] == receipt["targetHash"]


@pytest.mark.both_databases  # nonces, share links
def test_a_replayed_request_is_refused(node: NodeUnderTest) -> None:
    receipt = _anchored(node, 5)
    kr = _signer(node, _member_key(node, "KR"))
    headers = {**RAW, **kr.headers("GET", _content(receipt), "VN")}

    assert node.client.get(_content(receipt), headers=headers).status_code == 200
    node.problem(
        node.client.get(_content(receipt), headers=headers), 401, "member-request-replayed"
    )


def test_a_stale_or_future_signature_is_refused_and_not_remembered(node: NodeUnderTest) -> None:
    receipt = _anchored(node, 6)
    window = node.runtime.settings.member_request_window_s
    for offset in (-window - 60, window + 60):
        late = _signer(node, _member_key(node, "KR"), clock=lambda o=offset: time.time() + o)
        node.problem(_get(node, _content(receipt), late), 401, "member-signature-stale")
    with Session(node.services.database) as session:
        assert session.scalar(select(func.count()).select_from(MemberRequestNonceRow)) == 0


def test_a_signature_for_another_node_path_or_signer_is_refused(node: NodeUnderTest) -> None:
    receipt = _anchored(node, 7)
    key = _member_key(node, "KR")
    kr = _signer(node, key)

    # signed for SG's node, replayed at VN's
    node.problem(_get(node, _content(receipt), kr, audience="SG"), 401, "member-signature-invalid")
    # signed for the manifest, used for the content
    headers = {**RAW, **kr.headers("GET", _manifest(receipt), "VN")}
    node.problem(
        node.client.get(_content(receipt), headers=headers), 401, "member-signature-invalid"
    )
    # a valid signature that names another member's account
    assert node.services.ledger is not None
    request = MemberRequest("GET", _content(receipt), "VN", int(time.time()), secrets.token_hex(16))
    forged = sign_member_request(
        key, address_of(_member_key(node, "SG")), node.services.ledger.request_domain, request
    )
    node.problem(
        node.client.get(_content(receipt), headers={**RAW, **forged}),
        401,
        "member-signature-invalid",
    )
    # a header missing
    partial = {
        k: v for k, v in kr.headers("GET", _content(receipt), "VN").items() if k != "Docex-Nonce"
    }
    node.problem(
        node.client.get(_content(receipt), headers={**RAW, **partial}),
        401,
        "member-signature-invalid",
    )


def test_a_suspended_members_node_is_refused(node: NodeUnderTest, tmp_path: Path) -> None:
    receipt = _anchored(node, 8)
    kr_key = _member_key(node, "KR")
    kr = _signer(node, kr_key)
    assert _get(node, _content(receipt), kr).status_code == 200
    ledger = node.services.ledger
    assert ledger is not None
    (kr_member_id,) = ledger.consortium.call(ledger.chain, "memberOf", address_of(kr_key))

    proposed = node.client.post(
        "/v1/consortium/proposals",
        content=json.dumps({"action": "suspendMember", "memberId": int(kr_member_id)}),
        headers={"Content-Type": "application/json", **node.auth("admin")},
    )
    assert proposed.status_code == 201, proposed.text
    sg = load_or_create_key(keystore_path(node.runtime.settings.data_dir / "keys", "SG", "member"))
    TransactionManager(
        ledger.chain,
        Journal(tmp_path / "sg-journal.sqlite"),
        [sg],
        revert_decoder=ledger.manager.revert_decoder,
    ).transact(
        sg.address,
        ledger.consortium.request("sg-approve", "approve", proposed.json()["id"]),
    )
    sync_index(ledger, node.services.metrics)

    for target in (_content(receipt), _manifest(receipt)):
        node.problem(_get(node, target, kr), 403, "not-a-member")


# --- share links -------------------------------------------------------------------------


@pytest.mark.both_databases  # nonces, share links
def test_a_share_link_opens_its_document_until_revoked(node: NodeUnderTest) -> None:
    receipt = _anchored(node, 9)
    created = _share(node, receipt)
    assert created.status_code == 201, created.text
    link = created.json()
    token = link["token"]
    assert link["url"].endswith(f"/v1/shared/{token}")
    assert link["state"] == "active"

    shared = node.client.get(f"/v1/shared/{token}")
    assert shared.status_code == 200, shared.text
    assert shared.json()["targetHash"] == receipt["targetHash"]
    raw = node.client.get(_content(receipt), headers={**RAW, "Docex-Share-Token": token})
    assert raw.status_code == 200
    # the token is stored hashed, never as itself
    with Session(node.services.database) as session:
        stored = session.scalars(select(ShareLinkRow)).one()
    assert token not in (stored.token_hash, stored.id)
    listed = node.client.get(
        f"/v1/documents/{receipt['id']}/share-links", headers=node.auth("auditor")
    )
    assert [entry["id"] for entry in listed.json()["links"]] == [link["id"]]
    assert token not in listed.text

    revoked = node.client.delete(f"/v1/share-links/{link['id']}", headers=node.auth("issuer"))
    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"

    node.problem(node.client.get(f"/v1/shared/{token}"), 403, "share-link-revoked")
    node.problem(
        node.client.get(_content(receipt), headers={**RAW, "Docex-Share-Token": token}),
        403,
        "share-link-revoked",
    )


def test_an_expired_or_unknown_share_link_is_refused(node: NodeUnderTest) -> None:
    receipt = _anchored(node, 10)
    link = _share(node, receipt, days=1).json()
    with Session(node.services.database) as session:
        session.execute(update(ShareLinkRow).values(expires_at=time.time() - 1))
        session.commit()

    node.problem(node.client.get(f"/v1/shared/{link['token']}"), 403, "share-link-expired")
    node.problem(node.client.get("/v1/shared/dxs_" + "A" * 43), 403, "share-link-invalid")
    node.problem(node.client.get("/v1/shared/not-a-token"), 403, "share-link-invalid")


def test_a_share_link_for_one_document_does_not_open_another(node: NodeUnderTest) -> None:
    first = _anchored(node, 11)
    second = _anchored(node, 12)
    token = _share(node, first).json()["token"]

    node.problem(
        node.client.get(_content(second), headers={**RAW, "Docex-Share-Token": token}),
        403,
        "not-entitled",
    )


def test_only_the_issuer_or_an_addressees_officer_creates_links(node: NodeUnderTest) -> None:
    receipt = _anchored(node, 13)  # VN -> KR: VN's officer is no addressee

    node.problem(_share(node, receipt, user="other-issuer"), 403, "not-authorised")
    node.problem(_share(node, receipt, user="officer"), 403, "not-authorised")
    node.problem(_share(node, receipt, user="auditor"), 403, "not-authorised")
    node.problem(_share(node, receipt, user="admin"), 403, "not-authorised")
    link = _share(node, receipt).json()
    node.problem(
        node.client.delete(f"/v1/share-links/{link['id']}", headers=node.auth("other-issuer")),
        403,
        "not-authorised",
    )
    node.problem(
        node.client.delete(f"/v1/share-links/{'0' * 32}", headers=node.auth("admin")),
        404,
        "share-link-not-found",
    )
    assert _links(node) == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"expiresInDays": 10_000}, 422, "invalid-request-body"),
        ({"expiresInDays": 91}, 422, "invalid-request-body"),  # over the node's maximum
        ({"expiresInDays": 0}, 422, "invalid-request-body"),
        ({}, 422, "invalid-request-body"),  # an expiry is required
        ({"expiresInDays": "7"}, 422, "invalid-request-body"),
        ({"expiresInDays": 7, "forEveryone": True}, 422, "invalid-request-body"),
        ('{"expiresInDays": 7, "expiresInDays": 8}', 400, "duplicate-key"),
        ("{", 400, "malformed-json"),
    ],
)
def test_bad_share_link_requests_are_problems_and_store_nothing(
    node: NodeUnderTest, body: Any, status: int, code: str
) -> None:
    receipt = _anchored(node, 14)

    response = node.client.post(
        f"/v1/documents/{receipt['id']}/share-links",
        content=body if isinstance(body, str) else json.dumps(body),
        headers={"Content-Type": "application/json", **node.auth("issuer")},
    )

    node.problem(response, status, code)
    assert _links(node) == 0


# --- public verification -----------------------------------------------------------------


def test_a_verdict_by_target_hash_shows_no_field_of_a_confidential_document(
    node: NodeUnderTest,
) -> None:
    document = {**sample_document("coo/1", 15), "importingCountry": "KR"}
    receipt = _anchored(node, 15, confidential="true")

    response = node.client.get(f"/v1/verify/{receipt['targetHash']}")

    assert response.status_code == 200
    assert response.json()["valid"] is True
    assert response.json()["document"]["data"] is None
    for field in (document["certificateNumber"], document["exporter"]["name"]):  # type: ignore[index,call-overload]
        assert str(field) not in response.text
    # and its content is no more public than its verdict
    node.problem(_get(node, _content(receipt), None), 401, "not-authenticated")
