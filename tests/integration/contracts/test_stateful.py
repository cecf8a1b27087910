"""Hypothesis state machine: the contracts against a small Python model of the consortium.

Properties: a non-member never anchors; a suspended member's or a revoked key's later anchors
fail; the quorum always stays within [2, active members]; a revoked document never becomes
valid again; authority queries at past blocks agree with the model's history.
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
    precondition,
    rule,
    run_state_machine_as_test,
)

from certificates.keccak import keccak256
from certificates.merkle import MerkleTree

pytestmark = pytest.mark.integration

COO = keccak256(b"coo/1")
CODES = ("VN", "SG", "TH")


@dataclass
class ModelMember:
    member_id: int
    code: str
    active: bool = True
    keys: list = field(default_factory=list)  # issuer keys ever granted, oldest first
    open_key: object = None


@dataclass
class ModelDocument:
    root: bytes
    target: bytes
    proof: list
    issuer_member: int
    revoked: bool = False


class ConsortiumMachine(RuleBasedStateMachine):
    documents = Bundle("documents")

    def __init__(self, chain, deploy):
        super().__init__()
        self.chain = chain
        self.c = deploy(chain)
        self.model = {
            code: ModelMember(m.member_id, code, keys=[m.issuer], open_key=m.issuer)
            for code, m in self.c.members.items()
        }
        self.quorum = 2
        self.history = []  # (block, key, country, expected authorised)
        self.anchored = []
        self._snapshot()

    # ---------------------------------------------------------------- helpers

    def _active(self):
        return [m for m in self.model.values() if m.active]

    def _snapshot(self):
        block = self.chain.block_number()
        for member in self.model.values():
            for key in member.keys:
                expected = member.active and key is member.open_key
                self.history.append((block, key, member.code, expected))

    def _govern(self, call, excluded=()):
        """Pass `call` with the quorum of active members other than `excluded`."""
        voters = [m.code for m in self._active() if m.code not in excluded][: self.quorum]
        self.c.govern(call, voters[0], *voters[1:])

    def _voters_available(self, excluded=()):
        return len([m for m in self._active() if m.code not in excluded]) >= self.quorum

    # ---------------------------------------------------------------- rules

    @rule(
        target=documents,
        code=st.sampled_from(CODES),
        size=st.integers(1, 4),
        compact=st.booleans(),
    )
    def anchor_by_member(self, code, size, compact):
        member = self.model[code]
        key = member.keys[-1]  # the newest key, open or revoked
        targets = [os.urandom(32) for _ in range(size)]
        tree = MerkleTree.build(targets)
        registry = self.c.registry.functions
        route_id = registry.routeOf(key.address, COO, [b"TH"]).call()
        if compact and route_id:
            call = registry.anchor(tree.root, route_id, size)
        else:
            call = registry.anchorWithRoute(tree.root, "coo/1", size, [b"TH"])
        if member.active and key is member.open_key:
            self.chain.transact(key, call)
            self._snapshot()
            drawn = [
                ModelDocument(tree.root, t, list(tree.proof(i)), member.member_id)
                for i, t in enumerate(targets)
            ]
            self.anchored.extend(drawn)
            return multiple(*drawn)
        assert self.chain.refused(key, call)[0] == "IssuerNotAuthorised"
        return multiple()

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

    @rule()
    def outsider_never_anchors(self):
        call = self.c.registry.functions.anchorWithRoute(os.urandom(32), "coo/1", 1, [b"TH"])
        assert self.chain.refused(self.c.outsider, call)[0] == "IssuerNotAuthorised"

    @rule(code=st.sampled_from(CODES))
    def suspend(self, code):
        member = self.model[code]
        call = self.c.consortium.functions.proposeSuspendMember(member.member_id)
        proposer = (
            self._active()[0].code if self._active()[0].code != code else self._active()[-1].code
        )
        if (
            member.active
            and len(self._active()) - 1 >= self.quorum
            and self._voters_available((code,))
        ):
            self._govern(call, excluded=(code,))
            member.active = False
            self._snapshot()
        else:
            assert self.chain.refused(self.c[proposer].account, call)[0] in {
                "QuorumUnreachable",
                "MemberNotActive",
            }

    @rule(code=st.sampled_from(CODES))
    def readmit(self, code):
        member = self.model[code]
        if member.active or not self._voters_available():
            return
        self._govern(self.c.consortium.functions.proposeReadmitMember(member.member_id))
        member.active = True
        self._snapshot()

    @rule(new_quorum=st.integers(1, 4))
    def change_quorum(self, new_quorum):
        call = self.c.consortium.functions.proposeChangeQuorum(new_quorum)
        if 2 <= new_quorum <= len(self._active()):
            self._govern(call)
            self.quorum = new_quorum
        else:
            proposer = self.c[self._active()[0].code].account
            assert self.chain.refused(proposer, call)[0] == "InvalidQuorum"

    @rule(code=st.sampled_from(CODES))
    def rotate_key(self, code):
        member = self.model[code]
        if member.open_key is None or not self._voters_available():
            return
        new_key = Account.create()
        self.chain.fund(new_key)
        self._govern(
            self.c.consortium.functions.proposeRotateKey(
                member.member_id, member.open_key.address, new_key.address, COO
            )
        )
        member.keys.append(new_key)
        member.open_key = new_key
        self._snapshot()

    @rule(code=st.sampled_from(CODES))
    def revoke_key(self, code):
        member = self.model[code]
        if member.open_key is None or not self._voters_available():
            return
        self._govern(
            self.c.consortium.functions.proposeRevokeKey(
                member.member_id, member.open_key.address, COO
            )
        )
        member.open_key = None
        self._snapshot()

    @rule(document=documents, code=st.sampled_from(CODES))
    def revoke_document(self, document, code):
        member = self.model[code]
        call = self.c.registry.functions.revoke(document.root, document.target, document.proof, 1)
        actor = self.c[code].account
        if member.active and member.member_id == document.issuer_member and not document.revoked:
            self.chain.transact(actor, call)
            document.revoked = True
        else:
            assert self.chain.refused(actor, call)[0] in {
                "NotActiveAccount",
                "NotIssuerMember",
                "DocumentIsRevoked",
            }

    @precondition(lambda self: self.model["TH"].active)
    @rule(document=documents)
    def use_document(self, document):
        call = self.c.registry.functions.recordUse(
            document.root, document.target, document.proof, os.urandom(32), 1, 1_000_000
        )
        if document.revoked:
            assert self.chain.refused(self.c["TH"].account, call) == (
                "DocumentIsRevoked",
                document.target,
            )
        else:
            self.chain.transact(self.c["TH"].account, call)

    # ---------------------------------------------------------------- invariants

    @invariant()
    def quorum_always_holds(self):
        functions = self.c.consortium.functions
        quorum, active = functions.quorum().call(), functions.activeMemberCount().call()
        assert quorum == self.quorum
        assert active == len(self._active())
        assert 2 <= quorum <= active

    def teardown(self):
        functions = self.c.consortium.functions
        for block, key, code, expected in self.history:
            assert functions.isAuthorised(key.address, COO, code.encode(), block).call() is expected
        registry = self.c.registry.functions
        for document in self.anchored:
            status = registry.documentState(document.issuer_member, document.target).call()[0]
            assert status == (1 if document.revoked else 0)
        super().teardown()


def test_contracts_agree_with_the_model(eth_tester_chain, consortium_factory):
    run_state_machine_as_test(
        lambda: ConsortiumMachine(eth_tester_chain, consortium_factory),
        settings=settings(
            max_examples=12,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
