"""Hypothesis state machine: the contracts against a small Python model of the consortium.

Votes are drawn at random (who proposes, who approves, in what order, whether the member
concerned is among them), and the model decides, by the rules of docs/contracts.md, whether
each proposal executes: more than half of the voting members (the active ones, less a
suspension's target) and, for a member's keys, that member's own approval.

Invariants:
- **no member's keys changed without its approval**: every `KeyAdded` / `KeyRevoked` /
  `EncryptionKeySet` made by a proposal names a member that approved that proposal, and each
  member's open keys are the model's;
- **authority at block B equals the model's**: `isAuthorised` at every block of the run
  (checked at the end) and the document registry's cached rights agree with the model;
- the quorum is the fraction of the active members; a non-member never anchors; a revoked
  document never becomes valid again; a use comes only from one of the document's own
  addressees, within the allowance its issuer committed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
from eth_account import Account
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from web3.logs import DISCARD

from certificates.keccak import keccak256
from certificates.merkle import DocumentTerms, MerkleTree

pytestmark = pytest.mark.integration

COO = keccak256(b"coo/1")
CODES = ("VN", "SG", "TH")
voters_strategy = st.permutations(CODES).flatmap(
    lambda order: st.integers(1, len(order)).map(lambda n: order[:n])
)


@dataclass
class ModelMember:
    member_id: int
    code: str
    status: str = "active"  # active, suspended, left
    keys: list = field(default_factory=list)  # issuer keys ever granted, oldest first
    open_key: object = None
    encryption_keys: int = 1


@dataclass
class ModelDocument:
    root: bytes
    target: bytes
    proof: list
    issuer_member: int
    terms: DocumentTerms
    revoked: bool = False
    used: int = 0


#: the short run of `make test`
EXAMPLES = 6
STEPS = 10


def required(voters: int) -> int:
    """More than half of the voters (the deployed rule 1/2), at least one."""
    return max(1, min(voters, voters // 2 + 1))


class ConsortiumMachine(RuleBasedStateMachine):
    documents = Bundle("documents")

    def __init__(self, chain, consortium):
        """One example, on `consortium` as deployed: the chain's state is snapshotted here
        and reverted in `teardown`, so every example starts from the same deployment."""
        super().__init__()
        self.chain = chain
        self.c = consortium
        self.snapshot_id = chain.snapshot()
        self.model = {
            code: ModelMember(m.member_id, code, keys=[m.issuer], open_key=m.issuer)
            for code, m in self.c.members.items()
        }
        self.history = []  # (block, key, country, expected authorised)
        self.anchored = []
        self.first_block = chain.block_number()
        self._snapshot()

    # ---------------------------------------------------------------- helpers

    def _active(self):
        return [m for m in self.model.values() if m.status == "active"]

    def _snapshot(self):
        block = self.chain.block_number()
        for member in self.model.values():
            for key in member.keys:
                expected = member.status == "active" and key is member.open_key
                self.history.append((block, key, member.code, expected))

    def _vote(self, call, voters, *, consenter=None, excluded=None):
        """Propose `call` by the first active voter and approve by the others in order until
        the model says it executes; return whether it did (and check the chain agrees)."""
        active = [code for code in voters if self.model[code].status == "active"]
        if not active:
            return False
        functions = self.c.consortium.functions
        receipt = self.chain.transact(self.c[active[0]].account, call)
        (created,) = self.c.consortium.events.ProposalCreated().process_receipt(
            receipt, errors=DISCARD
        )
        proposal_id = created["args"]["proposalId"]
        approvers: list[str] = []
        for code in active:
            if code != active[0]:
                self.chain.transact(self.c[code].account, functions.approve(proposal_id))
            approvers.append(code)
            counted = [a for a in approvers if a != excluded]
            voting = len(self._active()) - (
                1 if excluded in [m.code for m in self._active()] else 0
            )
            executed = len(counted) >= required(voting) and (
                consenter is None or consenter in approvers
            )
            state = functions.proposal(proposal_id).call()[1]
            assert state == (2 if executed else 1), (approvers, consenter, excluded)
            if executed:
                return True
        return False

    # ---------------------------------------------------------------- rules

    @rule(
        target=documents,
        code=st.sampled_from(CODES),
        addressees=st.lists(st.sets(st.sampled_from(CODES), min_size=1), min_size=1, max_size=3),
        allowance=st.integers(1, 3),
        compact=st.booleans(),
    )
    def anchor_by_member(self, code, addressees, allowance, compact):
        member = self.model[code]
        key = member.keys[-1]  # the newest key, open or revoked
        terms = [DocumentTerms(tuple(sorted(a)), allowance) for a in addressees]
        targets = [os.urandom(32) for _ in terms]
        tree = MerkleTree.build_with_terms(list(zip(targets, terms, strict=True)))
        registry = self.c.registry.functions
        route_id = registry.routeOf(key.address, COO, [b"TH"]).call()
        if compact and route_id:
            call = registry.anchor(tree.root, route_id, len(terms))
        else:
            call = registry.anchorWithRoute(tree.root, "coo/1", len(terms), [b"TH"])
        if member.status == "active" and key is member.open_key:
            self.chain.transact(key, call)
            self._snapshot()
            drawn = [
                ModelDocument(tree.root, t, list(tree.proof(i)), member.member_id, terms[i])
                for i, t in enumerate(targets)
            ]
            self.anchored.extend(drawn)
            return multiple(*drawn)
        assert self.chain.refused(key, call)[0] == "IssuerNotAuthorised"
        return multiple()

    @rule()
    def outsider_never_anchors(self):
        call = self.c.registry.functions.anchorWithRoute(os.urandom(32), "coo/1", 1, [b"TH"])
        assert self.chain.refused(self.c.outsider, call)[0] == "IssuerNotAuthorised"

    @rule(code=st.sampled_from(CODES), voters=voters_strategy)
    def suspend(self, code, voters):
        member = self.model[code]
        call = self.c.consortium.functions.proposeSuspendMember(member.member_id)
        proposer = self._active()[0]
        if member.status != "active" or len(self._active()) < 2:
            assert self.chain.refused(self.c[proposer.code].account, call)[0] in {
                "QuorumUnreachable",
                "MemberNotActive",
            }
            return
        if self._vote(call, voters, excluded=code):
            member.status = "suspended"
            self._snapshot()

    @rule(code=st.sampled_from(CODES), voters=voters_strategy)
    def readmit(self, code, voters):
        member = self.model[code]
        if member.status != "suspended":
            return
        call = self.c.consortium.functions.proposeReadmitMember(member.member_id)
        if self._vote(call, voters):
            member.status = "active"
            self._snapshot()

    @rule(code=st.sampled_from(CODES))
    def leave(self, code):
        member = self.model[code]
        call = self.c.consortium.functions.leaveConsortium()
        account = self.c[code].account
        if member.status != "active":
            assert self.chain.refused(account, call)[0] == "MemberNotActive"
        elif len(self._active()) == 1:
            assert self.chain.refused(account, call)[0] == "LastMember"
        else:
            self.chain.transact(account, call)
            member.status = "left"
            self._snapshot()

    @rule(code=st.sampled_from(CODES), voters=voters_strategy, rotate=st.booleans())
    def change_issuer_key(self, code, voters, rotate):
        """Rotate or revoke `code`'s key; `voters` may or may not include `code` itself."""
        member = self.model[code]
        if member.open_key is None:
            return
        functions = self.c.consortium.functions
        new_key = Account.create()
        if rotate:
            call = functions.proposeRotateKey(
                member.member_id, member.open_key.address, new_key.address, COO
            )
        else:
            call = functions.proposeRevokeKey(member.member_id, member.open_key.address, COO)
        if self._vote(call, voters, consenter=code):
            if rotate:
                self.chain.fund(new_key)
                member.keys.append(new_key)
                member.open_key = new_key
            else:
                member.open_key = None
            self._snapshot()

    @rule(code=st.sampled_from(CODES), voters=voters_strategy)
    def change_encryption_key(self, code, voters):
        member = self.model[code]
        call = self.c.consortium.functions.proposeSetEncryptionKey(member.member_id, os.urandom(32))
        if self._vote(call, voters, consenter=code):
            member.encryption_keys += 1

    @rule(document=documents, code=st.sampled_from(CODES))
    def revoke_document(self, document, code):
        member = self.model[code]
        call = self.c.registry.functions.revoke(document.root, document.target, document.proof, 1)
        actor = self.c[code].account
        if (
            member.status == "active"
            and member.member_id == document.issuer_member
            and not document.revoked
        ):
            self.chain.transact(actor, call)
            document.revoked = True
        else:
            assert self.chain.refused(actor, call)[0] in {
                "NotActiveAccount",
                "NotIssuerMember",
                "DocumentIsRevoked",
            }

    @rule(document=documents, code=st.sampled_from(CODES), quantity=st.integers(1, 2))
    def use_document(self, document, code, quantity):
        terms = document.terms
        call = self.c.registry.functions.recordUse(
            document.root,
            document.target,
            document.proof,
            [c.encode() for c in terms.addressees],
            terms.allowance,
            os.urandom(32),
            quantity,
        )
        actor = self.c[code].account
        if self.model[code].status != "active":
            assert self.chain.refused(actor, call)[0] == "NotActiveAccount"
        elif code not in terms.addressees:
            assert self.chain.refused(actor, call)[0] == "NotAddressee"
        elif document.revoked:
            assert self.chain.refused(actor, call)[0] == "DocumentIsRevoked"
        elif document.used + quantity > terms.allowance:
            assert self.chain.refused(actor, call)[0] == "OverUse"
        else:
            self.chain.transact(actor, call)
            document.used += quantity

    # ---------------------------------------------------------------- invariants

    @invariant()
    def quorum_is_the_fraction_of_the_active_members(self):
        functions = self.c.consortium.functions
        active = functions.activeMemberCount().call()
        assert active == len(self._active())
        assert functions.quorum().call() == required(active)

    @invariant()
    def each_members_keys_are_the_models(self):
        functions = self.c.consortium.functions
        for member in self.model.values():
            for key in member.keys:
                grants = functions.grants(key.address, COO).call()
                assert (grants[-1][1] == 2**64 - 1) == (key is member.open_key)
            assert len(functions.encryptionKeys(member.member_id).call()) == (
                member.encryption_keys
            )

    @invariant()
    def cached_anchoring_rights_agree_with_the_consortium(self):
        head = self.chain.block_number()
        registry = self.c.registry.functions
        consortium = self.c.consortium.functions
        for member in self.model.values():
            for key in member.keys:
                cached = registry.anchorAuthority(key.address, COO).call()
                for block in (head, head + 1):
                    expected = consortium.authorityAt(key.address, COO, block).call()[2]
                    assert (cached[3] <= block < cached[4]) == expected

    def teardown(self):
        try:
            self._check_the_whole_run()
        finally:
            self.chain.revert(self.snapshot_id)
        super().teardown()

    def _check_the_whole_run(self):
        functions = self.c.consortium.functions
        # authority at every block of the run equals the model's
        for block, key, code, expected in self.history:
            assert functions.isAuthorised(key.address, COO, code.encode(), block).call() is expected
        # no member's keys changed without its approval
        events = self.c.consortium.events
        for event in (events.KeyAdded, events.KeyRevoked, events.EncryptionKeySet):
            for log in event().get_logs(from_block=self.first_block):
                proposal_id, member_id = log["args"]["proposalId"], log["args"]["memberId"]
                if proposal_id != 0:
                    assert functions.hasApproved(proposal_id, member_id).call()
        registry = self.c.registry.functions
        for document in self.anchored:
            state = registry.documentState(document.issuer_member, document.target).call()
            assert state[0] == (1 if document.revoked else 0)
            assert state[3] == document.used


def run_machine(chain, deploy, *, examples: int, steps: int) -> None:
    """Deploy one consortium and run `examples` examples of up to `steps` steps on it, each
    from the deployed state (snapshot before, revert after)."""
    consortium = deploy(chain)
    deployed = chain.block_number()

    def machine() -> ConsortiumMachine:
        # a leak of one example's state into the next would make the model wrong: refuse it
        assert chain.block_number() == deployed, "an example did not revert the chain"
        return ConsortiumMachine(chain, consortium)

    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


def test_contracts_agree_with_the_model(anvil_chain, consortium_factory):
    # the short run of `make test`, on anvil: one consortium deployed, each example reverted
    # to it; 200 examples of 20 steps run in `make soak` (tests/soak/security/)
    run_machine(anvil_chain, consortium_factory, examples=EXAMPLES, steps=STEPS)
