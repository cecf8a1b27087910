"""ConsortiumRegistry: genesis, governance by a fraction of the active members, each
member's sovereignty over its own identity, authority at past blocks."""

from __future__ import annotations

import pytest
from eth_account import Account
from web3.logs import DISCARD

from certificates.keccak import keccak256

pytestmark = pytest.mark.integration

COO = keccak256(b"coo/1")
PERMIT = keccak256(b"permit/1")
MEMBER_ACCOUNT = b"\0" * 32


def encryption_key(code, n=1):
    """The stand-in X25519 public keys of the test consortia (conftest)."""
    return keccak256(f"{code}-encryption-{n}".encode())


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


def test_genesis_refuses_a_single_member_consortium_and_a_minority_quorum(chain):
    deployer = Account.create()
    chain.fund(deployer)
    one = [(b"VN", "VN administration", Account.create().address, b"\0" * 32)]
    with pytest.raises(AssertionError):
        chain.deploy(deployer, "ConsortiumRegistry", one, [], [], (1, 2, 50))
    two = [*one, (b"SG", "SG administration", Account.create().address, b"\0" * 32)]
    for rule in ((1, 3, 50), (2, 2, 50), (1, 0, 50), (1, 2, 0)):
        with pytest.raises(AssertionError):
            chain.deploy(deployer, "ConsortiumRegistry", two, [], [], rule)


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


def test_the_quorum_is_a_fraction_of_the_active_members_recomputed_as_they_change(consortium):
    c = consortium.consortium.functions
    assert (c.quorumNumerator().call(), c.quorumDenominator().call()) == (1, 2)
    assert [c.requiredApprovals(n).call() for n in range(1, 8)] == [1, 2, 2, 3, 3, 4, 4]
    assert c.quorum().call() == 2
    for code in ("MY", "KR"):
        consortium.govern(
            c.proposeAdmitMember(code.encode(), f"{code} customs", Account.create().address),
            "VN",
            "SG",
            *(("TH",) if code == "KR" else ()),
        )
    assert (c.activeMemberCount().call(), c.quorum().call()) == (5, 3)
    # with five members two approvals no longer suffice
    pending = consortium.govern(
        c.proposeAdmitMember(b"JP", "JP customs", Account.create().address), "VN", "SG"
    )
    assert c.proposal(pending).call()[1] == 1
    consortium.chain.transact(consortium["TH"].account, c.approve(pending))
    assert c.proposal(pending).call()[1] == 2
    consortium.chain.transact(consortium["TH"].account, c.leaveConsortium())
    assert (c.activeMemberCount().call(), c.quorum().call()) == (5, 3)


def test_one_member_cannot_approve_twice_even_with_another_account(consortium):
    c = consortium.consortium.functions
    vn = consortium["VN"]
    second = Account.create()
    consortium.chain.fund(second)
    consortium.govern(c.proposeAddKey(vn.member_id, second.address, MEMBER_ACCOUNT), "VN", "SG")
    proposal_id = consortium.govern(
        c.proposeAdmitMember(b"MY", "MY customs", Account.create().address), "VN"
    )
    assert consortium.chain.refused(second, c.approve(proposal_id)) == (
        "AlreadyApproved",
        proposal_id,
        vn.member_id,
    )
    assert consortium.chain.refused(vn.account, c.approve(proposal_id))[0] == "AlreadyApproved"
    assert c.memberCount().call() == 3


def test_outsiders_and_issuer_keys_cannot_govern(consortium):
    c = consortium.consortium.functions
    call = c.proposeSuspendMember(3)
    outsider = consortium.outsider
    assert consortium.chain.refused(outsider, call) == ("NotMemberAccount", outsider.address)
    issuer = consortium["VN"].issuer
    assert consortium.chain.refused(issuer, call) == ("NotMemberAccount", issuer.address)
    pending = consortium.govern(c.proposeSuspendMember(3), "VN")
    for sender in (outsider, issuer):
        for action in (c.approve, c.reject, c.withdraw, c.execute):
            assert consortium.chain.refused(sender, action(pending))[0] == "NotMemberAccount"
    assert consortium.chain.refused(outsider, c.leaveConsortium())[0] == "NotMemberAccount"


def test_suspended_member_cannot_vote_and_its_past_approval_stops_counting(consortium):
    c = consortium.consortium.functions
    th = consortium["TH"]
    pending = consortium.govern(
        c.proposeAdmitMember(b"MY", "MY customs", Account.create().address), "TH"
    )
    consortium.govern(c.proposeSuspendMember(th.member_id), "VN", "SG")
    assert c.member(th.member_id).call()[2] == 2  # Suspended
    assert c.approvalCount(pending).call() == 0
    assert consortium.chain.refused(th.account, c.proposeSuspendMember(1)) == (
        "MemberNotActive",
        th.member_id,
    )
    assert consortium.chain.refused(th.account, c.approve(pending))[0] == "MemberNotActive"


def test_with_two_members_one_can_suspend_the_other_whose_vote_is_not_counted(
    chain, consortium_factory
):
    """Decision: a suspension's target does not vote on it, so the quorum is taken over the
    other active members: with two members, one suffices. Suspension only removes rights;
    readmission needs the ordinary quorum."""
    pair = consortium_factory(chain, ("VN", "SG"))
    c = pair.consortium.functions
    vn, sg = pair["VN"], pair["SG"]
    pair.govern(c.proposeSuspendMember(sg.member_id), "VN")
    assert c.member(sg.member_id).call()[2] == 2
    assert not c.isAuthorised(sg.issuer.address, COO, b"SG", chain.block_number()).call()
    assert c.activeMemberCount().call() == 1
    # the last active member can be suspended by nobody, and cannot leave
    assert chain.refused(vn.account, c.proposeSuspendMember(vn.member_id))[0] == (
        "QuorumUnreachable"
    )
    assert chain.refused(vn.account, c.leaveConsortium()) == ("LastMember", vn.member_id)


def test_a_suspension_target_cannot_block_it_with_its_own_vote(consortium):
    c = consortium.consortium.functions
    th = consortium["TH"]
    pending = consortium.govern(c.proposeSuspendMember(th.member_id), "VN")
    votes = c.proposalVotes(pending).call()
    assert (votes[1], votes[5]) == (th.member_id, 2)  # TH excluded; 2 of the other 2
    consortium.chain.transact(th.account, c.reject(pending))
    assert c.proposal(pending).call()[1] == 1  # its no does not count
    consortium.chain.transact(consortium["SG"].account, c.approve(pending))
    assert c.member(th.member_id).call()[2] == 2


def test_proposals_expire_after_their_lifetime(consortium):
    c = consortium.consortium.functions
    pending = consortium.govern(
        c.proposeAdmitMember(b"MY", "MY customs", Account.create().address), "VN"
    )
    deadline = c.proposalVotes(pending).call()[2]
    assert deadline == c.proposalLifetime().call() + consortium.chain.block_number() - 1
    while consortium.chain.block_number() <= deadline:
        consortium.chain.mine()
    assert c.proposal(pending).call()[1] == 5  # Expired
    for action in (c.approve, c.reject, c.withdraw, c.execute):
        assert consortium.chain.refused(consortium["SG"].account, action(pending)) == (
            "ProposalExpired",
            pending,
            deadline,
        )
    assert c.memberCount().call() == 3


def test_enough_no_votes_reject_a_proposal(consortium):
    c = consortium.consortium.functions
    pending = consortium.govern(
        c.proposeAdmitMember(b"MY", "MY customs", Account.create().address), "VN"
    )
    consortium.chain.transact(consortium["SG"].account, c.reject(pending))
    assert c.proposal(pending).call()[1] == 1  # 1 no of 3: the quorum (2) is still reachable
    receipt = consortium.chain.transact(consortium["TH"].account, c.reject(pending))
    (closed,) = consortium.consortium.events.ProposalClosed().process_receipt(
        receipt, errors=DISCARD
    )
    assert closed["args"]["state"] == 3
    assert c.proposal(pending).call()[1] == 3  # Rejected
    assert consortium.chain.refused(consortium["SG"].account, c.approve(pending)) == (
        "ProposalClosedAlready",
        pending,
        3,
    )


def test_only_the_proposer_withdraws_its_proposal(consortium):
    c = consortium.consortium.functions
    pending = consortium.govern(
        c.proposeAdmitMember(b"MY", "MY customs", Account.create().address), "VN"
    )
    sg = consortium["SG"]
    assert consortium.chain.refused(sg.account, c.withdraw(pending)) == (
        "NotProposer",
        pending,
        sg.member_id,
        1,
    )
    consortium.chain.transact(consortium["VN"].account, c.withdraw(pending))
    assert c.proposal(pending).call()[1] == 4  # Withdrawn
    assert consortium.chain.refused(sg.account, c.approve(pending))[0] == "ProposalClosedAlready"


def test_a_member_leaves_and_loses_every_right_from_the_next_block(consortium):
    c = consortium.consortium.functions
    th = consortium["TH"]
    before = consortium.chain.block_number()
    receipt = consortium.chain.transact(th.account, c.leaveConsortium())
    left_at = receipt["blockNumber"] + 1
    assert c.member(th.member_id).call()[2] == 3  # Left
    assert c.isAuthorised(th.issuer.address, COO, b"TH", before).call()
    assert not c.isAuthorised(th.issuer.address, COO, b"TH", left_at).call()
    assert consortium.chain.refused(th.account, c.proposeSuspendMember(1))[0] == "MemberNotActive"
    assert consortium.chain.refused(consortium["VN"].account, c.proposeReadmitMember(3)) == (
        "MemberNotSuspended",
        3,
    )
    assert (c.activeMemberCount().call(), c.quorum().call()) == (2, 2)
    assert consortium.chain.refused(
        consortium["VN"].account, c.proposeAdmitMember(b"TH", "again", Account.create().address)
    ) == ("CountryTaken", b"TH", th.member_id)


def test_a_pending_proposal_executes_once_the_quorum_drops_below_its_approvals(consortium):
    c = consortium.consortium.functions
    consortium.govern(
        c.proposeAdmitMember(b"MY", "MY customs", Account.create().address), "VN", "SG"
    )
    pending = consortium.govern(
        c.proposeAdmitMember(b"JP", "JP customs", Account.create().address), "VN", "SG"
    )
    assert consortium.chain.refused(consortium["VN"].account, c.execute(pending)) == (
        "QuorumNotReached",
        pending,
        2,
        3,
    )
    consortium.chain.transact(consortium["TH"].account, c.leaveConsortium())
    consortium.chain.transact(consortium["VN"].account, c.execute(pending))
    assert c.proposal(pending).call()[1] == 2


# ------------------------------------------------------------------ sovereignty (attacks)


@pytest.mark.parametrize("action", ["add", "rotate", "revoke", "member-account", "encryption"])
def test_a_quorum_cannot_change_a_third_members_keys_without_it(consortium, action):
    """Attack: VN and SG (a quorum) act on TH's identity. It stays pending until TH approves;
    TH's no ends it."""
    c = consortium.consortium.functions
    th = consortium["TH"]
    new = Account.create().address
    proposal = {
        "add": c.proposeAddKey(th.member_id, new, PERMIT),
        "rotate": c.proposeRotateKey(th.member_id, th.issuer.address, new, COO),
        "revoke": c.proposeRevokeKey(th.member_id, th.issuer.address, COO),
        "member-account": c.proposeAddKey(th.member_id, new, MEMBER_ACCOUNT),
        "encryption": c.proposeSetEncryptionKey(th.member_id, encryption_key("TH", 2)),
    }[action]
    before = (
        c.grants(th.issuer.address, COO).call(),
        c.encryptionKeys(th.member_id).call(),
        c.memberOf(new).call(),
    )
    pending = consortium.govern(proposal, "VN", "SG")
    assert c.proposal(pending).call()[1] == 1  # Pending: TH has not approved
    assert consortium.chain.refused(consortium["VN"].account, c.execute(pending)) == (
        "ConsentMissing",
        pending,
        th.member_id,
    )
    after = (
        c.grants(th.issuer.address, COO).call(),
        c.encryptionKeys(th.member_id).call(),
        c.memberOf(new).call(),
    )
    assert after == before
    consortium.chain.transact(th.account, c.reject(pending))
    assert c.proposal(pending).call()[1] == 3  # Rejected by the member itself


def test_a_members_own_key_change_needs_its_approval_plus_the_quorum(consortium):
    c = consortium.consortium.functions
    th = consortium["TH"]
    new = Account.create().address
    pending = consortium.govern(c.proposeAddKey(th.member_id, new, PERMIT), "TH")
    assert c.proposal(pending).call()[1] == 1  # TH alone is not a quorum
    consortium.chain.transact(consortium["SG"].account, c.approve(pending))
    assert c.proposal(pending).call()[1] == 2
    assert c.memberOf(new).call() == th.member_id


def test_encryption_keys_change_with_history_by_key_id(consortium):
    c = consortium.consortium.functions
    vn = consortium["VN"]
    assert c.encryptionKey(vn.member_id).call() == [1, encryption_key("VN")]
    consortium.govern(c.proposeSetEncryptionKey(vn.member_id, encryption_key("VN", 2)), "VN", "SG")
    at = consortium.chain.block_number()
    assert c.encryptionKey(vn.member_id).call() == [2, encryption_key("VN", 2)]
    (first, second) = c.encryptionKeys(vn.member_id).call()
    assert first[0] == encryption_key("VN")
    assert first[2] == second[1] <= at
    assert second[0] == encryption_key("VN", 2)
    assert second[2] == 2**64 - 1
    assert consortium.chain.refused(
        vn.account, c.proposeSetEncryptionKey(vn.member_id, b"\0" * 32)
    ) == ("ZeroEncryptionKey",)


def test_an_agreement_needs_the_recognising_members_approval(consortium):
    """Attack: SG and TH record that VN recognises coo/1 from SG, without VN."""
    c = consortium.consortium.functions
    pending = consortium.govern(c.proposeAddAgreement(b"VN", b"SG", COO, 1_000, 0), "SG", "TH")
    assert c.proposal(pending).call()[1] == 1
    assert not c.recognises(b"VN", b"SG", COO, 5_000).call()
    withdraw = consortium.govern(c.proposeWithdrawAgreement(b"TH", b"VN", COO), "VN", "SG")
    assert c.proposal(withdraw).call()[1] == 1
    assert c.recognises(b"TH", b"VN", COO, 1_700_000_000).call()
    assert consortium.chain.refused(
        consortium["VN"].account, c.proposeAddAgreement(b"KR", b"VN", COO, 0, 0)
    ) == ("NoMemberForCountry", b"KR")
    consortium.chain.transact(consortium["VN"].account, c.approve(pending))
    assert c.recognises(b"VN", b"SG", COO, 5_000).call()


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
    consortium.govern(c.proposeSuspendMember(1), "TH", "SG")
    assert c.member(1).call()[2] == 2


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
    consortium.govern(c.proposeRevokeKey(vn.member_id, new_key.address, COO), "SG", "VN")
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
    consortium.govern(c.proposeWithdrawAgreement(b"VN", b"SG", COO), "SG", "VN")
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


def test_no_single_member_adds_an_auditor_key_a_quorum_does(consortium):
    """Attack: one member adds an auditor recipient to every confidential document alone."""
    c = consortium.consortium.functions
    auditor = keccak256(b"auditor-1")
    pending = consortium.govern(c.proposeAddAuditorKey("Post-clearance audit", auditor), "VN")
    assert c.proposal(pending).call()[1] == 1  # VN alone is not a quorum
    assert c.auditorKeys().call() == []
    assert consortium.chain.refused(consortium["VN"].account, c.approve(pending)) == (
        "AlreadyApproved",
        pending,
        consortium["VN"].member_id,
    )
    assert consortium.chain.refused(
        consortium.outsider, c.proposeAddAuditorKey("Outsider", auditor)
    ) == ("NotMemberAccount", consortium.outsider.address)
    receipt = consortium.chain.transact(consortium["SG"].account, c.approve(pending))
    (added,) = consortium.consortium.events.AuditorKeyAdded().process_receipt(
        receipt, errors=DISCARD
    )
    assert added["args"]["auditorKeyId"] == 1
    assert added["args"]["name"] == "Post-clearance audit"
    assert added["args"]["publicKey"] == auditor
    assert added["args"]["proposalId"] == pending
    ((public_key, valid_from, valid_until),) = c.auditorKeys().call()
    assert (public_key, valid_from, valid_until) == (auditor, receipt["blockNumber"] + 1, 2**64 - 1)


def test_an_auditor_key_is_removed_by_a_quorum_keeping_its_history(consortium):
    c = consortium.consortium.functions
    consortium.govern(c.proposeAddAuditorKey("Inspectorate", keccak256(b"a")), "VN", "SG")
    pending = consortium.govern(c.proposeRemoveAuditorKey(1), "TH")
    assert c.auditorKeys().call()[0][2] == 2**64 - 1  # TH alone removes nothing
    receipt = consortium.chain.transact(consortium["VN"].account, c.approve(pending))
    (removed,) = consortium.consortium.events.AuditorKeyRemoved().process_receipt(
        receipt, errors=DISCARD
    )
    assert removed["args"]["auditorKeyId"] == 1
    assert c.auditorKeys().call()[0][2] == receipt["blockNumber"] + 1
    for stale in (0, 1, 2):
        assert consortium.chain.refused(
            consortium["VN"].account, c.proposeRemoveAuditorKey(stale)
        ) == ("UnknownAuditorKey", stale)
    for name, key in (("", keccak256(b"b")), ("Audit", b"\0" * 32)):
        assert consortium.chain.refused(
            consortium["VN"].account, c.proposeAddAuditorKey(name, key)
        )[0] in ("EmptyName", "ZeroEncryptionKey")
