"""A Clique chain of geth signers for the network fault scenarios, one host address each.

Built from the same parts as ``docex network`` (:mod:`node.network`: the member's own
keys, the genesis from public signer addresses, the closed-network launcher and its
auditor), on addresses of its own (127.0.0.60 and up by default) so that it never meets
a network a test or ``docex network`` runs at the same time. Every geth is recorded in a
PID file and stopped by its PID; every one started is audited (configuration and live
sockets) and a violation fails the scenario.

Faults it can cause: a signer killed (``kill -9`` by PID) and restarted on its data
directory; a signer cut off from the others and joined again. geth 1.13 serves no
``admin`` API here, so a signer is cut off by restarting it with no static peers on a
p2p port the others do not know (they keep dialling the old one, refused), and joined
again by restarting it on its own port with its static peers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any, Final

from eth_account import Account

from ledger.chains import dev_private_keys, find_free_port, find_free_ports
from node.network import (
    GethNode,
    GethPorts,
    PidFile,
    audit_geth_node,
    clique_genesis,
    consortium_networks,
    create_geth_keys,
    engine_binary,
)
from node.network.sealing import stall_seconds, wait_for_agreed_block

CHAIN_ID: Final = 7_760
#: the first host address; a network of N signers uses 127.0.0.60 .. 127.0.0.(60+N-1)
FIRST_HOST: Final = 60
#: cheap keystore encryption for throw-away signer keys (geth's default is 2**18)
SCRYPT_N: Final = 1 << 12
_FUNDING_WEI: Final = 10**24
#: the block every signer must hold alike for a start to count
STARTED_AT: Final = 5


def dev_funder() -> str:
    """The account ``docex run`` funds its dev consortium from (funded in the genesis)."""
    return str(Account.from_key(dev_private_keys(1)[0]).address)


@dataclass(frozen=True, slots=True)
class Head:
    number: int
    hash: str


class CliqueChain:
    """``size`` geth Clique signers on 127.0.0.(first_host + i), peered statically."""

    def __init__(
        self,
        root: Path,
        *,
        size: int = 4,
        block_period: int = 1,
        first_host: int = FIRST_HOST,
    ) -> None:
        self.root = root
        self.block_period = block_period
        self.pid_file = PidFile(root / "engines.pids.json")
        self.hosts = [IPv4Address(f"127.0.0.{first_host + i}") for i in range(size)]
        self.allowed: tuple[IPv4Network, ...] = consortium_networks(self.hosts)
        self.ports = [GethPorts(*find_free_ports(3, str(host))) for host in self.hosts]
        self.identities = [
            create_geth_keys(self._datadir(i), f"signer {i}", scrypt_n=SCRYPT_N)
            for i in range(size)
        ]
        self.enodes = [
            identity.enode(host, port.p2p)
            for identity, host, port in zip(self.identities, self.hosts, self.ports, strict=True)
        ]
        self.nodes: list[GethNode] = [self._node(i) for i in range(size)]
        #: every rule a started geth broke (the scenario fails on any)
        self.violations: list[str] = []
        #: starts abandoned because the chain stalled (see :meth:`start`)
        self.restarts_at_start = 0

    # -- life ---------------------------------------------------------------------------

    def start(self, timeout: float = 60.0, attempts: int = 5) -> None:
        """Initialise from the genesis, start, peer, then seal; a start that stalls is
        started again from a fresh genesis (see :meth:`_started`). Five attempts: under
        a loaded `make test` three stalled in a row once (each cost about 35 s before a
        stall was told by heads that stop moving: about 10 s now)."""
        for attempt in range(1, attempts + 1):
            if self._started(timeout):
                return
            self.stop()
            for index in range(len(self.nodes)):
                shutil.rmtree(self._datadir(index) / "geth", ignore_errors=True)
            self.nodes = [self._node(i) for i in range(len(self.nodes))]
            self.restarts_at_start = attempt
        raise RuntimeError(f"the Clique chain stalled at start-up {attempts} times")

    def _started(self, timeout: float) -> bool:
        """Signers that start sealing together may fork on their first blocks; on a
        loaded machine the branches can weigh the same, every signer keeps its own and
        finds itself "signed recently" on it: stalled for good (seen at block 2). A
        start counts once every signer holds the same block :data:`STARTED_AT`; geth
        1.13 discards blocks propagated before its first sync, so signers are not
        started one by one (the first could seal one block, which nobody would take)."""
        genesis = clique_genesis(
            chain_id=CHAIN_ID,
            signers=[identity.signer for identity in self.identities],
            alloc={
                **{identity.signer: _FUNDING_WEI for identity in self.identities},
                dev_funder(): _FUNDING_WEI,
            },
            block_period=self.block_period,
        )
        for node in self.nodes:
            node.init(genesis)
            node.launch()
        for node in self.nodes:
            node.wait_ready()
            self._audit(node)
        self.wait_peered(timeout=timeout)
        for node in self.nodes:
            node.start_sealing()
        # a stalled start is told as soon as no head moves (node/network/sealing.py)
        return wait_for_agreed_block(
            self.nodes,
            STARTED_AT,
            STARTED_AT * self.block_period + 30,
            stalled_after=stall_seconds(self.block_period),
        )

    def stop(self) -> None:
        """Stop every geth by its PID (what the PID file still lists included)."""
        for node in self.nodes:
            with contextlib.suppress(Exception):
                self._audit(node)
            node.stop()
        self.pid_file.stop_all()

    def kill(self, index: int) -> int:
        """``kill -9`` of signer ``index`` by its PID; the PID."""
        node = self.nodes[index]
        pid = node.pid
        if pid is None:
            raise RuntimeError(f"{node.name} is not running")
        os.kill(pid, signal.SIGKILL)
        node.stop()  # reaps it and forgets its PID
        return pid

    def restart(self, index: int, *, isolated: bool = False, seal: bool = True) -> GethNode:
        """Start signer ``index`` again on its data directory.

        ``isolated``: with no static peers, on a p2p port the others do not know (cut
        off); otherwise on its own port with every other signer as a static peer.
        """
        old = self.nodes[index]
        old.stop()
        node = self._node(index, isolated=isolated, seal=seal)
        node.start()
        self.nodes[index] = node
        self._audit(node)
        return node

    # -- what the chain says ------------------------------------------------------------

    def head(self, index: int) -> Head:
        block = self.nodes[index].rpc("eth_getBlockByNumber", ["latest", False])
        return Head(int(block["number"], 16), str(block["hash"]))

    def block(self, index: int, number: int) -> dict[str, Any] | None:
        found = self.nodes[index].rpc("eth_getBlockByNumber", [hex(number), False])
        return dict(found) if found else None

    def sealer(self, index: int, number: int) -> str:
        return str(self.nodes[index].rpc("clique_getSigner", [hex(number)])).lower()

    def wait_block(self, index: int, number: int, timeout: float = 60.0) -> Head:
        deadline = time.monotonic() + timeout
        while (head := self.head(index)).number < number:
            if time.monotonic() > deadline:
                raise RuntimeError(f"signer {index} at block {head.number}, not {number}")
            time.sleep(0.1)
        return head

    def wait_same_head(self, indexes: Sequence[int] | None = None, timeout: float = 120.0) -> Head:
        """The head every signer in ``indexes`` (all by default) reports alike."""
        chosen = list(range(len(self.nodes))) if indexes is None else list(indexes)
        deadline = time.monotonic() + timeout
        while True:
            heads = {self.head(i) for i in chosen}
            if len(heads) == 1:
                return heads.pop()
            if time.monotonic() > deadline:
                raise RuntimeError(f"the signers' heads still differ: {sorted(heads, key=str)}")
            time.sleep(0.05)

    def wait_peered(self, indexes: Sequence[int] | None = None, timeout: float = 60.0) -> None:
        chosen = list(range(len(self.nodes))) if indexes is None else list(indexes)
        deadline = time.monotonic() + timeout
        while any(self.nodes[i].peer_count() < len(chosen) - 1 for i in chosen):
            if time.monotonic() > deadline:
                counts = {i: self.nodes[i].peer_count() for i in chosen}
                raise RuntimeError(f"signers not peered after {timeout} s: {counts}")
            time.sleep(0.2)

    def signer(self, index: int) -> str:
        return self.identities[index].signer.lower()

    # -- the launchers --------------------------------------------------------------------

    def _datadir(self, index: int) -> Path:
        return self.root / f"signer-{index}"

    def _node(self, index: int, *, isolated: bool = False, seal: bool = False) -> GethNode:
        ports = self.ports[index]
        if isolated:
            ports = GethPorts(find_free_port(str(self.hosts[index])), ports.http, ports.authrpc)
        others = [enode for other, enode in enumerate(self.enodes) if other != index]
        return GethNode(
            engine_binary("geth"),
            self._datadir(index),
            host=self.hosts[index],
            ports=ports,
            chain_id=CHAIN_ID,
            static_nodes=[] if isolated else others,
            allowed=self.allowed,
            pid_file=self.pid_file,
            name=f"signer-{index}",
            seal_at_start=seal,
        )

    def _audit(self, node: GethNode) -> None:
        self.violations += [f"{node.name}: {v}" for v in audit_geth_node(node)]
