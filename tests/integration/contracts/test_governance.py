"""ConsortiumRegistry: genesis, M-of-N governance, authority at past blocks."""

from __future__ import annotations

import pytest
from eth_account import Account
from web3.logs import DISCARD

from certificates.keccak import keccak256

pytestmark = pytest.mark.integration

COO = keccak256(b"coo/1")
PERMIT = keccak256(b"permit/1")
MEMBER_ACCOUNT = b"\0" * 32


def test_genesis_records_members_keys_agreements_and_quorum(consortium):
    c = consortium.consortium.functions
    assert c.quorum().call() == 2
    assert c.memberCount().call() == 3
    assert c.activeMemberCount().call() == 3
    assert c.member(1).call() == [b"VN", "VN administration", 1]
    vn = consortium["VN"]
    now = consortium.chain.block_number()
    assert c.isAuthorised(vn.issuer.address, COO, b"VN", now).call()
    assert not c.isAuthorised(vn.issuer.address, COO, b"SG", now).call()
    assert not c.isAuthorised(vn.issuer.address, PERMIT, b"VN", now).call()
    assert c.recognises(b"TH", b"VN", COO, 1_700_000_000).call()
    assert not c.recognises(b"VN", b"TH", COO, 1_700_000_000).call()


def test_genesis_refuses_a_single_member_consortium(chain):
    deployer = Account.create()
    chain.fund(deployer)
    art_members = [(b"VN", "VN administration", Account.create().address)]
    with pytest.raises(AssertionError):
        chain.deploy(deployer, "ConsortiumRegistry", art_members, [], [], 2)


def test_a_proposal_waits_for_a_second_member(consortium):
    c = consortium.consortium.functions
    newcomer = Account.create()
    proposal_id = consortium.govern(
        c.proposeAdmitMember(b"MY", "MY customs", newcomer.address), "VN"
    )
    assert c.memberCount().call() == 3
    assert c.approvalCount(proposal_id).call() == 1
    assert c.proposal(proposal_id).call()[1] == 1  # Pending
    consortium.chain.transact(consortium["SG"].account, c.approve(proposal_id))
    assert c.memberCount().call() == 4
    assert c.member(4).call() == [b"MY", "MY customs", 1]
    assert c.proposal(proposal_id).call()[1] == 2  # Executed


def test_one_member_cannot_approve_twice_even_with_another_account(consortium):
    c = consortium.consortium.functions
    vn = consortium["VN"]
    second = Account.create()
    consortium.chain.fund(second)
    consortium.govern(c.proposeAddKey(vn.member_id, second.address, MEMBER_ACCOUNT), "VN", "SG")
    proposal_id = consortium.govern(c.proposeChangeQuorum(3), "VN")
    assert consortium.chain.refused(second, c.approve(proposal_id)) == (
        "AlreadyApproved",
        proposal_id,
        vn.member_id,
    )
    assert consortium.chain.refused(vn.account, c.approve(proposal_id))[0] == "AlreadyApproved"
    assert c.quorum().call() == 2


def test_outsiders_and_issuer_keys_cannot_govern(consortium):
    c = consortium.consortium.functions
    call = c.proposeChangeQuorum(3)
    outsider = consortium.outsider
    assert consortium.chain.refused(outsider, call) == ("NotMemberAccount", outsider.address)
    issuer = consortium["VN"].issuer
    assert consortium.chain.refused(issuer, call) == ("NotMemberAccount", issuer.address)


def test_suspended_member_cannot_vote_and_its_past_approval_stops_counting(consortium):
    c = consortium.consortium.functions
    th = consortium["TH"]
    pending = consortium.govern(c.proposeChangeQuorum(3), "TH")
    consortium.govern(c.proposeSuspendMember(th.member_id), "VN", "SG")
    assert c.member(th.member_id).call()[2] == 2  # Suspended
    assert c.approvalCount(pending).call() == 0
    assert consortium.chain.refused(th.account, c.proposeChangeQuorum(2)) == (
        "MemberNotActive",
        th.member_id,
    )
    assert consortium.chain.refused(th.account, c.approve(pending))[0] == "MemberNotActive"


def test_quorum_can_never_exceed_the_active_members(consortium):
    c = consortium.consortium.functions
    assert consortium.chain.refused(consortium["VN"].account, c.proposeChangeQuorum(4)) == (
        "InvalidQuorum",
        4,
        3,
    )
    assert consortium.chain.refused(consortium["VN"].account, c.proposeChangeQuorum(1)) == (
        "InvalidQuorum",
        1,
        3,
    )
    consortium.govern(c.proposeChangeQuorum(3), "VN", "SG")
    assert consortium.chain.refused(
        consortium["VN"].account, c.proposeSuspendMember(consortium["TH"].member_id)
    ) == ("QuorumUnreachable", 3, 2)


def test_readmitted_member_votes_and_issues_again(consortium):
    c = consortium.consortium.functions
    th = consortium["TH"]
    consortium.govern(c.proposeSuspendMember(th.member_id), "VN", "SG")
    suspended_at = consortium.chain.block_number()
    consortium.govern(c.proposeReadmitMember(th.member_id), "SG", "VN")
    readmitted_at = consortium.chain.block_number()
    assert c.memberStatusAt(th.member_id, suspended_at).call() == 2
    assert c.memberStatusAt(th.member_id, readmitted_at).call() == 1
    assert c.isAuthorised(th.issuer.address, COO, b"TH", readmitted_at).call()
    assert not c.isAuthorised(th.issuer.address, COO, b"TH", suspended_at).call()
    consortium.govern(c.proposeChangeQuorum(3), "TH", "VN")
    assert c.quorum().call() == 3


def test_authority_at_past_blocks_survives_rotation_and_revocation(consortium):
    c = consortium.consortium.functions
    vn = consortium["VN"]
    old_key = vn.issuer
    new_key = Account.create()
    before = consortium.chain.block_number()
    consortium.govern(
        c.proposeRotateKey(vn.member_id, old_key.address, new_key.address, COO), "VN", "SG"
    )
    after_rotation = consortium.chain.block_number()
    consortium.govern(c.proposeRevokeKey(vn.member_id, new_key.address, COO), "SG", "TH")
    after_revocation = consortium.chain.block_number()

    def authorised(key, block):
        return c.isAuthorised(key.address, COO, b"VN", block).call()

    assert authorised(old_key, before)
    assert not authorised(new_key, before)
    assert not authorised(old_key, after_rotation)
    assert authorised(new_key, after_rotation)
    assert not authorised(old_key, after_revocation)
    assert not authorised(new_key, after_revocation)
    grants = c.grants(new_key.address, COO).call()
    assert len(grants) == 1
    valid_from, valid_until = grants[0]
    assert valid_from <= after_rotation < valid_until <= after_revocation


def test_an_account_belongs_to_one_member_forever(consortium):
    c = consortium.consortium.functions
    vn, sg = consortium["VN"], consortium["SG"]
    assert consortium.chain.refused(
        sg.account, c.proposeAddKey(sg.member_id, vn.issuer.address, PERMIT)
    ) == ("AccountBoundToOtherMember", vn.issuer.address, vn.member_id)
    consortium.govern(c.proposeRevokeKey(vn.member_id, vn.issuer.address, COO), "VN", "SG")
    assert (
        consortium.chain.refused(sg.account, c.proposeAddKey(sg.member_id, vn.issuer.address, COO))[
            0
        ]
        == "AccountBoundToOtherMember"
    )


def test_agreements_are_added_and_withdrawn_by_quorum_keeping_history(consortium):
    c = consortium.consortium.functions
    consortium.govern(c.proposeAddAgreement(b"VN", b"SG", COO, 1_000, 0), "VN", "TH")
    assert c.recognises(b"VN", b"SG", COO, 5_000).call()
    assert not c.recognises(b"VN", b"SG", COO, 999).call()
    consortium.govern(c.proposeWithdrawAgreement(b"VN", b"SG", COO), "SG", "TH")
    ((valid_from, valid_until),) = c.agreementWindows(b"VN", b"SG", COO).call()
    assert valid_from == 1_000
    assert valid_until > 1_000
    assert c.recognises(b"VN", b"SG", COO, valid_until - 1).call()
    assert not c.recognises(b"VN", b"SG", COO, valid_until).call()
    assert consortium.chain.refused(
        consortium["VN"].account, c.proposeWithdrawAgreement(b"VN", b"SG", COO)
    ) == ("AgreementNotInForce", b"VN", b"SG", COO)


def test_invalid_country_codes_are_refused(consortium):
    c = consortium.consortium.functions
    assert consortium.chain.refused(
        consortium["VN"].account, c.proposeAdmitMember(b"vn", "x", Account.create().address)
    ) == ("InvalidCountryCode", b"vn")


def test_governance_emits_what_an_indexer_needs(consortium):
    c = consortium.consortium.functions
    vn = consortium["VN"]
    key = Account.create()
    proposal_id = consortium.govern(c.proposeAddKey(vn.member_id, key.address, PERMIT), "VN")
    receipt = consortium.chain.transact(consortium["TH"].account, c.approve(proposal_id))
    events = consortium.consortium.events
    (added,) = events.KeyAdded().process_receipt(receipt, errors=DISCARD)
    assert added["args"]["memberId"] == vn.member_id
    assert added["args"]["account"] == key.address
    assert added["args"]["typeId"] == PERMIT
    assert added["args"]["validFrom"] == receipt["blockNumber"] + 1
    assert added["args"]["proposalId"] == proposal_id
    (executed,) = events.ProposalExecuted().process_receipt(receipt, errors=DISCARD)
    assert executed["args"]["proposalId"] == proposal_id
