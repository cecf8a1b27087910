"""One member's docex node on `docex network`: its keys, its settings, its process.

The member makes its node's keys in its own directory (:func:`create_node_keys`): the
member account is its Clique signer's key (one account per member: the registry's member
is the chain's signer), the issuer key and the encryption keyring are fresh. Only their
public values leave the directory (:class:`NodeKeys`), for the genesis allocation and
the registry's first members. The node itself is ``docex run`` as a child process bound
to the member's address, its chain the member's own geth, its content store the member's
own Kubo, with its own data directory, database and keys.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any, Final

import httpx

from certificates.hashes import to_hex
from ledger.keystores import signer_from_keystore
from node.consortium.member_keys import (
    create_keyring,
    create_signing_key,
    keystore_path,
    save_signing_key,
)
from node.network.errors import NetworkError
from node.network.geth import KEYSTORE_DIR, PASSWORD_FILE
from node.network.processes import EngineProcess, PidFile, wait_until_answers

SETTINGS_FILE: Final = "node-settings.json"
LOG_FILE: Final = "node.log"
#: a node's first start loads its service stack and indexes the chain from the deployment
START_TIMEOUT: Final = 180.0
#: what ``docex run`` is: this interpreter running the ``docex`` app (its /proc/PID/exe
#: is the interpreter, which is what the PID file records and checks before a stop)
_RUN_DOCEX: Final = ("-c", "from node.cli.main import app; app()")
#: how fast a member's node moves a document along, against the node's defaults (500 ms
#: each): a batch closes 200 ms after its first document, the index and the receiver look
#: for new blocks every 100 ms (docs/network.md, "Measurements"). Safety is unchanged: an
#: anchor counts once its block is on the chain (one confirmation), the indexer follows
#: reorgs and the anchor keeper re-anchors what a reorg dropped.
LATENCY_SETTINGS: Final[Mapping[str, Any]] = {
    "batch_max_latency_ms": 200,
    "index_poll_ms": 100,
    "receive_poll_ms": 100,
}


@dataclass(frozen=True, slots=True)
class NodeKeys:
    """What a member publishes about its node's keys."""

    member: str
    issuer: str
    encryption_key: str


def create_node_keys(
    node_dir: Path, country: str, geth_dir: Path, *, kdf_iterations: int | None = None
) -> NodeKeys:
    """Make ``country``'s node keys under ``node_dir/keys`` (refusing existing ones)."""
    keys = node_dir / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    signer = signer_from_keystore(
        next((geth_dir / KEYSTORE_DIR).glob("*.json")), (geth_dir / PASSWORD_FILE).read_text()
    )
    member = save_signing_key(
        keystore_path(keys, country, "member"), bytes(signer.key), kdf_iterations=kdf_iterations
    )
    issuer = create_signing_key(
        keystore_path(keys, country, "issuer"), kdf_iterations=kdf_iterations
    )
    keyring = create_keyring(
        keystore_path(keys, country, "encryption"), kdf_iterations=kdf_iterations
    )
    return NodeKeys(member.address, issuer.address, to_hex(keyring.current.public_key))


def node_settings(
    *,
    node_dir: Path,
    country: str,
    host: IPv4Address,
    port: int,
    rpc_url: str,
    kubo_url: str,
    peers: Mapping[str, str],
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    """The node's ``docex run --config`` settings: production-shaped, its own parts only."""
    return {
        "log_level": "info",
        **LATENCY_SETTINGS,
        **extra,
        "profile": "production",
        "data_dir": str(node_dir),
        "chain": "rpc",
        "rpc_url": rpc_url,
        "dev_consortium": False,
        "content_store": "kubo",
        "kubo_url": kubo_url,
        "country": country,
        "host": str(host),
        "port": port,
        "public_url": f"http://{host}:{port}",
        "peer_gateways": dict(peers),
    }


def node_environment() -> dict[str, str]:
    """This process's environment without ``DOCEX_*``: the node is configured by its
    settings file only, never by the shell of whoever runs `docex network up`."""
    return {key: value for key, value in os.environ.items() if not key.startswith("DOCEX_")}


@dataclass(frozen=True, slots=True)
class NodeReadiness:
    ready: bool
    detail: str


class DocexNode:
    """A member's ``docex run``, started with its settings file, stopped by PID."""

    def __init__(
        self,
        node_dir: Path,
        *,
        host: IPv4Address,
        port: int,
        settings: Mapping[str, Any],
        pid_file: PidFile,
        name: str,
    ) -> None:
        self.node_dir = node_dir
        self.host = host
        self.port = port
        self.settings = dict(settings)
        self._process = EngineProcess(
            name,
            [sys.executable, *_RUN_DOCEX, "run", "--config", str(self.settings_path)],
            env=node_environment(),
            log_file=node_dir / LOG_FILE,
            pid_file=pid_file,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def settings_path(self) -> Path:
        return self.node_dir / SETTINGS_FILE

    @property
    def name(self) -> str:
        return self._process.name

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def launch(self) -> None:
        """Write the settings and start ``docex run``, without waiting."""
        self.node_dir.mkdir(parents=True, exist_ok=True)
        self.settings_path.write_text(json.dumps(self.settings, indent=2) + "\n")
        self._process.start()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Until the node answers ``/healthz``; its log's end if it exits first."""

        def healthy() -> None:
            httpx.get(f"{self.url}/healthz", timeout=5.0).raise_for_status()

        wait_until_answers(self._process, healthy, timeout=timeout)

    def stop(self, timeout: float = 30.0) -> None:
        self._process.stop(timeout)


def node_readiness(url: str) -> NodeReadiness:
    """The node's ``/readyz`` in a line: ready, or each check that is not, with its code."""
    try:
        response = httpx.get(f"{url}/readyz", timeout=10.0)
        body = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise NetworkError(
            f"node at {url} does not answer /readyz: {type(error).__name__}"
        ) from None
    if not isinstance(body, dict) or not isinstance(body.get("checks"), dict):
        raise NetworkError(f"node at {url}: /readyz is not a readiness answer")
    checks: dict[str, Any] = body["checks"]
    if response.status_code == 200:
        head = checks.get("chain", {}).get("head")
        return NodeReadiness(True, f"ready, block {head}, {url}")
    failing = [
        f"{name}: {check.get('code', 'not-ready')}: {check.get('reason', 'not ready')}"
        for name, check in checks.items()
        if isinstance(check, dict) and not check.get("ready", False)
    ]
    return NodeReadiness(False, f"not ready ({'; '.join(failing) or 'no reason given'}), {url}")
