"""Governance drives the validator set, on a real geth Clique consortium (ADR 0056).

Four members (VN, KR, SG, TH) run `docex network up` on 127.0.0.50-53 with their signer
followers; a fifth (MY, 127.0.0.54) brings up its own geth and is admitted by the
ConsortiumRegistry; TH is suspended, then readmitted; an outsider's geth (127.0.0.59),
on the same genesis and dialling every member, is never let in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any, TypeVar

import pytest
from eth_utils.address import to_checksum_address

from certificates.keccak import keccak256
from ledger import ContractBinding, Journal, JsonRpcChain, TransactionManager, load_artifacts
from ledger.chains import find_free_ports
from ledger.deploy import Deployment
from ledger.registry_members import MemberState, RegistryMember, read_registry_members
from node.network import GethNode, GethPorts, PidFile, audit_geth_node, create_geth_keys
from node.network.addresses import consortium_networks
from node.network.consortium import LIGHT_SCRYPT_N, Consortium
from node.network.engines import engine_binary
from node.network.node_records import node_id_of, read_node_records
from node.runtime import signer_follower
from node.settings import NodeSettings

pytestmark = pytest.mark.slow

T = TypeVar("T")
MEMBERS = ("VN", "KR", "SG", "TH")
PROPOSAL_EXECUTED = keccak256(b"ProposalExecuted(uint256,uint8)")
PROPOSAL_CREATED = keccak256(b"ProposalCreated(uint256,uint32,uint8,bytes)")
#: an upper bound for the chain to get somewhere, never an expected duration
PATIENCE = 120.0


def eventually(probe: Callable[[], T | None], what: str, timeout: float = PATIENCE) -> T:
    """``probe()``'s first truthy answer; fails the test, saying what, after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.5)


@dataclass
class Governed:
    consortium: Consortium
    deployment: Deployment
    outsider: GethNode
    tmp: Path

    def signers(self, country: str) -> set[str]:
        geth = self.consortium.geth(country)
        return {to_checksum_address(a) for a in geth.rpc("clique_getSigners")}

    def signer_of(self, country: str) -> str:
        return next(m.signer for m in self.consortium.members() if m.country == country)

    def peer_ids(self, country: str) -> set[str]:
        peers = self.consortium.geth(country).ipc().request("admin_peers")
        return {node_id_of(p["enode"]) for p in peers}

    def registry_members(self) -> dict[int, RegistryMember]:
        read = read_registry_members(
            self.consortium.geth("VN").ipc(), self.deployment.consortium_registry
        )
        assert read is not None
        return read

    def node_id(self, country: str) -> str:
        return node_id_of(next(m.enode for m in self.consortium.members() if m.country == country))

    def govern(self, function: str, *args: Any, voters: tuple[str, ...]) -> None:
        """``voters[0]`` proposes, the next approve until the registry executes it."""
        registry = ContractBinding(
            load_artifacts()["ConsortiumRegistry"], self.deployment.consortium_registry
        )
        proposal: int | None = None
        last_block = 0
        for country in voters:
            account = self.consortium._signer_key(country)
            geth = self.consortium.geth(country)
            # each member votes through its own geth: once that holds the last vote's block
            eventually(
                lambda g=geth, b=last_block: g.block_number() >= b,  # type: ignore[misc]
                f"{country} holds block {last_block}",
            )
            chain = JsonRpcChain(geth.rpc_url)
            journal = Journal(self.tmp / f"{country}-governance.sqlite")
            try:
                manager = TransactionManager(
                    chain, journal, [account], poll_interval=0.2, receipt_timeout=PATIENCE
                )
                if proposal is None:
                    request = registry.request(f"{function}/{args}", function, *args)
                else:
                    request = registry.request(f"approve/{proposal}", "approve", proposal)
                confirmed = manager.transact(account.address, request)
            finally:
                journal.close()
                chain.close()
            last_block = confirmed.block_number
            topics = [[bytes.fromhex(str(t)[2:]) for t in log["topics"]] for log in confirmed.logs]
            if proposal is None:
                proposal = next(int.from_bytes(t[1]) for t in topics if t[0] == PROPOSAL_CREATED)
            if any(t[0] == PROPOSAL_EXECUTED for t in topics):
                return
        pytest.fail(f"{function}{args} not executed with the approvals of {voters}")


@pytest.fixture(scope="module")
def governed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Governed]:
    tmp = tmp_path_factory.mktemp("votes")
    consortium = Consortium(tmp / "net")
    outsider_pids = PidFile(tmp / "outsider.pids.json")
    try:
        consortium.up(MEMBERS, chain_id=7_750, scrypt_n=LIGHT_SCRYPT_N, first_host=50)
        deployment = Deployment.read(consortium.root)
        members = consortium.members()
        # the outsider: a geth on the consortium's genesis that dials every member
        host = IPv4Address("127.0.0.59")
        create_geth_keys(tmp / "outsider", "outsider", scrypt_n=LIGHT_SCRYPT_N)
        outsider = GethNode(
            engine_binary("geth"),
            tmp / "outsider",
            host=host,
            ports=GethPorts(*find_free_ports(3, str(host))),
            chain_id=7_750,
            static_nodes=[m.enode for m in members],
            allowed=consortium_networks([host, *(IPv4Address(m.host) for m in members)]),
            pid_file=outsider_pids,
            name="outsider-geth",
            seal_at_start=False,
            log_vmodule="p2p/*=5",
        )
        outsider.init(json.loads((consortium.root / "VN" / "geth" / "genesis.json").read_text()))
        outsider.start()
        yield Governed(consortium, deployment, outsider, tmp)
        assert consortium.audit() == []
        assert audit_geth_node(outsider) == []
    finally:
        outsider_pids.stop_all()
        consortium.down()
    assert consortium.running() == []


def test_every_member_publishes_a_node_record_signed_by_its_member_account(
    governed: Governed,
) -> None:
    records = read_node_records(governed.consortium.node_records_path)
    members = governed.consortium.members()
    assert {(r.country, r.enode, r.signer()) for r in records} == {
        (m.country, m.enode, m.signer) for m in members
    }
    on_chain = governed.registry_members()
    assert {m.country: m.signer for m in on_chain.values()} == {
        m.country: m.signer for m in members
    }


def test_a_fifth_member_is_admitted_and_becomes_a_signer(governed: Governed) -> None:
    consortium = governed.consortium
    consortium.add_member("MY", host="127.0.0.54", scrypt_n=LIGHT_SCRYPT_N)
    newcomer = governed.signer_of("MY")
    # not in the registry yet: no member lets it in, however long it dials
    assert governed.node_id("MY") not in governed.peer_ids("VN")
    assert newcomer not in governed.signers("VN")

    governed.govern(
        "proposeAdmitMember", b"MY", "Royal Malaysian Customs", newcomer, voters=("VN", "KR", "SG")
    )
    for country in (*MEMBERS, "MY"):
        eventually(lambda c=country: newcomer in governed.signers(c), f"{country} signs with MY")  # type: ignore[misc]
    eventually(lambda: governed.node_id("MY") in governed.peer_ids("VN"), "VN peers with MY")
    # the newcomer seals too: a block it signed reaches the others
    my_geth = consortium.geth("MY")
    eventually(
        lambda: any(
            consortium.geth("VN").rpc("clique_getSigner", [hex(number)]).lower() == newcomer.lower()
            for number in range(max(my_geth.block_number() - 10, 1), my_geth.block_number() + 1)
        ),
        "a block sealed by MY",
    )
    # the members' followers took the new host on (`docex network follow` watches them)
    log = consortium.root / "followers.log"
    eventually(lambda: "following the registry for MY" in log.read_text(), "MY followed")

    # a docex node configured with MY's geth follows the registry the same way
    settings = NodeSettings(
        country="MY", geth_ipc=my_geth.ipc_path, node_records=consortium.node_records_path
    )
    seen = signer_follower(settings, governed.deployment).reconcile()
    assert seen is not None
    assert newcomer in seen.wanted_signers
    assert set(seen.wanted_signers) == set(seen.signers)
    assert {node_id_of(enode) for enode in seen.listed_peers} == {
        governed.node_id(country) for country in MEMBERS
    }


def test_a_suspended_member_stops_being_a_signer_and_a_readmitted_one_comes_back(
    governed: Governed,
) -> None:
    consortium = governed.consortium
    thai = governed.signer_of("TH")
    members = governed.registry_members()
    th_id = next(m.member_id for m in members.values() if m.country == "TH")
    # every other active member votes and is checked: MY too when the admission test ran
    # first on this network (the tests share it), the four founders otherwise
    voters = tuple(
        m.country for m in members.values() if m.country != "TH" and m.state is MemberState.ACTIVE
    )
    assert {"VN", "KR", "SG"} <= set(voters)

    governed.govern("proposeSuspendMember", th_id, voters=voters)
    for country in voters:
        eventually(lambda c=country: thai not in governed.signers(c), f"{country} drops TH")  # type: ignore[misc]
        eventually(
            lambda c=country: governed.node_id("TH") not in governed.peer_ids(c),  # type: ignore[misc]
            f"{country} no longer peers with TH",
        )
    assert governed.registry_members()[th_id].state is MemberState.SUSPENDED
    head = consortium.geth("VN").block_number()
    eventually(lambda: consortium.geth("VN").block_number() > head + 3, "blocks without TH")

    governed.govern("proposeReadmitMember", th_id, voters=voters)
    for country in voters:
        eventually(lambda c=country: thai in governed.signers(c), f"{country} takes TH back")  # type: ignore[misc]
    eventually(lambda: governed.node_id("TH") in governed.peer_ids("VN"), "VN peers with TH again")
    # TH catches up on the chain it was cut off from
    eventually(
        lambda: consortium.geth("TH").block_number() >= consortium.geth("VN").block_number() - 2,
        "TH catches up",
    )


def test_an_outsiders_geth_cannot_peer_with_the_members(governed: Governed) -> None:
    outsider = governed.outsider
    log = outsider.datadir / "geth.log"
    # it dialled every member and each refused it (its p2p log is at trace level)
    refused = eventually(
        lambda: (
            {
                line.partition("addr=")[2].split()[0]
                for line in log.read_text(errors="replace").splitlines()
                if "too many peers" in line and "addr=" in line
            }
            >= {enode.partition("@")[2] for enode in outsider.static_nodes}
            or None
        ),
        "every member refuses the outsider",
    )
    assert refused
    assert outsider.ipc().request("admin_peers") == []
    assert outsider.block_number() == 0
    outsider_enode = node_id_of(outsider.enode)
    for member in governed.consortium.members():
        assert outsider_enode not in governed.peer_ids(member.country)
