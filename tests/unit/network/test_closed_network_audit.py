"""The closed-network auditor passes what the launchers build and catches each way out."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from copy import deepcopy
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest

from node.network import (
    GethNode,
    GethPorts,
    PidFile,
    audit_geth,
    audit_kubo,
    audit_sockets,
    closed_kubo_config,
    consortium_networks,
    create_geth_keys,
    new_swarm_secret,
    swarm_key_text,
)
from node.network.audit import _endpoint, parse_flags
from node.network.geth import static_nodes_toml
from node.network.kubo import KuboPeer, kubo_environment

HOSTS = [IPv4Address("127.0.0.2"), IPv4Address("127.0.0.3")]
ALLOWED = consortium_networks(HOSTS)
PEER_ENODE = "enode://" + "ab" * 64 + "@127.0.0.3:30303"
PUBLIC_ENODE = "enode://" + "cd" * 64 + "@18.138.108.67:30303"


@pytest.fixture(scope="module")
def geth(tmp_path_factory: pytest.TempPathFactory) -> GethNode:
    datadir = tmp_path_factory.mktemp("geth")
    create_geth_keys(datadir, "password", scrypt_n=1 << 10)
    return GethNode(
        Path("/nonexistent/geth"),
        datadir,
        host=HOSTS[0],
        ports=GethPorts(30303, 8545, 8551),
        chain_id=7,
        static_nodes=[PEER_ENODE],
        allowed=ALLOWED,
        pid_file=PidFile(datadir / "pids.json"),
    )


def replace_flag(command: list[str], flag: str, value: str | None) -> list[str]:
    """``command`` with ``flag``'s value changed (None removes the flag and its value)."""
    out: list[str] = []
    skip = False
    for index, argument in enumerate(command):
        if skip:
            skip = False
            continue
        if argument == flag:
            has_value = index + 1 < len(command) and not command[index + 1].startswith("--")
            skip = has_value
            if value is not None:
                out += [flag, value] if has_value else [flag]
            continue
        out.append(argument)
    return out


def test_the_geth_the_launcher_builds_breaks_no_rule(geth: GethNode) -> None:
    toml = static_nodes_toml("127.0.0.2:30303", [PEER_ENODE])
    assert audit_geth(geth.command(), toml, allowed=ALLOWED, env=geth.environment) == []
    assert (
        IPv4Network("127.0.0.1/32"),
        IPv4Network("127.0.0.2/32"),
        IPv4Network("127.0.0.3/32"),
    ) == ALLOWED


GETH_FLAG_BREAKS = [
    ("--nodiscover", None, "geth.nodiscover"),
    ("--nat", "any", "geth.nat"),
    ("--nat", "extip:203.0.113.9", "geth.nat"),
    ("--bootnodes", None, "geth.bootnodes"),
    ("--bootnodes", PUBLIC_ENODE, "geth.bootnodes"),
    ("--discovery.dns", None, "geth.dns-discovery"),
    ("--netrestrict", None, "geth.netrestrict"),
    ("--netrestrict", "0.0.0.0/0", "geth.netrestrict"),
    ("--netrestrict", "127.0.0.0/8", "geth.netrestrict"),
    ("--http.addr", "0.0.0.0", "geth.rpc-address"),
    ("--authrpc.addr", "localhost", "geth.rpc-address"),
]


@pytest.mark.parametrize(("flag", "value", "rule"), GETH_FLAG_BREAKS)
def test_each_geth_flag_that_opens_the_network_is_caught(
    geth: GethNode, flag: str, value: str | None, rule: str
) -> None:
    command = replace_flag(geth.command(), flag, value)
    assert command != geth.command()
    toml = static_nodes_toml("127.0.0.2:30303", [PEER_ENODE])
    assert [v.rule for v in audit_geth(command, toml, allowed=ALLOWED)] == [rule]


@pytest.mark.parametrize(
    ("extra", "rule"),
    [
        (["--v5disc"], "geth.discovery"),
        (["--ethstats", "node:secret@stats.example.org"], "geth.reports-out"),
        (["--port", "30303"], "geth.listen"),
        (["--ws", "--ws.addr", "0.0.0.0"], "geth.rpc-address"),
    ],
)
def test_each_added_geth_flag_that_opens_the_network_is_caught(
    geth: GethNode, extra: list[str], rule: str
) -> None:
    toml = static_nodes_toml("127.0.0.2:30303", [PEER_ENODE])
    found = audit_geth([*geth.command(), *extra], toml, allowed=ALLOWED)
    assert [v.rule for v in found] == [rule]


@pytest.mark.parametrize(
    ("toml", "rule"),
    [
        (static_nodes_toml("127.0.0.2:30303", [PEER_ENODE, PUBLIC_ENODE]), "geth.static-peer"),
        (static_nodes_toml(":30303", [PEER_ENODE]), "geth.listen"),
        (static_nodes_toml("0.0.0.0:30303", [PEER_ENODE]), "geth.listen"),
        (
            static_nodes_toml("127.0.0.2:30303", [PEER_ENODE]).replace(
                "NoDiscovery = true", "NoDiscovery = false"
            ),
            "geth.nodiscover",
        ),
        (
            static_nodes_toml("127.0.0.2:30303", [PEER_ENODE]).replace("BootstrapNodes = []\n", ""),
            "geth.bootnodes",
        ),
        (
            static_nodes_toml("127.0.0.2:30303", [PEER_ENODE]).replace("DialRatio = 1\n", ""),
            "geth.inbound",
        ),
        ("[Node.P2P\n", "geth.config"),
    ],
)
def test_each_geth_config_file_that_opens_the_network_is_caught(
    geth: GethNode, toml: str, rule: str
) -> None:
    assert rule in {v.rule for v in audit_geth(geth.command(), toml, allowed=ALLOWED)}


def test_geth_flags_smuggled_in_through_the_environment_are_caught(geth: GethNode) -> None:
    toml = static_nodes_toml("127.0.0.2:30303", [PEER_ENODE])
    env = {**geth.environment, "GETH_BOOTNODES": PUBLIC_ENODE}
    assert [v.rule for v in audit_geth(geth.command(), toml, allowed=ALLOWED, env=env)] == [
        "geth.environment"
    ]


# -- Kubo -------------------------------------------------------------------------------

#: the parts of a config `ipfs init` writes that matter here (Kubo 0.43.1 defaults)
KUBO_DEFAULTS: dict[str, Any] = {
    "Identity": {"PeerID": "12D3KooWDcCKt3UFLGhZmRsCgiE2KjYPKg2kG1SYandfu1q9HwLT"},
    "Addresses": {
        "Swarm": ["/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1"],
        "API": "/ip4/127.0.0.1/tcp/5001",
        "Gateway": "/ip4/127.0.0.1/tcp/8080",
    },
    "Bootstrap": ["auto"],
    "Routing": {"DelegatedRouters": ["auto"]},
    "Discovery": {"MDNS": {"Enabled": True}},
    "DNS": {"Resolvers": {".": "auto"}},
    "Ipns": {"DelegatedPublishers": ["auto"], "ResolveCacheSize": 128},
    "Swarm": {"AddrFilters": None, "DisableNatPortMap": False, "ConnMgr": {}},
    "AutoNAT": {},
    "AutoTLS": {},
    "AutoConf": {},
}
PEER = KuboPeer(
    "12D3KooWB6hVqMAA3YPieumwrDh88og6QzkV7nJ6pLU6Ybepy6gr", ("/ip4/127.0.0.3/tcp/4001",)
)


def closed() -> dict[str, Any]:
    return closed_kubo_config(
        KUBO_DEFAULTS, host=HOSTS[0], swarm_port=4001, api_port=5001, peers=[PEER]
    )


def audit(config: dict[str, Any], **overrides: Any) -> set[str]:
    options: dict[str, Any] = {
        "allowed": ALLOWED,
        "env": kubo_environment(Path("/repo")),
        "swarm_key": swarm_key_text(new_swarm_secret()),
        "command": ["ipfs", "daemon", "--migrate=false"],
    }
    options.update(overrides)
    return {violation.rule for violation in audit_kubo(config, **options)}


def test_the_kubo_config_the_launcher_builds_breaks_no_rule() -> None:
    assert audit(closed()) == set()
    assert closed()["Identity"] == KUBO_DEFAULTS["Identity"]  # the member's own identity kept


def test_the_default_kubo_config_breaks_the_rules_it_should() -> None:
    assert audit(deepcopy(KUBO_DEFAULTS)) >= {
        "kubo.bootstrap",
        "kubo.routing",
        "kubo.mdns",
        "kubo.autoconf",
        "kubo.autotls",
        "kubo.autonat",
        "kubo.relay",
        "kubo.nat",
        "kubo.transports",
        "kubo.address",
        "kubo.address-filters",
        "kubo.dns",
        "kubo.http-retrieval",
    }


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = config
        for key in parents:
            target = target.setdefault(key, {})
        target[last] = value

    return change


KUBO_CONFIG_BREAKS = [
    (
        "Bootstrap",
        ["/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN"],
        "kubo.bootstrap",
    ),
    ("Routing.Type", "auto", "kubo.routing"),
    ("Routing.DelegatedRouters", ["https://cid.contact"], "kubo.routing"),
    ("Ipns.DelegatedPublishers", ["auto"], "kubo.routing"),
    ("Discovery.MDNS.Enabled", True, "kubo.mdns"),
    ("AutoConf.Enabled", True, "kubo.autoconf"),
    ("AutoTLS.Enabled", True, "kubo.autotls"),
    ("AutoNAT.ServiceMode", "enabled", "kubo.autonat"),
    ("Swarm.RelayClient.Enabled", True, "kubo.relay"),
    ("Swarm.RelayService", {}, "kubo.relay"),
    ("Swarm.EnableHolePunching", True, "kubo.relay"),
    ("Swarm.DisableNatPortMap", False, "kubo.nat"),
    ("Swarm.Transports.Network.QUIC", True, "kubo.transports"),
    ("Swarm.Transports.Network.Websocket", None, "kubo.transports"),
    ("Swarm.AddrFilters", [], "kubo.address-filters"),
    ("Swarm.AddrFilters", ["/ip4/10.0.0.0/ipcidr/8", "/ip6/::/ipcidr/0"], "kubo.address-filters"),
    ("Addresses.Swarm", ["/ip4/0.0.0.0/tcp/4001"], "kubo.address"),
    ("Addresses.Swarm", ["/ip4/127.0.0.2/udp/4001/quic-v1"], "kubo.address"),
    ("Addresses.API", "/ip4/127.0.0.9/tcp/5001", "kubo.address"),
    ("Addresses.Announce", ["/ip4/203.0.113.9/tcp/4001"], "kubo.address"),
    (
        "Peering.Peers",
        [{"ID": PEER.peer_id, "Addrs": ["/dns4/peer.example.org/tcp/4001"]}],
        "kubo.address",
    ),
    ("HTTPRetrieval.Enabled", True, "kubo.http-retrieval"),
    ("DNS.Resolvers", {".": "https://dns.example.org/dns-query"}, "kubo.dns"),
]


@pytest.mark.parametrize(("path", "value", "rule"), KUBO_CONFIG_BREAKS)
def test_each_kubo_setting_that_opens_the_network_is_caught(
    path: str, value: object, rule: str
) -> None:
    config = closed()
    _set(path, value)(config)
    assert audit(config) == {rule}


def test_kubo_without_its_private_network_or_with_telemetry_is_caught() -> None:
    env = kubo_environment(Path("/repo"))
    without_pnet = {k: v for k, v in env.items() if k != "LIBP2P_FORCE_PNET"}
    assert audit(closed(), env=without_pnet) == {"kubo.private-network"}
    assert audit(closed(), swarm_key=None) == {"kubo.private-network"}
    assert audit(closed(), swarm_key="/key/swarm/psk/1.0.0/\n/base16/\nshort\n") == {
        "kubo.private-network"
    }
    telemetry_on = closed()
    telemetry_on["Plugins"] = {"Plugins": None}
    without_env_off = {k: v for k, v in env.items() if k != "IPFS_TELEMETRY"}
    assert audit(telemetry_on, env=without_env_off) == {"kubo.telemetry"}


def test_a_kubo_started_from_its_default_config_or_routing_override_is_caught() -> None:
    assert audit(closed(), command=["ipfs", "daemon", "--init"]) == {"kubo.default-config"}
    assert audit(closed(), command=["ipfs", "daemon", "--routing=dht"]) == {"kubo.routing"}


# -- parsing ----------------------------------------------------------------------------


def test_flags_are_read_in_every_spelling() -> None:
    flags = parse_flags(["geth", "--nat", "none", "--bootnodes=", "--nodiscover", "--x", ""])
    assert flags == {"--nat": "none", "--bootnodes": "", "--nodiscover": True, "--x": ""}


@pytest.mark.parametrize(
    ("field", "host", "port"),
    [
        ("0100007F:1F90", "127.0.0.1", 8080),
        ("0200007F:0050", "127.0.0.2", 80),
        ("0000000000000000FFFF00000300007F:0050", "127.0.0.3", 80),  # IPv4-mapped, tcp6
        ("00000000000000000000000000000000:0000", "::", 0),
    ],
)
def test_proc_net_addresses_are_decoded(field: str, host: str, port: int) -> None:
    assert tuple(map(str, _endpoint(field))) == (host, str(port))


def test_the_closed_kubo_config_is_json() -> None:
    assert json.loads(json.dumps(closed())) == closed()


def test_a_live_socket_listening_on_every_interface_is_caught() -> None:
    with socket.socket() as wide, socket.socket() as member:
        wide.bind(("0.0.0.0", 0))
        wide.listen()
        member.bind(("127.0.0.2", 0))
        member.listen()
        found = audit_sockets(os.getpid(), bind_to=ALLOWED, process="this test")
        wide_port, member_port = wide.getsockname()[1], member.getsockname()[1]
    details = [v.detail for v in found if v.rule == "socket.bind"]
    assert f"tcp bound to 0.0.0.0:{wide_port}" in details
    assert not any(detail.endswith(f":{member_port}") for detail in details)
