"""A Kubo v0.43.1 peer for one member, in the consortium's private swarm only.

``ipfs init`` makes the member's own peer identity (offline); :func:`closed_kubo_config`
then rewrites every setting that could reach beyond the consortium before the daemon
ever starts: a private swarm key, no bootstrap, routing ``none`` with explicit peering,
no relay, AutoNAT, MDNS, AutoTLS, AutoConf, HTTP retrieval or telemetry, TCP only, and
address filters that refuse every IPv4 address outside loopback and all of IPv6.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any, Final

import httpx

from node.network.addresses import outside_loopback
from node.network.errors import EngineStartFailed, NetworkError
from node.network.processes import EngineProcess, PidFile, wait_until_answers

CONFIG_FILE: Final = "config"
SWARM_KEY_FILE: Final = "swarm.key"
LOG_FILE: Final = "kubo.log"
_SWARM_KEY_HEADER: Final = "/key/swarm/psk/1.0.0/\n/base16/\n"


@dataclass(frozen=True, slots=True)
class KuboPeer:
    """What a member publishes about its IPFS peer."""

    peer_id: str
    addresses: tuple[str, ...]


def new_swarm_secret() -> bytes:
    """The consortium's pre-shared swarm secret (made once, given to every member)."""
    return os.urandom(32)


def swarm_key_text(secret: bytes) -> str:
    if len(secret) != 32:
        raise ValueError("a swarm secret is 32 bytes")
    return _SWARM_KEY_HEADER + secret.hex() + "\n"


def kubo_environment(repo: Path) -> dict[str, str]:
    """The daemon's whole environment: nothing inherited (no proxies, no IPFS_* defaults)."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(repo),
        "IPFS_PATH": str(repo),
        "LIBP2P_FORCE_PNET": "1",
        "IPFS_TELEMETRY": "off",
        "DO_NOT_TRACK": "1",
    }


def address_filters() -> list[str]:
    """Swarm.AddrFilters: every IPv4 network but 127.0.0.0/8, and all of IPv6."""
    return [
        *(f"/ip4/{net.network_address}/ipcidr/{net.prefixlen}" for net in outside_loopback()),
        "/ip6/::/ipcidr/0",
    ]


def closed_kubo_config(
    config: Mapping[str, Any],
    *,
    host: IPv4Address,
    swarm_port: int,
    api_port: int,
    peers: Sequence[KuboPeer],
) -> dict[str, Any]:
    """``config`` (as ``ipfs init`` wrote it) with every outward-reaching setting closed."""
    closed = deepcopy(dict(config))
    closed["Addresses"] = {
        "Swarm": [f"/ip4/{host}/tcp/{swarm_port}"],
        "Announce": [],
        "AppendAnnounce": [],
        "NoAnnounce": [],
        "API": f"/ip4/{host}/tcp/{api_port}",
        "Gateway": [],
    }
    closed["Bootstrap"] = []
    closed["Routing"] = {"Type": "none", "DelegatedRouters": []}
    closed["Peering"] = {
        "Peers": [{"ID": peer.peer_id, "Addrs": list(peer.addresses)} for peer in peers]
    }
    closed["Discovery"] = {"MDNS": {"Enabled": False}}
    closed["AutoConf"] = {"Enabled": False}
    closed["AutoTLS"] = {"Enabled": False}
    closed["AutoNAT"] = {"ServiceMode": "disabled"}
    closed["DNS"] = {"Resolvers": {}}
    closed["HTTPRetrieval"] = {"Enabled": False}
    closed["Ipns"] = {**closed.get("Ipns", {}), "DelegatedPublishers": []}
    closed["Provide"] = {"Enabled": False}
    closed["Plugins"] = {"Plugins": {"telemetry": {"Config": {"Mode": "off"}}}}
    swarm = dict(closed.get("Swarm", {}))
    swarm.update(
        {
            "AddrFilters": address_filters(),
            "DisableNatPortMap": True,
            "EnableHolePunching": False,
            "RelayClient": {"Enabled": False},
            "RelayService": {"Enabled": False},
            "Transports": {
                "Network": {
                    "TCP": True,
                    "QUIC": False,
                    "WebTransport": False,
                    "WebRTCDirect": False,
                    "Websocket": False,
                    "Relay": False,
                },
                "Security": {},
                "Multiplexers": {},
            },
        }
    )
    closed["Swarm"] = swarm
    return closed


class KuboNode:
    """One member's Kubo daemon: a repo of its own, the consortium's swarm key."""

    def __init__(
        self,
        executable: Path,
        repo: Path,
        *,
        host: IPv4Address,
        swarm_port: int,
        api_port: int,
        swarm_secret: bytes,
        pid_file: PidFile,
        name: str = "kubo",
    ) -> None:
        self.executable = executable
        self.repo = repo
        self.host = host
        self.swarm_port = swarm_port
        self.api_port = api_port
        self.swarm_secret = swarm_secret
        self._process = EngineProcess(
            name,
            [str(executable), "daemon", "--migrate=false"],
            env=kubo_environment(repo),
            log_file=repo / LOG_FILE,
            pid_file=pid_file,
        )

    @property
    def config_path(self) -> Path:
        return self.repo / CONFIG_FILE

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def swarm_address(self) -> str:
        return f"/ip4/{self.host}/tcp/{self.swarm_port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def name(self) -> str:
        return self._process.name

    @property
    def command(self) -> tuple[str, ...]:
        return self._process.command

    @property
    def environment(self) -> dict[str, str]:
        return dict(self._process.env)

    def init(self) -> KuboPeer:
        """Make the repo and the peer identity (offline), closed with no peers yet."""
        if not self.config_path.exists():
            self.repo.mkdir(parents=True, exist_ok=True)
            result = subprocess.run(  # noqa: S603 - fixed executable, no shell
                [str(self.executable), "init", "--empty-repo"],
                env=kubo_environment(self.repo),
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise EngineStartFailed(f"ipfs init failed: {result.stderr[-500:]}")
        (self.repo / SWARM_KEY_FILE).write_text(swarm_key_text(self.swarm_secret))
        self.configure(peers=())
        return self.as_peer()

    def read_config(self) -> dict[str, Any]:
        config: dict[str, Any] = json.loads(self.config_path.read_text(encoding="utf-8"))
        return config

    def as_peer(self) -> KuboPeer:
        return KuboPeer(str(self.read_config()["Identity"]["PeerID"]), (self.swarm_address,))

    def configure(self, peers: Sequence[KuboPeer]) -> None:
        closed = closed_kubo_config(
            self.read_config(),
            host=self.host,
            swarm_port=self.swarm_port,
            api_port=self.api_port,
            peers=peers,
        )
        temporary = self.config_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(closed, indent=2), encoding="utf-8")
        temporary.replace(self.config_path)

    def start(self, timeout: float = 30.0) -> None:
        """Start the daemon and wait until its RPC API answers with its peer id."""
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the daemon, without waiting (see :meth:`wait_ready`)."""
        self._process.start()

    def wait_ready(self, timeout: float = 30.0) -> None:
        expected = self.as_peer().peer_id
        answered = wait_until_answers(self._process, lambda: self.rpc("id")["ID"], timeout=timeout)
        if answered != expected:
            self.stop()
            raise EngineStartFailed(f"another Kubo ({answered}) answers on {self.api_url}")

    def rpc(self, command: str, params: Mapping[str, str] | None = None) -> Any:
        """One RPC API call; :class:`NetworkError` when Kubo does not answer it."""
        try:
            response = httpx.post(f"{self.api_url}/api/v0/{command}", params=params, timeout=20.0)
        except httpx.HTTPError as error:
            raise NetworkError(
                f"Kubo at {self.api_url} does not answer {command}: {type(error).__name__}"
            ) from None
        if response.status_code != 200:
            raise NetworkError(f"Kubo {command}: HTTP {response.status_code}: {response.text}")
        return response.json()

    def connect(self, peer: KuboPeer) -> None:
        """Dial a consortium peer now (Peering retries on its own, but after a back-off)."""
        for address in peer.addresses:
            self.rpc("swarm/connect", {"arg": f"{address}/p2p/{peer.peer_id}"})

    def connected_peers(self) -> list[str]:
        peers = self.rpc("swarm/peers").get("Peers") or []
        return [str(peer["Peer"]) for peer in peers]

    def stop(self, timeout: float = 10.0) -> None:
        self._process.stop(timeout)
