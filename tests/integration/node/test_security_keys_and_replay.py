"""Security: key revocation, backdating, suspension and signature replay, through the
node's own verification (``POST /v1/verify``) on a real (eth-tester) chain with the dev
consortium. The contract-level twins live in ``tests/integration/contracts/``.

The attacker in these tests holds KR's issuer key (a compromised member key) or replays a
genuine VN signature elsewhere. Governance goes the way a consortium does it: VN's admin
proposes through the node's API and a second member (SG) approves with its own member key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from certificates import BatchBuilder, Eip712Domain, validate_document
from certificates.json_types import JsonObject
from certificates.schemas.samples import sample_document
from ledger import Journal, TransactionManager, country_code, open_index, queries
from ledger.chains import find_free_port
from ledger.contracts import type_id
from ledger.errors import ContractReverted, NotAuthorisedOnChain
from ledger.index_schema import Batch
from node.chain.index_follower import sync_index
from node.chain.ledger_link import LedgerLink, link_ledger
from node.dev.dev_consortium import keystore_path, load_or_create_key
from node.http.app import create_app
from node.runtime import NodeRuntime
from node.settings import NodeSettings

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration

#: a date long before any key was revoked: what a backdating forger would write
CLAIMED_ISSUE_DATE = "2020-01-02"


def _ledger(node: NodeUnderTest) -> LedgerLink:
    ledger = node.services.ledger
    assert ledger is not None
    return ledger


def _sync(node: NodeUnderTest) -> None:
    sync_index(_ledger(node), node.services.metrics)


def _key(node: NodeUnderTest, country: str, role: str) -> Any:
    return load_or_create_key(keystore_path(node.runtime.settings.data_dir / "keys", country, role))


def _issuer_link(node: NodeUnderTest, tmp_path: Path, country: str) -> LedgerLink:
    """``country``'s issuer key on the node's chain, with its own journal and index."""
    ledger = _ledger(node)
    return link_ledger(
        ledger.chain,
        ledger.deployment,
        Journal(tmp_path / f"{country}-issuer-journal.sqlite"),
        open_index(tmp_path / f"{country}-issuer-index.sqlite"),
        _key(node, country, "issuer"),
    )


def _approve_as(node: NodeUnderTest, tmp_path: Path, country: str, proposal: int) -> None:
    """``country``'s member approves ``proposal`` with its own governance key."""
    ledger = _ledger(node)
    key = _key(node, country, "member")
    manager = TransactionManager(
        ledger.chain,
        Journal(tmp_path / f"{country}-member-journal.sqlite"),
        [key],
        revert_decoder=ledger.manager.revert_decoder,
    )
    manager.transact(
        key.address,
        ledger.consortium.request(f"{country}-approve-{proposal}", "approve", proposal),
    )


def _govern(
    node: NodeUnderTest, tmp_path: Path, proposal: JsonObject, approvers: tuple[str, ...] = ("SG",)
) -> None:
    """VN's admin proposes through the API, ``approvers`` approve: executed at quorum 2 of 3
    (a member's own keys change only with its approval: name it among ``approvers``; a
    suspension's target does not vote, so VN suspending itself needs both others)."""
    created = node.client.post(
        "/v1/consortium/proposals",
        content=json.dumps(proposal),
        headers={"Content-Type": "application/json", **node.auth("admin")},
    )
    assert created.status_code == 201, created.text
    for country in approvers:
        _approve_as(node, tmp_path, country, created.json()["id"])
    _sync(node)


def _member_id(node: NodeUnderTest, account: str) -> int:
    ledger = _ledger(node)
    (member_id,) = ledger.consortium.call(ledger.chain, "memberOf", account)
    return int(member_id)


def _kr_certificate(index: int, issue_date: str | None = None) -> JsonObject:
    document = sample_document("coo/1", index)
    document["issuingAuthority"] = {**document["issuingAuthority"], "country": "KR"}  # type: ignore[dict-item]
    document["importingCountry"] = "VN"
    if issue_date is not None:
        document["issueDate"] = issue_date
    return document


def _signed(link: LedgerLink, document: JsonObject, domain: Eip712Domain | None = None) -> Any:
    builder = BatchBuilder()
    builder.add(validate_document(document))
    return builder.sign(signing_key=link.signing_key, domain=domain or link.domain)


def _anchor(link: LedgerLink, batch: Any, batch_id: str) -> None:
    link.anchor(batch_id, batch.anchor.root, "coo/1", len(batch), batch.anchor.addressees)


def _verdict(node: NodeUnderTest, wrapped: JsonObject) -> dict[str, Any]:
    response = node.client.post("/v1/verify", json=wrapped)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    body["by_name"] = {check["name"]: check for check in body["checks"]}
    return body


def _authentic(verdict: dict[str, Any]) -> bool:
    """Every check but recognition valid (VN recognises no KR certificates: beside the
    point here)."""
    return all(
        check["status"] == "valid"
        for name, check in verdict["by_name"].items()
        if name != "recognition"
    )


# --- key revocation and backdating ---------------------------------------------------------


@pytest.fixture(params=["eth-tester", "anvil"])
def any_chain_node(request: pytest.FixtureRequest, make_node: Any) -> NodeUnderTest:
    """The VN node on eth-tester (in process) or on a managed anvil (a real JSON-RPC node)."""
    if request.param == "anvil":
        node: NodeUnderTest = make_node(chain="anvil", anvil_port=find_free_port())
        return node
    eth_tester_node: NodeUnderTest = make_node()
    return eth_tester_node


def test_a_batch_signed_before_its_keys_revocation_cannot_be_anchored_after_it_whatever_date_it_claims(  # noqa: E501
    any_chain_node: NodeUnderTest, tmp_path: Path
) -> None:
    node = any_chain_node
    kr = _issuer_link(node, tmp_path, "KR")
    before = _signed(kr, _kr_certificate(1))
    _anchor(kr, before, "kr-before")
    # the compromised key signed this one while it was still valid, and backdated it
    presigned = _signed(kr, _kr_certificate(2, issue_date=CLAIMED_ISSUE_DATE))
    _govern(
        node,
        tmp_path,
        {
            "action": "revokeKey",
            "memberId": _member_id(node, _key(node, "KR", "member").address),
            "account": kr.issuer.address,
            "documentType": "coo/1",
        },
        approvers=("KR",),  # KR revokes its own compromised key
    )

    # refused: by the gas estimate with the contract's reason (eth-tester estimates in the
    # next block), or, on anvil, which estimates in the latest block where the key was
    # still valid, by the mined transaction reverting
    with pytest.raises(ContractReverted):
        _anchor(kr, presigned, "kr-after")
    with pytest.raises(ContractReverted):  # nor relayed by anyone with the signature
        _relay(node, presigned)
    _sync(node)

    backdated = _verdict(node, next(iter(presigned)).to_json())
    assert backdated["valid"] is False
    assert backdated["by_name"]["integrity"]["status"] == "valid"
    assert backdated["by_name"]["signature"]["status"] == "valid"
    assert backdated["by_name"]["issuance"]["status"] == "invalid"
    assert backdated["by_name"]["issuance"]["code"] == "batch-not-anchored"
    earlier = _verdict(node, next(iter(before)).to_json())
    assert _authentic(earlier), earlier["checks"]
    assert "coo/1 in KR" in earlier["by_name"]["issuer"]["reason"]
    assert earlier["by_name"]["issuer"]["code"] == "authorised"
    # VN recognises no KR certificate: genuine, but not recognised here
    assert earlier["by_name"]["recognition"]["status"] == "invalid"
    assert earlier["by_name"]["recognition"]["code"] == "no-agreement"


def test_the_node_judges_a_batch_by_its_anchor_block_not_by_the_date_it_claims(
    node: NodeUnderTest, tmp_path: Path
) -> None:
    """Defence in depth: even if an anchor by a revoked key reached the index (a contract
    bug, a hostile RPC), the node's issuer check reads the key's window at the batch's
    block, and the claimed issue date plays no part."""
    kr = _issuer_link(node, tmp_path, "KR")
    batch = _signed(kr, _kr_certificate(3, issue_date=CLAIMED_ISSUE_DATE))
    _anchor(kr, batch, "kr-backdated")
    _sync(node)
    anchored = _verdict(node, next(iter(batch)).to_json())
    assert _authentic(anchored), anchored["checks"]
    block = anchored["by_name"]["issuance"]["data"]["blockNumber"]
    _govern(
        node,
        tmp_path,
        {
            "action": "revokeKey",
            "memberId": _member_id(node, _key(node, "KR", "member").address),
            "account": kr.issuer.address,
            "documentType": "coo/1",
        },
        approvers=("KR",),  # KR revokes its own compromised key
    )

    ledger = _ledger(node)
    # governance takes effect from the block after the one that executed it
    revoked_from = ledger.head_block() + 1
    at_anchor = queries.authority_at(ledger.index, kr.issuer.address, "coo/1", "KR", block)
    after = queries.authority_at(ledger.index, kr.issuer.address, "coo/1", "KR", revoked_from)
    assert at_anchor.authorised
    assert not after.authorised
    # the document anchored inside the key's window stays valid after the revocation
    assert _authentic(_verdict(node, next(iter(batch)).to_json()))


def _indexed_anyway(node: NodeUnderTest, batch: Any, issuer: str, country: str) -> None:
    """An anchor the contract would refuse, in the index anyway (a contract bug, a hostile
    RPC): what the node's own issuer check is there for."""
    _sync(node)  # the members' keys, indexed
    anchor = batch.anchor
    with Session(_ledger(node).index) as session, session.begin():
        session.add(
            Batch(
                root=anchor.root,
                issuer_member=1,
                type_id=type_id(anchor.document_type),
                document_type=anchor.document_type,
                issuer=bytes.fromhex(issuer[2:]),
                submitter=bytes.fromhex(issuer[2:]),
                issuer_country=country,
                document_count=len(batch),
                addressees=",".join(sorted(anchor.addressees)),
                timestamp=1_767_225_600,
                block_number=_ledger(node).head_block(),
                log_index=0,
                tx_hash=bytes(32),
            )
        )


@pytest.mark.parametrize(
    ("signer", "anchored_for", "country", "code"),
    [
        ("a stranger", "the signer", "KR", "issuer-not-authorised"),
        ("KR", "the signer", "VN", "issuer-other-country"),
        ("KR", "another account", "KR", "signer-mismatch"),
    ],
)
def test_an_unauthorised_anchor_in_the_index_fails_the_issuer_check_with_its_code(
    node: NodeUnderTest, tmp_path: Path, signer: str, anchored_for: str, country: str, code: str
) -> None:
    kr = _issuer_link(node, tmp_path, "KR")
    if signer == "KR":
        batch = _signed(kr, _kr_certificate(10))
    else:  # a key no member holds
        builder = BatchBuilder()
        builder.add(validate_document(_kr_certificate(10)))
        batch = builder.sign(signing_key=bytes(range(40, 72)), domain=kr.domain)
    account = batch.signature.signer if anchored_for == "the signer" else "0x" + "12" * 20
    _indexed_anyway(node, batch, account, country)

    verdict = _verdict(node, next(iter(batch)).to_json())

    assert verdict["valid"] is False
    assert verdict["by_name"]["signature"]["status"] == "valid"
    assert verdict["by_name"]["issuance"]["code"] == "anchored"
    assert verdict["by_name"]["issuer"]["status"] == "invalid"
    assert verdict["by_name"]["issuer"]["code"] == code, verdict["by_name"]["issuer"]


# --- suspension ----------------------------------------------------------------------------


def test_a_suspended_members_earlier_documents_stay_valid_and_later_ones_are_refused(
    node: NodeUnderTest, tmp_path: Path
) -> None:
    kr = _issuer_link(node, tmp_path, "KR")
    earlier = _signed(kr, _kr_certificate(4))
    _anchor(kr, earlier, "kr-earlier")
    later = _signed(kr, _kr_certificate(5, issue_date=CLAIMED_ISSUE_DATE))
    kr_member_id = _member_id(node, _key(node, "KR", "member").address)

    _govern(node, tmp_path, {"action": "suspendMember", "memberId": kr_member_id})

    with pytest.raises(NotAuthorisedOnChain):
        _anchor(kr, later, "kr-later")
    _sync(node)
    kept = _verdict(node, next(iter(earlier)).to_json())
    assert _authentic(kept), kept["checks"]
    refused = _verdict(node, next(iter(later)).to_json())
    assert refused["valid"] is False
    assert refused["by_name"]["issuance"]["status"] == "invalid"
    assert refused["by_name"]["issuance"]["code"] == "batch-not-anchored"


def test_a_suspended_member_cannot_issue_through_its_node_either(
    node: NodeUnderTest, tmp_path: Path
) -> None:
    """VN suspended: the node accepts the request (its outbox), but the anchor is refused
    on chain and the receipt says ``failed``, never ``anchored``."""
    vn_member_id = _member_id(node, _key(node, "VN", "member").address)
    _govern(node, tmp_path, {"action": "suspendMember", "memberId": vn_member_id}, ("SG", "KR"))
    accepted = node.issue(sample_document("coo/1", 6))
    assert accepted.status_code == 202, accepted.text
    receipt_id = accepted.json()["receipts"][0]["id"]

    node.anchor_pending()

    receipt = node.receipt(receipt_id).json()
    assert receipt["status"] == "failed", receipt
    assert "issuer not authorised for coo/1 in VN" in receipt["error"]


# --- replay on another deployment or chain -------------------------------------------------


@pytest.mark.parametrize("elsewhere", ["another chain id", "another DocumentRegistry"])
def test_a_root_signature_made_for_another_deployment_fails_here(
    node: NodeUnderTest, tmp_path: Path, elsewhere: str
) -> None:
    vn = _issuer_link(node, tmp_path, "VN")
    here = vn.domain
    other = (
        Eip712Domain(here.chain_id + 1, here.verifying_contract)
        if elsewhere == "another chain id"
        else Eip712Domain(here.chain_id, "0x" + "11" * 20)
    )
    replayed = _signed(vn, sample_document("coo/1", 7), domain=other)

    # the contract refuses the signature: it recovers someone who is not an issuer
    with pytest.raises(NotAuthorisedOnChain):
        _relay(node, replayed)
    verdict = _verdict(node, next(iter(replayed)).to_json())

    assert verdict["valid"] is False
    assert verdict["by_name"]["integrity"]["status"] == "valid"
    assert verdict["by_name"]["signature"]["status"] == "invalid"
    assert verdict["by_name"]["signature"]["code"] == "domain-mismatch"
    assert verdict["by_name"]["issuance"]["status"] == "invalid"
    assert verdict["by_name"]["issuance"]["code"] == "batch-not-anchored"


def test_a_document_anchored_on_one_chain_is_not_issued_on_a_twin_chain(
    make_node: Any, tmp_path: Path
) -> None:
    """Worst case for replay: another chain that reuses the chain id *and* the registry
    address (the same deployer, the same nonce), so the signature's domain matches. The
    signature holds there, but the batch was never anchored on that chain: invalid."""
    first: NodeUnderTest = make_node()
    receipt_id = first.issue(sample_document("coo/1", 8)).json()["receipts"][0]["id"]
    first.anchor_pending()
    wrapped = first.receipt(receipt_id).json()["document"]
    assert _verdict(first, wrapped)["valid"] is True
    first.stop()

    runtime = NodeRuntime(
        NodeSettings(data_dir=tmp_path / "other-consortium", chain="eth-tester"),
        kdf_iterations=2**10,
    )
    services = runtime.open()
    try:
        assert services.ledger is not None
        assert services.ledger.domain == _ledger(first).domain
        client = TestClient(create_app(runtime.settings, services))
        body = client.post("/v1/verify", json=wrapped).json()
    finally:
        runtime.stop()

    by_name = {check["name"]: check for check in body["checks"]}
    assert body["valid"] is False
    assert by_name["signature"]["status"] == "valid"
    assert by_name["issuance"]["status"] == "invalid"
    assert by_name["issuance"]["code"] == "batch-not-anchored"
    assert "not anchored" in by_name["issuance"]["reason"]


def _relay(node: NodeUnderTest, batch: Any, relayer: str = "SG") -> None:
    """Anchor ``batch`` through ``anchorSigned`` with its own signature, sent by another
    account (any account may relay a signed batch): ``relayer``'s issuer key."""
    ledger = _ledger(node)
    key = _key(node, relayer, "issuer")
    manager = TransactionManager(
        ledger.chain,
        Journal(node.runtime.settings.data_dir / f"relay-{relayer}.sqlite"),
        [key],
        revert_decoder=ledger.manager.revert_decoder,
    )
    request = ledger.documents.request(
        f"relay/0x{batch.anchor.root.hex()}",
        "anchorSigned",
        batch.anchor.root,
        batch.anchor.document_type,
        len(batch),
        [country_code(c) for c in batch.anchor.addressees],
        batch.signature.value,
    )
    manager.transact(key.address, request)


# --- what was signed must be what was anchored ------------------------------------------


def _vn_permit_batch(link: LedgerLink, addressees: list[str]) -> Any:
    permit = sample_document("permit/1", 1)
    permit["addresseeCountries"] = addressees
    return _signed(link, permit)


def test_a_batch_signed_as_one_type_and_anchored_as_another_is_never_green(
    node: NodeUnderTest,
) -> None:
    """The laundering attack: a key signs a permit/1 batch and anchors its root as coo/1
    (a type it holds); the verdict must judge the signed type, not the anchored one."""
    vn = _ledger(node)
    batch = _vn_permit_batch(vn, ["SG"])
    vn.anchor("launder-1", batch.anchor.root, "coo/1", len(batch), batch.anchor.addressees)
    _sync(node)

    verdict = _verdict(node, next(iter(batch)).to_json())

    assert verdict["valid"] is False
    assert verdict["by_name"]["issuance"]["code"] == "anchored"
    assert verdict["by_name"]["issuer"]["code"] == "type-mismatch"


def test_signed_addressees_other_than_the_anchored_ones_are_refused(node: NodeUnderTest) -> None:
    vn = _ledger(node)
    batch = _vn_permit_batch(vn, ["SG"])
    vn.anchor("widen-1", batch.anchor.root, "permit/1", len(batch), ("SG", "TH"))
    _sync(node)

    verdict = _verdict(node, next(iter(batch)).to_json())

    assert verdict["valid"] is False
    assert verdict["by_name"]["issuer"]["code"] == "addressee-mismatch"


def test_a_document_of_another_country_anchored_by_this_member_is_refused(
    node: NodeUnderTest,
) -> None:
    """VN's key signs and anchors a certificate that states KR issued it."""
    vn = _ledger(node)
    batch = _signed(vn, _kr_certificate(31))
    _anchor(vn, batch, "foreign-1")
    _sync(node)

    verdict = _verdict(node, next(iter(batch)).to_json())

    assert verdict["valid"] is False
    assert verdict["by_name"]["issuer"]["code"] == "country-mismatch"


def test_concealing_the_country_does_not_hide_the_mismatch_once_revealed(
    node: NodeUnderTest,
) -> None:
    """The on-chain answers are memoised per document; the binding is not: a concealed
    copy seen first must not turn the revealed one green."""
    vn = _ledger(node)
    batch = _signed(vn, _kr_certificate(32))
    _anchor(vn, batch, "foreign-2")
    _sync(node)
    document = next(iter(batch))
    concealed = document.conceal(["/issuingAuthority/country"]).to_json()

    first = _verdict(node, concealed)
    revealed = _verdict(node, document.to_json())

    assert first["by_name"]["issuer"]["code"] == "authorised"
    assert revealed["by_name"]["issuer"]["code"] == "country-mismatch"
    assert revealed["valid"] is False
