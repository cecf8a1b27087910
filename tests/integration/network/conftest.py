"""Real engines (bin/geth, bin/ipfs from `make engines`) on their own addresses and ports.

Every process a fixture starts is recorded in a PID file under the test's tmp_path and
stopped by PID when the test ends; the fixture then checks the file is empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from ledger.chains import find_free_port
from node.network import (
    GethNode,
    GethPorts,
    KuboNode,
    KuboPeer,
    PidFile,
    audit_geth_node,
    audit_kubo_node,
    clique_genesis,
    consortium_networks,
    create_geth_keys,
    engine_binary,
    new_swarm_secret,
)

CHAIN_ID = 7_713
#: cheap keystore encryption for throw-away test keys (geth's default is 2**18)
TEST_SCRYPT_N = 1 << 12


@pytest.fixture
def pid_file(tmp_path: Path) -> Iterator[PidFile]:
    pids = PidFile(tmp_path / "engines.pids.json")
    yield pids
    pids.stop_all()
    assert pids.entries() == []


def start_kubo(tmp_path: Path, name: str, host: str, secret: bytes, pid_file: PidFile) -> KuboNode:
    address = IPv4Address(host)
    kubo = KuboNode(
        engine_binary("kubo"),
        tmp_path / name,
        host=address,
        swarm_port=find_free_port(host),
        api_port=find_free_port(host),
        swarm_secret=secret,
        pid_file=pid_file,
        name=name,
    )
    kubo.init()
    return kubo


@dataclass
class KuboSwarm:
    nodes: list[KuboNode]
    allowed: tuple[IPv4Network, ...]

    def peers_of(self, kubo: KuboNode) -> list[KuboPeer]:
        return [other.as_peer() for other in self.nodes if other is not kubo]


@pytest.fixture
def kubo_pair(tmp_path: Path, pid_file: PidFile) -> Iterator[KuboSwarm]:
    """Two members' Kubo peers (127.0.0.2, 127.0.0.3) in one private swarm, connected."""
    secret = new_swarm_secret()
    hosts = ["127.0.0.2", "127.0.0.3"]
    nodes = [
        start_kubo(tmp_path, f"kubo-{index}", host, secret, pid_file)
        for index, host in enumerate(hosts)
    ]
    swarm = KuboSwarm(nodes, consortium_networks(IPv4Address(host) for host in hosts))
    for kubo in nodes:
        kubo.configure(swarm.peers_of(kubo))
    try:
        for kubo in nodes:
            kubo.start()
        nodes[0].connect(nodes[1].as_peer())
        yield swarm
        assert [v for kubo in nodes for v in audit_kubo_node(kubo, swarm.allowed)] == []
    finally:
        for kubo in nodes:
            kubo.stop()


@dataclass
class CliqueNetwork:
    nodes: list[GethNode]
    allowed: tuple[IPv4Network, ...]
    genesis: dict[str, object]


@pytest.fixture(scope="module")
def clique_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliqueNetwork]:
    """Three members' geth signers (127.0.0.2-4), each with keys of its own, peered
    statically, shared by a module's tests. The genesis is built from their signer
    addresses only."""
    tmp_path = tmp_path_factory.mktemp("clique")
    pid_file = PidFile(tmp_path / "engines.pids.json")
    hosts = [IPv4Address(f"127.0.0.{index}") for index in (2, 3, 4)]
    allowed = consortium_networks(hosts)
    identities = [
        create_geth_keys(tmp_path / f"geth-{index}", f"password {index}", scrypt_n=TEST_SCRYPT_N)
        for index in range(len(hosts))
    ]
    ports = [
        GethPorts(find_free_port(str(host)), find_free_port(str(host)), find_free_port(str(host)))
        for host in hosts
    ]
    enodes = [
        identity.enode(host, port.p2p)
        for identity, host, port in zip(identities, hosts, ports, strict=True)
    ]
    genesis = clique_genesis(
        chain_id=CHAIN_ID,
        signers=[identity.signer for identity in identities],
        alloc={identity.signer: 10**24 for identity in identities},
    )
    nodes = [
        GethNode(
            engine_binary("geth"),
            tmp_path / f"geth-{index}",
            host=hosts[index],
            ports=ports[index],
            chain_id=CHAIN_ID,
            static_nodes=[enode for other, enode in enumerate(enodes) if other != index],
            allowed=allowed,
            pid_file=pid_file,
            name=f"geth-{index}",
        )
        for index in range(len(hosts))
    ]
    try:
        for node in nodes:
            node.init(genesis)
            node.start()
        yield CliqueNetwork(nodes, allowed, genesis)
        # every geth a test started, audited while it still runs
        assert [v for node in nodes for v in audit_geth_node(node)] == []
    finally:
        for node in nodes:
            node.stop()
        pid_file.stop_all()
        assert pid_file.entries() == []
