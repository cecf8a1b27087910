"""The pure parts of governance-driven validators: the registry's member fold, the Clique
votes a follower casts, and which signed node records let a peer in (ADR 0056)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from eth_account import Account

from ledger.deploy import Deployment
from ledger.registry_members import MemberState, RegistryMember, fold_member_events
from node.network.geth_ipc import GethIpc
from node.network.node_records import listed_enodes, sign_node_record, write_node_records
from node.network.signer_follower import plan_votes, wanted_signers
from node.runtime import signer_follower
from node.settings import NodeSettings

ZERO = bytes(32)
ISSUER_TYPE = b"\x01" * 32
KEYS = [Account.create() for _ in range(4)]
A, B, C, D = (key.address for key in KEYS)
ENODE = "enode://" + "ab" * 64 + "@127.0.0.50:30303"


def admitted(member_id: int, country: str, account: str) -> list[tuple[str, dict[str, object]]]:
    return [
        ("MemberAdmitted", {"memberId": member_id, "country": country.encode(), "name": "x"}),
        ("KeyAdded", {"memberId": member_id, "account": account.lower(), "typeId": ZERO}),
    ]


def test_the_fold_follows_admission_suspension_readmission_and_leaving() -> None:
    events = [*admitted(1, "VN", A), *admitted(2, "KR", B), *admitted(3, "SG", C)]
    events += [("MemberSuspended", {"memberId": 2}), ("MemberLeft", {"memberId": 3})]
    members = fold_member_events(events)
    assert [(m.country, m.state, m.signer) for m in members.values()] == [
        ("VN", MemberState.ACTIVE, A),
        ("KR", MemberState.SUSPENDED, B),
        ("SG", MemberState.LEFT, C),
    ]
    members = fold_member_events([*events, ("MemberReadmitted", {"memberId": 2})])
    assert wanted_signers(list(members.values())) == {A, B}


def test_a_rotated_member_account_moves_the_signer_and_issuer_keys_do_not_count() -> None:
    events = [
        *admitted(1, "VN", A),
        ("KeyAdded", {"memberId": 1, "account": D.lower(), "typeId": ISSUER_TYPE}),
        ("KeyRevoked", {"memberId": 1, "account": A.lower(), "typeId": ZERO}),
        ("KeyAdded", {"memberId": 1, "account": B.lower(), "typeId": ZERO}),
    ]
    assert fold_member_events(events)[1].accounts == (B,)


def test_votes_add_the_wanted_and_drop_the_unwanted_once() -> None:
    discard, votes = plan_votes(wanted={A, B, C}, signers={A, D}, proposals={B: True})
    assert discard == []
    assert votes == [(C, True), (D, False)]  # B's vote is already cast


def test_stale_or_contrary_proposals_are_discarded_before_voting() -> None:
    # C was proposed out, then readmitted; A's proposal in has passed; D is gone
    discard, votes = plan_votes(
        wanted={A, B, C}, signers={A, B}, proposals={C: False, A: True, D: True}
    )
    assert discard == sorted([A, C, D])
    assert votes == [(C, True)]


def test_a_record_counts_only_when_an_active_members_account_signed_it() -> None:
    vn = RegistryMember(1, "VN", MemberState.ACTIVE, (A,))
    kr = RegistryMember(2, "KR", MemberState.ACTIVE, (B,))
    members = {1: vn, 2: kr}
    own = sign_node_record(bytes(KEYS[0].key), country="VN", enode=ENODE, chain_id=7)
    outsider = sign_node_record(bytes(KEYS[3].key), country="KR", enode=ENODE, chain_id=7)
    other_chain = sign_node_record(bytes(KEYS[1].key), country="KR", enode=ENODE, chain_id=8)
    assert own.signer() == A
    assert listed_enodes([own, outsider, other_chain], members, 7) == {"VN": ENODE}
    # suspended: its record stops counting at once
    assert listed_enodes([own], {1: replace(vn, state=MemberState.SUSPENDED)}, 7) == {}
    # a tampered record no longer recovers the member's account
    assert listed_enodes([replace(own, enode=ENODE.replace("50", "99"))], members, 7) == {}


def test_the_newest_record_of_a_member_wins() -> None:
    members = {1: RegistryMember(1, "VN", MemberState.ACTIVE, (A,))}
    moved = ENODE.replace("30303", "30304")
    records = [
        sign_node_record(bytes(KEYS[0].key), country="VN", enode=moved, chain_id=7, seq=2),
        sign_node_record(bytes(KEYS[0].key), country="VN", enode=ENODE, chain_id=7, seq=1),
    ]
    assert listed_enodes(records, members, 7) == {"VN": moved}


def test_a_node_configured_with_its_geth_follows_the_registry_with_it(tmp_path: Path) -> None:
    records = tmp_path / "node-records.json"
    write_node_records(
        records, [sign_node_record(bytes(KEYS[0].key), country="VN", enode=ENODE, chain_id=7)]
    )
    settings = NodeSettings(geth_ipc=tmp_path / "geth.ipc", node_records=records)
    deployment = Deployment(7, "0x" + "11" * 20, "0x" + "22" * 20, 5, A)
    follower = signer_follower(settings, deployment)
    assert isinstance(follower.geth, GethIpc)
    assert follower.geth.path == tmp_path / "geth.ipc"
    assert (follower.registry, follower.from_block) == (deployment.consortium_registry, 5)
    assert [record.enode for record in follower.records()] == [ENODE]
