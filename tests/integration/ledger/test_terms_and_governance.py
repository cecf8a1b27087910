"""The ledger's bindings of per-document terms, the issuer check, encryption keys and leaving."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine

from certificates.keccak import keccak256
from certificates.merkle import DocumentTerms, MerkleTree
from ledger import anchor_record, issued_as, queries, rejection_request, use_request
from ledger.chains import Chain
from ledger.contracts import anchor_request
from ledger.deploy import ConsortiumConfig
from ledger.errors import NotAuthorisedOnChain
from ledger.registry_members import RegistryMemberLog, read_registry_members

# the index (keys, members, uses) on SQLite and PostgreSQL (eth-tester only: conftest.py)
pytestmark = pytest.mark.both_databases

if TYPE_CHECKING:
    from conftest import Consortium

TH_ONCE = DocumentTerms(("TH",), 1)
TH_FIVE = DocumentTerms(("TH",), 5)
VN_ONLY = DocumentTerms(("VN",), 1)


def anchored(consortium: Consortium, seed: str, *terms: DocumentTerms) -> MerkleTree:
    targets = [keccak256(f"{seed}-{i}".encode()) for i in range(len(terms))]
    tree = MerkleTree.build_with_terms(list(zip(targets, terms, strict=True)))
    request = anchor_request(
        consortium.documents,
        consortium.under_test.chain,
        f"anchor-{seed}",
        consortium.vn_issuer,
        tree.root,
        "coo/1",
        tree.size,
        ["TH", "VN"],
    )
    consortium.manager.transact(consortium.vn_issuer, request)
    return tree


def test_a_documents_own_addressee_uses_it_within_the_committed_allowance(
    consortium: Consortium, index_engine: Engine
) -> None:
    tree = anchored(consortium, "use", TH_FIVE, VN_ONLY)
    target = keccak256(b"use-0")

    def use(key: str, quantity: int, terms: DocumentTerms = TH_FIVE) -> None:
        request = use_request(
            consortium.documents,
            key,
            root=tree.root,
            target_hash=target,
            proof=tree.proof(0),
            terms=terms,
            declaration_ref=keccak256(key.encode()),
            quantity=quantity,
        )
        consortium.manager.transact(consortium.th_member, request)

    use("use-1", 2)
    use("use-2", 3)
    consortium.indexer(index_engine).sync()
    status = queries.document_status(index_engine, target, root=tree.root)
    assert [(u.quantity, u.used_quantity, u.allowed_quantity) for u in status.uses] == [
        (2, 2, 5),
        (3, 5, 5),
    ]
    with pytest.raises(NotAuthorisedOnChain) as raised:
        use("use-3", 1, DocumentTerms(("TH",), 50))
    assert raised.value.rule == "InvalidTermsProof"
    assert "not the terms its issuer committed" in raised.value.message


def test_an_addressee_of_another_document_of_the_batch_cannot_reject_this_one(
    consortium: Consortium,
) -> None:
    tree = anchored(consortium, "reject", TH_ONCE, VN_ONLY)
    request = rejection_request(
        consortium.documents,
        "reject-by-vn",
        root=tree.root,
        target_hash=keccak256(b"reject-0"),
        proof=tree.proof(0),
        terms=TH_ONCE,
        reason_code=4,
    )
    with pytest.raises(NotAuthorisedOnChain) as raised:
        consortium.manager.transact(consortium.vn_member, request)
    assert raised.value.rule == "NotAddressee"


def test_the_anchor_record_and_the_issuer_check(consortium: Consortium) -> None:
    tree = anchored(consortium, "record", TH_ONCE)
    chain = consortium.under_test.chain
    record = anchor_record(consortium.documents, chain, tree.root)
    assert (record.issuer, record.issuer_country, record.addressees) == (
        consortium.vn_issuer,
        "VN",
        ("TH", "VN"),
    )
    assert record.type_id == keccak256(b"coo/1")
    assert record.issuer_authorised

    def check(document_type: str, country: str) -> bool:
        return issued_as(
            consortium.documents,
            chain,
            root=tree.root,
            target_hash=keccak256(b"record-0"),
            proof=tree.proof(0),
            document_type=document_type,
            issuing_country=country,
        )

    assert check("coo/1", "VN")
    assert not check("permit/1", "VN")
    assert not check("coo/1", "TH")


def test_encryption_keys_and_departures_are_indexed(
    consortium: Consortium, index_engine: Engine
) -> None:
    chain = consortium.under_test.chain
    first, second = keccak256(b"vn-x25519-1"), keccak256(b"vn-x25519-2")
    for n, key in enumerate((first, second)):
        propose = consortium.consortium.request(f"enc-{n}", "proposeSetEncryptionKey", 1, key)
        consortium.manager.transact(consortium.vn_member, propose)
        (count,) = consortium.consortium.call(chain, "proposalCount")
        approve = consortium.consortium.request(f"enc-{n}-th", "approve", count)
        consortium.manager.transact(consortium.th_member, approve)
    leave = consortium.consortium.request("leave", "leaveConsortium")
    # TH leaves; VN stays the only active member
    consortium.manager.transact(consortium.th_member, leave)
    consortium.indexer(index_engine).sync()
    keys = queries.encryption_keys(index_engine, 1)
    assert [(k.key_id, k.public_key) for k in keys] == [(1, first), (2, second)]
    assert keys[0].valid_until == keys[1].valid_from
    head = int(chain.request("eth_blockNumber"), 16)
    (active,) = consortium.consortium.call(chain, "activeMemberCount")
    assert active == 1
    authority = queries.authority_at(index_engine, consortium.th_member, "coo/1", "TH", head)
    assert not authority.authorised


def test_a_legacy_absolute_quorum_must_be_what_the_fraction_gives() -> None:
    members = [{"country": c, "name": c, "account": "0x" + f"{i:040x}"} for i, c in enumerate("AB")]
    members = [{**m, "country": m["country"] * 2} for m in members]
    ConsortiumConfig.model_validate({"quorum": 2, "members": members})
    with pytest.raises(ValueError, match="quorum 1 is not what the quorum fraction"):
        ConsortiumConfig.model_validate({"quorum": 1, "members": members})
    with pytest.raises(ValueError, match="at least one half"):
        ConsortiumConfig.model_validate({"quorum_fraction": (1, 3), "members": members})


def test_a_rotated_key_stays_a_past_account_and_a_revoked_one_is_disowned(
    consortium: Consortium, index_engine: Engine
) -> None:
    chain = consortium.under_test.chain
    rotated, successor = consortium.vn_issuer, consortium.under_test.account(4).address
    steps = [
        ("rotate", "proposeRotateKey", (1, rotated, successor, keccak256(b"coo/1"))),
        ("revoke", "proposeRevokeKey", (1, successor, keccak256(b"coo/1"))),
    ]
    for name, function, arguments in steps:
        propose = consortium.consortium.request(name, function, *arguments)
        consortium.manager.transact(consortium.vn_member, propose)
        (count,) = consortium.consortium.call(chain, "proposalCount")
        approve = consortium.consortium.request(f"{name}-th", "approve", count)
        consortium.manager.transact(consortium.th_member, approve)
        consortium.indexer(index_engine).sync()
        if name == "rotate":
            assert queries.member_accounts(index_engine, 1) == [
                queries.IssuerAccount(rotated.lower(), current=False, disowned=False),
                queries.IssuerAccount(successor.lower(), current=True, disowned=False),
            ]

    assert queries.member_accounts(index_engine, 1) == [
        queries.IssuerAccount(rotated.lower(), current=False, disowned=False),
        queries.IssuerAccount(successor.lower(), current=False, disowned=True),
    ]
    assert queries.admitted_member(index_engine, "VN") == (1, "Viet Nam Customs")
    assert queries.member_active(index_engine, 1)


class LogRanges:
    """A chain that records the block ranges asked of ``eth_getLogs``."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.ranges: list[tuple[int, int]] = []

    @property
    def chain_id(self) -> int:
        return self.chain.chain_id

    def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        if method == "eth_getLogs":
            self.ranges.append((int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)))
        return self.chain.request(method, params)

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        return self.chain.batch(calls)

    def close(self) -> None:
        self.chain.close()


def test_the_member_log_reads_only_new_blocks_and_everything_again_after_a_reorg(
    consortium: Consortium,
) -> None:
    """What a validator's follower reads each second: the same member set as a whole
    read, from the blocks after its last read; a chain that lost that block is read again
    from the deployment."""
    chain = consortium.under_test.chain
    registry, deployed = consortium.consortium.address, consortium.deployment.deployed_block
    asked = LogRanges(chain)
    member_log = RegistryMemberLog(asked, registry, from_block=deployed)

    first = member_log.members()
    assert first is not None
    assert first[1].accounts == (consortium.vn_member,)
    assert first[2].accounts == (consortium.th_member,)
    head = int(chain.request("eth_blockNumber"), 16)
    assert asked.ranges == [(deployed, head)]

    before = chain.request("evm_snapshot", [])
    added = consortium.under_test.account(4).address
    propose = consortium.consortium.request("add", "proposeAddKey", 1, added, bytes(32))
    consortium.manager.transact(consortium.vn_member, propose)
    (count,) = consortium.consortium.call(chain, "proposalCount")
    consortium.manager.transact(
        consortium.th_member, consortium.consortium.request("add-th", "approve", count)
    )
    after = member_log.members()
    assert after is not None
    assert after[1].accounts == (consortium.vn_member, added)
    assert after == read_registry_members(chain, registry, from_block=deployed)
    assert asked.ranges[1] == (head + 1, int(chain.request("eth_blockNumber"), 16))

    assert chain.request("evm_revert", [before])
    for _ in range(4):  # another branch, longer than the one with the new key
        chain.request("evm_mine", [])
    reverted = member_log.members()
    assert reverted is not None
    assert reverted[1].accounts == (consortium.vn_member,)
    assert asked.ranges[-1][0] == deployed
