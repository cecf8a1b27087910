"""The closed-network auditor: does a started engine's configuration keep it inside?

Given what a process was started with (command line, environment, config files) it
lists every rule of the consortium's closed network that the configuration breaks;
an empty list means none. :func:`audit_sockets` checks a running process's sockets too.
Each rule has a stable name, so a test (or `docex network status`) can say which.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, ip_network
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from node.network.addresses import LOOPBACK, outside_loopback, within
from node.network.geth import GethNode
from node.network.kubo import SWARM_KEY_FILE, KuboNode

_LISTEN: Final = "0A"
_ENODE_HOST: Final = re.compile(r"^enode://[0-9a-f]{128}@(?P<host>[^:?]+):\d+")
_IP4_MULTIADDR: Final = re.compile(r"^/ip4/(?P<host>[0-9.]+)/tcp/\d+(/p2p/\w+)?$")
_GETH_FLAGS_THAT_REPORT_OUT: Final = ("--ethstats", "--metrics.influxdb", "--metrics.influxdbv2")
_GETH_DISCOVERY_FLAGS: Final = ("--v5disc", "--discovery.v5", "--discv5")
_KUBO_TRANSPORTS_OFF: Final = ("QUIC", "WebTransport", "WebRTCDirect", "Websocket", "Relay")


@dataclass(frozen=True, slots=True)
class Violation:
    process: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.process}: {self.rule}: {self.detail}"


class _Findings:
    def __init__(self, process: str) -> None:
        self.process = process
        self.found: list[Violation] = []

    def check(self, ok: bool, rule: str, detail: str) -> None:
        if not ok:
            self.found.append(Violation(self.process, rule, detail))


# -- geth -------------------------------------------------------------------------------


def parse_flags(command: Sequence[str]) -> dict[str, str | bool]:
    """``--name value``, ``--name=value`` and bare ``--name`` (True) of a command line."""
    flags: dict[str, str | bool] = {}
    arguments = list(command[1:])
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        index += 1
        if not argument.startswith("-"):
            continue
        name, equals, value = argument.partition("=")
        name = "--" + name.lstrip("-")
        if equals:
            flags[name] = value
        elif index < len(arguments) and not arguments[index].startswith("-"):
            flags[name] = arguments[index]
            index += 1
        else:
            flags[name] = True
    return flags


def audit_geth(
    command: Sequence[str],
    config_toml: str,
    *,
    allowed: Sequence[IPv4Network],
    env: Mapping[str, str] | None = None,
    process: str = "geth",
) -> list[Violation]:
    """The closed-network rules a geth command line + TOML config (+ environment) break."""
    findings = _Findings(process)
    flags = parse_flags(command)
    findings.check(flags.get("--nodiscover") is True, "geth.nodiscover", "--nodiscover missing")
    findings.check(flags.get("--nat") == "none", "geth.nat", f"--nat is {flags.get('--nat')!r}")
    findings.check(
        flags.get("--bootnodes") == "", "geth.bootnodes", "--bootnodes must be given, empty"
    )
    findings.check(
        flags.get("--discovery.dns") == "",
        "geth.dns-discovery",
        "--discovery.dns must be given, empty",
    )
    for flag in _GETH_DISCOVERY_FLAGS:
        findings.check(flags.get(flag) in (None, False, "false"), "geth.discovery", flag)
    for flag in _GETH_FLAGS_THAT_REPORT_OUT:
        findings.check(flag not in flags, "geth.reports-out", f"{flag} sends data out")
    findings.check("--port" not in flags, "geth.listen", "--port listens on every interface")
    _audit_netrestrict(findings, flags.get("--netrestrict"), allowed)
    for enabled, address in (
        ("--http", "--http.addr"),
        ("--ws", "--ws.addr"),
        (None, "--authrpc.addr"),
    ):
        if enabled is None or flags.get(enabled) is True:
            value = flags.get(address)
            findings.check(
                isinstance(value, str) and _host_within(value, allowed),
                "geth.rpc-address",
                f"{address} is {value!r}, not a consortium address",
            )
    _audit_geth_toml(findings, config_toml, allowed)
    leaked = sorted(name for name in (env or {}) if name.startswith("GETH_"))
    findings.check(not leaked, "geth.environment", f"flags from the environment: {leaked}")
    return findings.found


def _audit_netrestrict(
    findings: _Findings, value: str | bool | None, allowed: Sequence[IPv4Network]
) -> None:
    if not isinstance(value, str) or not value:
        findings.check(False, "geth.netrestrict", "--netrestrict missing")
        return
    for item in value.split(","):
        try:
            network = ip_network(item.strip(), strict=False)
        except ValueError:
            findings.check(False, "geth.netrestrict", f"unreadable range {item!r}")
            continue
        findings.check(
            isinstance(network, IPv4Network) and any(network.subnet_of(a) for a in allowed),
            "geth.netrestrict",
            f"{network} is wider than the consortium's addresses",
        )


def _audit_geth_toml(findings: _Findings, text: str, allowed: Sequence[IPv4Network]) -> None:
    try:
        p2p: dict[str, Any] = tomllib.loads(text).get("Node", {}).get("P2P", {})
    except tomllib.TOMLDecodeError as error:
        findings.check(False, "geth.config", f"unreadable TOML: {error}")
        return
    findings.check(p2p.get("NoDiscovery") is True, "geth.nodiscover", "NoDiscovery not true")
    findings.check(
        p2p.get("DialRatio") == 1,
        "geth.inbound",
        "DialRatio is not 1: geth would take inbound peers that are not trusted members",
    )
    for key in ("BootstrapNodes", "BootstrapNodesV5"):
        findings.check(p2p.get(key) == [], "geth.bootnodes", f"{key} must be present and empty")
    listen = str(p2p.get("ListenAddr", ""))
    findings.check(
        _host_within(listen.rpartition(":")[0], allowed),
        "geth.listen",
        f"ListenAddr {listen!r} is not a consortium address",
    )
    for key in ("StaticNodes", "TrustedNodes"):
        for enode in p2p.get(key, []):
            match = _ENODE_HOST.match(str(enode))
            findings.check(
                match is not None and _host_within(match["host"], allowed),
                "geth.static-peer",
                f"{key} entry outside the consortium: {enode}",
            )


def _host_within(host: str, allowed: Sequence[IPv4Network]) -> bool:
    try:
        return within(host, allowed)
    except ValueError:
        return False  # a host name ("localhost", "0.0.0.0" aside) resolves elsewhere


# -- Kubo -------------------------------------------------------------------------------


def audit_kubo(
    config: Mapping[str, Any],
    *,
    allowed: Sequence[IPv4Network],
    env: Mapping[str, str],
    swarm_key: str | None,
    command: Sequence[str] = (),
    process: str = "kubo",
) -> list[Violation]:
    """The closed-network rules a Kubo config + environment + swarm key + command break."""
    findings = _Findings(process)
    check = findings.check
    check(env.get("LIBP2P_FORCE_PNET") == "1", "kubo.private-network", "LIBP2P_FORCE_PNET is not 1")
    check(
        swarm_key is not None
        and re.fullmatch(r"/key/swarm/psk/1\.0\.0/\n/base16/\n[0-9a-f]{64}\n?", swarm_key)
        is not None,
        "kubo.private-network",
        "no well-formed swarm.key in the repo",
    )
    check(_get(config, "Bootstrap") == [], "kubo.bootstrap", "Bootstrap is not empty")
    check(_get(config, "Routing", "Type") == "none", "kubo.routing", "Routing.Type is not none")
    check(
        not _get(config, "Routing", "DelegatedRouters"),
        "kubo.routing",
        "Routing.DelegatedRouters is not empty",
    )
    check(_get(config, "Discovery", "MDNS", "Enabled") is False, "kubo.mdns", "MDNS is not off")
    check(_get(config, "AutoConf", "Enabled") is False, "kubo.autoconf", "AutoConf is not off")
    check(_get(config, "AutoTLS", "Enabled") is False, "kubo.autotls", "AutoTLS is not off")
    check(
        _get(config, "AutoNAT", "ServiceMode") == "disabled",
        "kubo.autonat",
        "AutoNAT.ServiceMode is not disabled",
    )
    for path in (("Swarm", "RelayClient", "Enabled"), ("Swarm", "RelayService", "Enabled")):
        check(_get(config, *path) is False, "kubo.relay", f"{'.'.join(path)} is not false")
    check(
        _get(config, "Swarm", "EnableHolePunching") is False,
        "kubo.relay",
        "Swarm.EnableHolePunching is not false",
    )
    check(
        _get(config, "Swarm", "DisableNatPortMap") is True,
        "kubo.nat",
        "Swarm.DisableNatPortMap is not true",
    )
    network = _get(config, "Swarm", "Transports", "Network") or {}
    check(network.get("TCP") is True, "kubo.transports", "TCP is not on")
    for transport in _KUBO_TRANSPORTS_OFF:
        check(network.get(transport) is False, "kubo.transports", f"{transport} is not off")
    check(
        _get(config, "HTTPRetrieval", "Enabled") is False,
        "kubo.http-retrieval",
        "HTTPRetrieval is not off",
    )
    check(not _get(config, "DNS", "Resolvers"), "kubo.dns", "DNS.Resolvers is not empty")
    check(
        not _get(config, "Ipns", "DelegatedPublishers"),
        "kubo.routing",
        "Ipns.DelegatedPublishers is not empty",
    )
    check(
        env.get("IPFS_TELEMETRY") == "off"
        or _get(config, "Plugins", "Plugins", "telemetry", "Config", "Mode") == "off",
        "kubo.telemetry",
        "telemetry is not off",
    )
    _audit_kubo_addresses(findings, config, allowed)
    _audit_address_filters(findings, _get(config, "Swarm", "AddrFilters") or [])
    flags = parse_flags(command) if command else {}
    check(flags.get("--routing") in (None, "none"), "kubo.routing", "--routing overrides config")
    check("--init" not in flags, "kubo.default-config", "--init starts from the default config")
    return findings.found


def _audit_kubo_addresses(
    findings: _Findings, config: Mapping[str, Any], allowed: Sequence[IPv4Network]
) -> None:
    addresses: list[tuple[str, object]] = []
    for key in ("Swarm", "Announce", "AppendAnnounce", "API", "Gateway"):
        value = _get(config, "Addresses", key)
        addresses += [(f"Addresses.{key}", item) for item in _as_list(value)]
    for peer in _get(config, "Peering", "Peers") or []:
        addresses += [(f"Peering {peer.get('ID')}", item) for item in peer.get("Addrs", [])]
    for where, address in addresses:
        match = _IP4_MULTIADDR.match(str(address))
        findings.check(
            match is not None and _host_within(match["host"], allowed),
            "kubo.address",
            f"{where} {address!r} is not a TCP address of the consortium",
        )


def _audit_address_filters(findings: _Findings, filters: Sequence[str]) -> None:
    networks: list[IPv4Network] = []
    ip6_all = False
    for item in filters:
        parts = str(item).strip("/").split("/")
        if len(parts) == 4 and parts[0] == "ip4" and parts[2] == "ipcidr":
            networks.append(IPv4Network(f"{parts[1]}/{parts[3]}", strict=False))
        elif len(parts) == 4 and parts[0] == "ip6" and parts[2] == "ipcidr" and parts[3] == "0":
            ip6_all = True
    uncovered = [
        needed
        for needed in outside_loopback()
        if not any(needed.subnet_of(network) for network in networks)
    ]
    findings.check(
        not uncovered, "kubo.address-filters", f"dials not filtered to {uncovered[:3]}..."
    )
    findings.check(ip6_all, "kubo.address-filters", "IPv6 is not filtered")


def _get(config: Mapping[str, Any], *path: str) -> Any:
    value: Any = config
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


# -- a running process ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SocketEndpoint:
    protocol: str
    local: tuple[IPv4Address | IPv6Address, int]
    remote: tuple[IPv4Address | IPv6Address, int]
    listening: bool


def audit_sockets(
    pid: int,
    *,
    bind_to: Sequence[IPv4Network],
    reach: Sequence[IPv4Network] = (LOOPBACK,),
    process: str = "process",
) -> list[Violation]:
    """A running process's sockets: listeners only on ``bind_to``, peers only in ``reach``."""
    findings = _Findings(process)
    for socket in process_sockets(pid):
        host, port = socket.local
        if socket.listening or socket.protocol.startswith("udp"):
            findings.check(
                within(host, bind_to) if isinstance(host, IPv4Address) else False,
                "socket.bind",
                f"{socket.protocol} bound to {host}:{port}",
            )
        remote_host, remote_port = socket.remote
        if remote_port != 0:
            findings.check(
                within(remote_host, reach) if isinstance(remote_host, IPv4Address) else False,
                "socket.remote",
                f"{socket.protocol} connected to {remote_host}:{remote_port}",
            )
    return findings.found


def process_sockets(pid: int) -> list[SocketEndpoint]:
    """The TCP and UDP sockets ``pid`` holds open (from /proc; Linux only)."""
    inodes = set()
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return [
        socket
        for protocol in ("tcp", "tcp6", "udp", "udp6")
        for inode, socket in _proc_net(pid, protocol)
        if inode in inodes
    ]


def _proc_net(pid: int, protocol: str) -> Iterator[tuple[str, SocketEndpoint]]:
    try:
        lines = Path(f"/proc/{pid}/net/{protocol}").read_text().splitlines()[1:]
    except OSError:
        return
    for line in lines:
        fields = line.split()
        yield (
            fields[9],
            SocketEndpoint(
                protocol,
                _endpoint(fields[1]),
                _endpoint(fields[2]),
                protocol.startswith("tcp") and fields[3] == _LISTEN,
            ),
        )


def _endpoint(text: str) -> tuple[IPv4Address | IPv6Address, int]:
    address, _, port = text.partition(":")
    raw = bytes.fromhex(address)
    # the kernel prints each 32-bit word in host (little-endian) byte order
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    host: IPv4Address | IPv6Address
    if len(words) == 4:
        host = IPv4Address(words)
    else:
        host = IPv6Address(words)
        host = host.ipv4_mapped or host
    return host, int(port, 16)


def audit_url_host(url: str, allowed: Sequence[IPv4Network], process: str) -> list[Violation]:
    """An endpoint docex itself talks to (an RPC or API URL) must be a consortium address."""
    findings = _Findings(process)
    host = urlsplit(url).hostname or ""
    findings.check(_host_within(host, allowed), "endpoint", f"{url} is not a consortium address")
    return findings.found


# -- the engines docex started ----------------------------------------------------------


def audit_geth_node(node: GethNode) -> list[Violation]:
    """A started geth: its command line, TOML config, environment and, while it runs,
    its sockets."""
    found = audit_geth(
        node.command(),
        node.config_path.read_text(encoding="utf-8"),
        allowed=node.allowed,
        env=node.environment,
        process=node.name,
    )
    if node.pid is not None:
        found += audit_sockets(node.pid, bind_to=node.allowed, process=node.name)
    return found


def audit_kubo_node(node: KuboNode, allowed: Sequence[IPv4Network]) -> list[Violation]:
    """A started Kubo: its config, swarm key, environment, command and sockets."""
    key_path = node.repo / SWARM_KEY_FILE
    found = audit_kubo(
        node.read_config(),
        allowed=allowed,
        env=node.environment,
        swarm_key=key_path.read_text() if key_path.exists() else None,
        command=node.command,
        process=node.name,
    )
    if node.pid is not None:
        found += audit_sockets(node.pid, bind_to=allowed, process=node.name)
    return found
