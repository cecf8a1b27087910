"""A geth v1.13.15 Clique signer for one member, closed to everything but its peers.

The member makes its own keys (:func:`create_geth_keys`): a signer account in an
encrypted keystore and a p2p node key. Only public data leaves it: the signer address
(for the genesis) and the enode URL (for the other members' static peers).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any, Final

import httpx
from eth_account import Account
from eth_keys.datatypes import PrivateKey
from eth_utils.address import to_checksum_address

from node.network.errors import EngineStartFailed, NetworkError
from node.network.geth_ipc import MAX_SOCKET_PATH, GethIpc
from node.network.private_files import write_private
from node.network.processes import EngineProcess, PidFile, wait_until_answers

KEYSTORE_DIR: Final = "keystore"
PASSWORD_FILE: Final = "password.txt"  # noqa: S105 - a file name
NODE_KEY_FILE: Final = "nodekey"
CONFIG_FILE: Final = "geth.toml"
IPC_FILE: Final = "geth.ipc"
LOG_FILE: Final = "geth.log"
#: the RPC namespaces served on the member's loopback address
HTTP_APIS: Final = "eth,net,web3,clique,miner"
#: geth's keystore default (scrypt N = 2**18); tests pass a cheaper one
STANDARD_SCRYPT_N: Final = 1 << 18


@dataclass(frozen=True, slots=True)
class GethIdentity:
    """What a member publishes about its validator: the signer and the p2p public key."""

    signer: str
    node_public_key: bytes

    def enode(self, host: IPv4Address, port: int) -> str:
        return f"enode://{self.node_public_key.hex()}@{host}:{port}"


@dataclass(frozen=True, slots=True)
class GethPorts:
    p2p: int
    http: int
    authrpc: int


def create_geth_keys(
    datadir: Path, password: str, *, scrypt_n: int = STANDARD_SCRYPT_N
) -> GethIdentity:
    """Make a member's signer account (keystore) and node key under ``datadir``."""
    if (datadir / NODE_KEY_FILE).exists():
        raise NetworkError(f"{datadir} already holds a geth identity")
    keystore = datadir / KEYSTORE_DIR
    keystore.mkdir(parents=True, exist_ok=True)
    signer = Account.create()
    encrypted = Account.encrypt(signer.key, password, kdf="scrypt", iterations=scrypt_n)
    write_private(keystore / f"{signer.address.lower()[2:]}.json", json.dumps(encrypted))
    write_private(datadir / PASSWORD_FILE, password)
    node_key = Account.create().key
    write_private(datadir / NODE_KEY_FILE, bytes(node_key).hex())
    return read_geth_identity(datadir)


def read_geth_identity(datadir: Path) -> GethIdentity:
    """The public identity of the keys :func:`create_geth_keys` left in ``datadir``."""
    accounts = sorted((datadir / KEYSTORE_DIR).glob("*.json"))
    if len(accounts) != 1:
        raise NetworkError(f"{datadir / KEYSTORE_DIR} must hold exactly one signer account")
    address = json.loads(accounts[0].read_text(encoding="utf-8"))["address"]
    node_key = PrivateKey(bytes.fromhex((datadir / NODE_KEY_FILE).read_text().strip()))
    return GethIdentity(
        signer=to_checksum_address("0x" + str(address).removeprefix("0x")),
        node_public_key=node_key.public_key.to_bytes(),
    )


def static_nodes_toml(listen: str, static_nodes: Sequence[str]) -> str:
    """geth's TOML config: where it listens and its only peers (static-nodes.json is
    ignored by 1.13). No discovery and no bootstrap nodes, whatever the flags say.

    ``DialRatio = 1`` makes every peer slot a dialled one, so geth accepts an inbound
    connection only from a *trusted* node: the members the registry lists (the signer
    follower keeps the trusted set, ADR 0056). An outsider that dials in is refused."""
    nodes = ", ".join(json.dumps(node) for node in static_nodes)
    return (
        "[Node.P2P]\n"
        f"ListenAddr = {json.dumps(listen)}\n"
        "NoDiscovery = true\n"
        "DialRatio = 1\n"
        "BootstrapNodes = []\n"
        "BootstrapNodesV5 = []\n"
        f"StaticNodes = [{nodes}]\n"
        f"TrustedNodes = [{nodes}]\n"
    )


class GethNode:
    """One member's geth: initialised from the genesis, sealing as the member's signer."""

    def __init__(
        self,
        executable: Path,
        datadir: Path,
        *,
        host: IPv4Address,
        ports: GethPorts,
        chain_id: int,
        static_nodes: Sequence[str],
        allowed: Sequence[IPv4Network],
        pid_file: PidFile,
        name: str = "geth",
        seal_at_start: bool = True,
        log_vmodule: str = "",
    ) -> None:
        self.executable = executable
        self.datadir = datadir
        self.host = host
        self.ports = ports
        self.chain_id = chain_id
        self.static_nodes = tuple(static_nodes)
        self.allowed = tuple(allowed)
        self.identity = read_geth_identity(datadir)
        if len(str(self.ipc_path).encode()) > MAX_SOCKET_PATH:
            raise NetworkError(
                f"{self.ipc_path} is too long for a socket path: choose a shorter root"
            )
        #: False: the signer seals only once :meth:`start_sealing` is called (a consortium
        #: starts sealing when every signer is peered: Clique signers sealing apart fork,
        #: and the "signed recently" rule can then stall every branch for good)
        self.seal_at_start = seal_at_start
        #: geth's --vmodule (e.g. ``p2p/*=5``: why peers are refused), for diagnosis
        self.log_vmodule = log_vmodule
        self._process = EngineProcess(
            name,
            self.command(),
            env={"PATH": "/usr/bin:/bin", "HOME": str(datadir)},
            log_file=datadir / LOG_FILE,
            pid_file=pid_file,
        )

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.ports.http}"

    @property
    def enode(self) -> str:
        return self.identity.enode(self.host, self.ports.p2p)

    @property
    def ipc_path(self) -> Path:
        """geth's IPC socket (mode 0600): its ``admin`` API, never served over HTTP."""
        return self.datadir / IPC_FILE

    def ipc(self) -> GethIpc:
        return GethIpc(self.ipc_path)

    @property
    def config_path(self) -> Path:
        return self.datadir / CONFIG_FILE

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def environment(self) -> dict[str, str]:
        return dict(self._process.env)

    @property
    def name(self) -> str:
        return self._process.name

    def init(self, genesis: dict[str, Any]) -> None:
        """``geth init``: write the genesis block into the data directory (offline)."""
        genesis_path = self.datadir / "genesis.json"
        genesis_path.write_text(json.dumps(genesis, indent=2), encoding="utf-8")
        result = subprocess.run(  # noqa: S603 - fixed executable, no shell
            [str(self.executable), "init", "--datadir", str(self.datadir), str(genesis_path)],
            env={"PATH": "/usr/bin:/bin", "HOME": str(self.datadir)},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise EngineStartFailed(f"geth init failed: {result.stderr[-500:]}")

    def command(self) -> list[str]:
        host = str(self.host)
        return [
            str(self.executable),
            "--config", str(self.config_path),
            "--datadir", str(self.datadir),
            "--networkid", str(self.chain_id),
            "--syncmode", "full",
            "--gcmode", "archive",
            "--nodiscover",
            "--nat", "none",
            "--netrestrict", ",".join(str(network) for network in self.allowed),
            "--bootnodes", "",
            "--discovery.dns", "",
            "--nodekey", str(self.datadir / NODE_KEY_FILE),
            "--ipcpath", str(self.ipc_path),
            "--http",
            "--http.addr", host,
            "--http.port", str(self.ports.http),
            "--http.api", HTTP_APIS,
            "--authrpc.addr", host,
            "--authrpc.port", str(self.ports.authrpc),
            *(["--mine"] if self.seal_at_start else []),
            "--miner.etherbase", self.identity.signer,
            "--unlock", self.identity.signer,
            "--password", str(self.datadir / PASSWORD_FILE),
            "--allow-insecure-unlock",
            "--verbosity", "3",
            *(["--vmodule", self.log_vmodule] if self.log_vmodule else []),
        ]  # fmt: skip

    def start(self, timeout: float = 30.0) -> None:
        """Write the config, start geth and wait until its RPC answers with our chain id."""
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Write the config and start geth, without waiting (see :meth:`wait_ready`)."""
        self.config_path.write_text(
            static_nodes_toml(f"{self.host}:{self.ports.p2p}", self.static_nodes),
            encoding="utf-8",
        )
        self._process.start()

    def wait_ready(self, timeout: float = 30.0) -> None:
        answered = wait_until_answers(
            self._process, lambda: int(self.rpc("eth_chainId"), 16), timeout=timeout
        )
        if answered != self.chain_id:
            self.stop()
            raise EngineStartFailed(f"geth at {self.rpc_url} answers chain id {answered}")

    def start_sealing(self) -> None:
        """Start sealing blocks as this member's Clique signer (``miner_start``)."""
        self.rpc("miner_start")

    def rpc(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One JSON-RPC call; :class:`NetworkError` when geth does not answer it."""
        try:
            response = httpx.post(
                self.rpc_url,
                json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)},
                timeout=10.0,
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise NetworkError(
                f"geth at {self.rpc_url} does not answer {method}: {type(error).__name__}"
            ) from None
        if not isinstance(body, dict):
            raise NetworkError(f"geth {method}: not a JSON-RPC answer")
        if "error" in body:
            raise NetworkError(f"geth {method}: {body['error']}")
        return body["result"]

    def block_number(self) -> int:
        return int(self.rpc("eth_blockNumber"), 16)

    def peer_count(self) -> int:
        return int(self.rpc("net_peerCount"), 16)

    def stop(self, timeout: float = 10.0) -> None:
        self._process.stop(timeout)
