"""A consortium of N members on this machine, shaped like a real deployment.

Each member is a host of its own (here its own 127.0.0.x address) running its own geth
Clique signer, its own Kubo peer and its own docex node, with keys it made itself. Only
public data crosses between members: signer addresses (the genesis, the registry's first
members), issuer accounts and encryption public keys (the registry), enode URLs and peer
ids (static peering), node URLs (peer gateways). The swarm key is the one shared secret.
Every process is recorded in one PID file; :meth:`Consortium.down` stops them by PID.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any, Final

from eth_account.signers.local import LocalAccount

from certificates.schemas import DOCUMENT_TYPES
from ledger.chains import JsonRpcChain, find_free_ports
from ledger.contracts import load_artifacts
from ledger.deploy import ConsortiumConfig, Deployment, deploy_consortium
from ledger.journal import Journal
from ledger.keystores import signer_from_keystore
from ledger.transactions import TransactionManager
from node.network.addresses import consortium_networks
from node.network.audit import Violation, audit_geth_node, audit_kubo_node, audit_sockets
from node.network.engines import engine_binary
from node.network.errors import ClosedNetworkViolation, NetworkError
from node.network.genesis import clique_genesis
from node.network.geth import (
    IPC_FILE,
    KEYSTORE_DIR,
    NODE_KEY_FILE,
    PASSWORD_FILE,
    STANDARD_SCRYPT_N,
    GethNode,
    GethPorts,
    create_geth_keys,
)
from node.network.geth_ipc import GethIpc
from node.network.kubo import KuboNode, KuboPeer, new_swarm_secret
from node.network.member_node import (
    DocexNode,
    create_node_keys,
    node_readiness,
    node_settings,
)
from node.network.members import DEFAULT_CHAIN_ID, DEFAULT_COUNTRIES, MEMBER_NAMES
from node.network.node_records import (
    RECORDS_FILE,
    NodeRecord,
    add_node_record,
    read_node_records,
    sign_node_record,
)
from node.network.private_files import write_private
from node.network.processes import EngineProcess, PidFile
from node.network.sealing import stall_seconds, wait_for_agreed_block
from node.network.signer_follower import SignerFollower

_log = logging.getLogger(__name__)

STATE_FILE: Final = "network.json"
PID_FILE: Final = "pids.json"
SWARM_SECRET_FILE: Final = "swarm.secret"  # noqa: S105 - a file name
#: the recorded process running every member's signer follower (`docex network follow`)
FOLLOWERS: Final = "followers"
_FOLLOW_ENTRY: Final = "from node.cli.main import app; app()"
#: blocks every signer must hold alike before a network counts as started
STARTED_BLOCKS: Final = 3
#: how many times a fresh network whose Clique stalls at start-up is started again
SEALING_ATTEMPTS: Final = 5
#: geth's --lightkdf strength, for throw-away networks (demos, tests)
LIGHT_SCRYPT_N: Final = 1 << 12
_FUNDING_WEI: Final = 10**24
#: a member host's processes, in the order they are stopped
MEMBER_ENGINES: Final = ("node", "kubo", "geth")
#: what a member keeps of its host when its disks are lost (its key escrow): the secrets
#: it alone holds. Everything else comes back from the chain and the other members.
MEMBER_KEYS: Final = (
    f"geth/{KEYSTORE_DIR}",
    f"geth/{PASSWORD_FILE}",
    f"geth/{NODE_KEY_FILE}",
    "node/keys",
)
#: the Kubo peer's identity (its peer id and private key), kept with the member's keys
KUBO_IDENTITY_FILE: Final = "kubo-identity.json"


@dataclass(frozen=True, slots=True)
class MemberEndpoints:
    """Where one member's engines listen (all on the member's own address)."""

    country: str
    host: str
    geth_p2p: int
    geth_http: int
    geth_authrpc: int
    kubo_swarm: int
    kubo_api: int
    signer: str = ""
    enode: str = ""
    peer_id: str = ""
    #: the member's docex node: its port, issuer account and encryption public key
    node_http: int = 0
    issuer: str = ""
    encryption_key: str = ""

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.geth_http}"

    @property
    def kubo_api_url(self) -> str:
        return f"http://{self.host}:{self.kubo_api}"

    @property
    def node_url(self) -> str:
        return f"http://{self.host}:{self.node_http}"


@dataclass(frozen=True, slots=True)
class EngineStatus:
    member: str
    engine: str
    healthy: bool
    detail: str


class Consortium:
    """The network kept under ``root``: one directory per member, the state, the PIDs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pid_file = PidFile(root / PID_FILE)

    @property
    def state_path(self) -> Path:
        return self.root / STATE_FILE

    def read_state(self) -> dict[str, Any]:
        try:
            state: dict[str, Any] = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NetworkError(f"no network under {self.root}: run `docex network up`") from None
        return state

    def members(self) -> list[MemberEndpoints]:
        return [MemberEndpoints(**member) for member in self.read_state()["members"]]

    def running(self) -> list[str]:
        return [e.name for e in self.pid_file.entries() if e.running()]

    # -- up -------------------------------------------------------------------------------

    def up(
        self,
        countries: Sequence[str] = DEFAULT_COUNTRIES,
        *,
        chain_id: int = DEFAULT_CHAIN_ID,
        block_period: int = 1,
        scrypt_n: int = STANDARD_SCRYPT_N,
        agreements: Sequence[tuple[str, str, str]] = (),
        node_settings: Mapping[str, Any] | None = None,
        first_host: int = 2,
        follow: bool = True,
    ) -> Deployment:
        """Create the network (first time) or start it again, then check it is closed.

        ``agreements`` (verifier, issuer, document type) are recorded at the first
        deployment; ``node_settings`` are extra ``docex run`` settings for every node.
        Members get 127.0.0.<first_host>, the next address, ...; ``follow`` starts the
        members' signer followers (Clique votes and peers follow the registry)."""
        if self.running():
            raise NetworkError(f"the network under {self.root} is already up: {self.running()}")
        try:
            if not self.state_path.exists():
                self._create(countries, chain_id, block_period, scrypt_n, agreements, first_host)
            deployment = self._start(node_settings or {})
            if follow:
                self.start_followers()
            return deployment
        except BaseException:
            self.down()  # Ctrl-C or a failure while starting leaves nothing running
            raise

    def _create(
        self,
        countries: Sequence[str],
        chain_id: int,
        block_period: int,
        scrypt_n: int,
        agreements: Sequence[tuple[str, str, str]],
        first_host: int = 2,
    ) -> None:
        if len(set(countries)) != len(countries) or len(countries) < 2:
            raise NetworkError("a consortium needs two or more distinct members")
        self.root.mkdir(parents=True, exist_ok=True)
        write_private(self.root / SWARM_SECRET_FILE, new_swarm_secret().hex())
        planned = []
        for index, country in enumerate(countries):
            host = f"127.0.0.{index + first_host}"
            member_dir = self.root / country
            # the member makes its own keys; only the public identity leaves its directory
            identity = create_geth_keys(
                member_dir / "geth", secrets.token_urlsafe(24), scrypt_n=scrypt_n
            )
            keys = create_node_keys(
                member_dir / "node", country, member_dir / "geth", kdf_iterations=scrypt_n
            )
            p2p, http, authrpc, swarm, api, node = find_free_ports(6, host)
            planned.append(
                MemberEndpoints(
                    country,
                    host,
                    p2p,
                    http,
                    authrpc,
                    swarm,
                    api,
                    signer=identity.signer,
                    enode=identity.enode(IPv4Address(host), p2p),
                    node_http=node,
                    issuer=keys.issuer,
                    encryption_key=keys.encryption_key,
                )
            )
        genesis = clique_genesis(
            chain_id=chain_id,
            signers=[member.signer for member in planned],
            alloc={
                account: _FUNDING_WEI
                for member in planned
                for account in (member.signer, member.issuer)
            },
            block_period=block_period,
        )
        members = []
        for member in planned:
            kubo = self._kubo(member)
            peer = kubo.init()
            self._geth(member, planned).init(genesis)
            members.append({**asdict(member), "peer_id": peer.peer_id})
        self._write_state(
            {
                "chain_id": chain_id,
                "block_period": block_period,
                "members": members,
                "agreements": [list(agreement) for agreement in agreements],
            }
        )
        for member in planned:
            self.publish_node_record(member.country)

    def _start(self, extra_node_settings: Mapping[str, Any]) -> Deployment:
        state = self.read_state()
        members = self.members()
        geths = [self._geth(member, members) for member in members]
        kubos = [self._kubo(member) for member in members]
        for geth in geths:
            geth.launch()
        peers = {
            m.country: KuboPeer(m.peer_id, (f"/ip4/{m.host}/tcp/{m.kubo_swarm}",)) for m in members
        }
        for member, kubo in zip(members, kubos, strict=True):
            kubo.configure([peer for country, peer in peers.items() if country != member.country])
            kubo.launch()
        for geth in geths:
            geth.wait_ready()
        for kubo in kubos:
            kubo.wait_ready()
        _wait_for_peering(geths, kubos, peers)
        # every signer peered before any seals
        fresh = not (self.root / "chain.json").exists()
        self._start_sealing(geths, kubos, peers, int(state.get("block_period", 1)), fresh)
        allowed = self.allowed()
        violations = [v for geth in geths for v in audit_geth_node(geth)]
        violations += [v for kubo in kubos for v in audit_kubo_node(kubo, allowed)]
        if violations:
            raise ClosedNetworkViolation("; ".join(map(str, violations)))
        deployment_file = self.root / "chain.json"
        if deployment_file.exists():
            deployment = Deployment.read(self.root)
        else:
            agreements = [tuple(a) for a in state.get("agreements", [])]
            deployment = self._deploy(members, int(state["chain_id"]), agreements)
            deployment.write(self.root)
        # a node checks at start that its own geth holds the deployment: every geth must
        # have imported the blocks the first member's geth holds now
        _wait_for_height(geths, geths[0].block_number())
        self._start_nodes(members, deployment, extra_node_settings)
        return deployment

    def _start_sealing(
        self,
        geths: Sequence[GethNode],
        kubos: Sequence[KuboNode],
        peers: dict[str, KuboPeer],
        block_period: int,
        fresh: bool,
    ) -> None:
        """Start every signer sealing and wait until they agree on a few blocks. Clique can
        stall at start-up: two signers seal block 1 at once, two others block 2 on each,
        and every signer has "signed recently" on its own branch (seen under load). A
        fresh network that stalls so, with nothing on it yet, is started again from its
        genesis (:data:`SEALING_ATTEMPTS` times); a network with history is not touched."""
        for attempt in range(1, SEALING_ATTEMPTS + 1):
            start = max(geth.block_number() for geth in geths)
            for geth in geths:
                geth.start_sealing()
            target = start + STARTED_BLOCKS
            # a fresh chain is started again as soon as it stalls; one with history waits
            stalled_after = stall_seconds(block_period) if fresh else None
            timeout = 30.0 + STARTED_BLOCKS * block_period
            if wait_for_agreed_block(geths, target, timeout, stalled_after=stalled_after):
                return
            heads = ", ".join(f"{g.name} at {g.block_number()}" for g in geths)
            if not fresh or attempt == SEALING_ATTEMPTS:
                raise NetworkError(
                    f"the signers did not agree on block {target} ({heads}): Clique stalled; "
                    "see each member's geth/geth.log"
                )
            _log.warning(
                "Clique stalled at start-up; starting the fresh chain again from its genesis",
                extra={"heads": heads, "attempt": attempt},
            )
            genesis = self._genesis()
            for geth in geths:
                geth.stop()
                shutil.rmtree(geth.datadir / "geth", ignore_errors=True)
                geth.init(genesis)
            for geth in geths:
                geth.launch()
            for geth in geths:
                geth.wait_ready()
            _wait_for_peering(geths, kubos, peers)

    def _start_nodes(
        self,
        members: Sequence[MemberEndpoints],
        deployment: Deployment,
        extra: Mapping[str, Any],
    ) -> None:
        """Each member's docex node on its own geth and Kubo, the others' nodes its peers.

        A member host joined later with :meth:`add_member` runs geth and Kubo only."""
        with_nodes = [member for member in members if member.node_http]
        if not with_nodes:
            raise NetworkError(
                f"the network under {self.root} was created without docex nodes (no node "
                "keys or ports): stop it and remove that directory to create a new one"
            )
        nodes = []
        for member in with_nodes:
            # chain.json holds public addresses only: each member copies it in
            deployment.write(self.root / member.country / "node")
            nodes.append(self._node(member, with_nodes, extra))
        for node in nodes:
            node.launch()
        for node in nodes:
            node.wait_ready()
        violations = [
            v
            for member, node in zip(with_nodes, nodes, strict=True)
            for v in audit_member_node(node.pid, member)
        ]
        if violations:
            raise ClosedNetworkViolation("; ".join(map(str, violations)))

    def _deploy(
        self,
        members: Sequence[MemberEndpoints],
        chain_id: int,
        agreements: Sequence[Sequence[str]] = (),
    ) -> Deployment:
        """The registry's first members are the chain's signers, deployed by the first;
        each member's issuer key and encryption key are registered with it."""
        deployer = self._signer_key(members[0].country)
        config = ConsortiumConfig.model_validate(
            {
                "quorum": len(members) // 2 + 1,
                "members": [
                    {
                        "country": m.country,
                        "name": MEMBER_NAMES.get(m.country, f"{m.country} Customs"),
                        "account": m.signer,
                        **_node_keys_config(m),
                    }
                    for m in members
                ],
                "agreements": [
                    {"verifier": verifier, "issuer": issuer, "document_type": document_type}
                    for verifier, issuer, document_type in agreements
                ],
                "document_types": sorted(DOCUMENT_TYPES),
            }
        )
        chain = JsonRpcChain(members[0].rpc_url)
        journal = Journal(self.root / members[0].country / "transactions.sqlite")
        try:
            if chain.chain_id != chain_id:
                raise NetworkError(f"{members[0].rpc_url} is not chain {chain_id}")
            manager = TransactionManager(
                chain, journal, [deployer], poll_interval=0.1, receipt_timeout=120.0
            )
            return deploy_consortium(manager, deployer.address, config, load_artifacts())
        finally:
            journal.close()
            chain.close()

    # -- status, down -------------------------------------------------------------------

    def status(self) -> list[EngineStatus]:
        """Each member's geth, Kubo and docex node: running, answering, peered, ready; or
        why not."""
        members = self.members()
        recorded = {e.name: e for e in self.pid_file.entries()}
        report = []
        for member in members:
            # a member host joined with add_member runs no docex node of its own
            engines = ("geth", "kubo", "node") if member.node_http else ("geth", "kubo")
            for engine in engines:
                entry = recorded.get(f"{member.country}-{engine}")
                if entry is None or not entry.running():
                    report.append(EngineStatus(member.country, engine, False, "not running"))
                    continue
                try:
                    detail = self._probe(member, members, engine)
                except NetworkError as error:  # running, but not answering: say why
                    report.append(EngineStatus(member.country, engine, False, error.message))
                    continue
                report.append(EngineStatus(member.country, engine, True, detail))
        followers = recorded.get(FOLLOWERS)
        if followers is not None:  # `up` started them: say if they died
            alive = followers.running()
            detail = (
                f"PID {followers.pid}" if alive else "not running: the signers no longer follow"
            )
            report.append(EngineStatus("all", FOLLOWERS, alive, detail))
        return report

    def _probe(
        self, member: MemberEndpoints, members: Sequence[MemberEndpoints], engine: str
    ) -> str:
        if engine == "geth":
            geth = self._geth(member, members)
            return f"block {geth.block_number()}, {geth.peer_count()} peers, RPC {member.rpc_url}"
        if engine == "node":
            readiness = node_readiness(member.node_url)
            if not readiness.ready:
                raise NetworkError(readiness.detail)
            return readiness.detail
        kubo = self._kubo(member)
        return f"{len(kubo.connected_peers())} peers, API {member.kubo_api_url}"

    def down(self) -> list[str]:
        """Stop every recorded process by PID; the names of those that were running."""
        return self.pid_file.stop_all()

    def audit(self) -> list[Violation]:
        """The closed-network rules each recorded engine and node breaks (a member host
        stopped or lost is not audited)."""
        members = self.members()
        allowed = self.allowed()
        recorded = {e.name: e.pid for e in self.pid_file.entries()}
        found = [
            v
            for m in members
            if f"{m.country}-geth" in recorded
            for v in audit_geth_node(self._geth(m, members))
        ]
        found += [
            v
            for m in members
            if f"{m.country}-kubo" in recorded
            for v in audit_kubo_node(self._kubo(m), allowed)
        ]
        found += [
            v
            for m in members
            if f"{m.country}-node" in recorded
            for v in audit_member_node(recorded[f"{m.country}-node"], m)
        ]
        return found

    # -- one member's host: stopped, lost, restored, started again -----------------------

    def stop_member(
        self, country: str, *, engines: Sequence[str] = MEMBER_ENGINES, kill: bool = False
    ) -> list[str]:
        """Stop ``country``'s recorded processes by PID, its node first (``kill``: SIGKILL
        at once, as when its host dies); the names of those that were running."""
        return [
            f"{country}-{engine}"
            for engine in MEMBER_ENGINES
            if engine in engines and self.pid_file.stop(f"{country}-{engine}", kill=kill)
        ]

    def save_member_keys(self, country: str, escrow: Path) -> None:
        """Copy ``country``'s secrets (:data:`MEMBER_KEYS` and its Kubo identity) to
        ``escrow``, what the member keeps off its host (mode 0600 files)."""
        member_dir = self.root / self._member(country).country
        for relative in MEMBER_KEYS:
            source, target = member_dir / relative, escrow / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            else:
                shutil.copy2(source, target)
        identity = self.kubo(country).read_config()["Identity"]
        write_private(escrow / KUBO_IDENTITY_FILE, json.dumps(identity))

    def restore_member(self, country: str, escrow: Path) -> None:
        """Make ``country``'s host directory again from its keys alone (a lost host, an
        emptied data directory): the keys from ``escrow``, geth initialised from the
        consortium's genesis (public), Kubo with its own peer identity again. Its chain,
        content and node database come back when it starts (:meth:`start_member`)."""
        member = self._member(country)
        if any(e.name.startswith(f"{country}-") for e in self.pid_file.entries()):
            raise NetworkError(f"{country}'s processes are recorded as running: stop them first")
        member_dir = self.root / country
        if member_dir.exists() and any(member_dir.iterdir()):
            raise NetworkError(f"{member_dir} is not empty: a member is restored into nothing")
        genesis = self._genesis()
        for relative in MEMBER_KEYS:
            source, target = escrow / relative, member_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)
        self._geth(member, self.members()).init(genesis)
        kubo = self._kubo(member)
        kubo.init()
        config = kubo.read_config()
        config["Identity"] = json.loads((escrow / KUBO_IDENTITY_FILE).read_text(encoding="utf-8"))
        write_private(kubo.config_path, json.dumps(config, indent=2))
        if kubo.as_peer().peer_id != member.peer_id:
            raise NetworkError(f"{escrow} does not hold {country}'s Kubo identity")

    def start_member(
        self,
        country: str,
        *,
        engines: Sequence[str] = MEMBER_ENGINES,
        node_settings: Mapping[str, Any] | None = None,
        timeout: float = 180.0,
    ) -> None:
        """Start ``country``'s geth, Kubo and node again (``engines``) while the others run:
        geth peers and syncs the chain from the running members before it seals again,
        Kubo peers, the node starts on its data directory (an empty one rebuilds its index
        from the chain and receives again what was addressed to it). Audited like `up`."""
        member = self._member(country)
        members = self.members()
        running = set(self.running())
        live = [m for m in members if m.country != country and f"{m.country}-geth" in running]
        if "geth" in engines:
            geth = self._geth(member, members)
            geth.start()
            _wait_synced(geth, [self._geth(m, members) for m in live], timeout)
            geth.start_sealing()
            if violations := audit_geth_node(geth):
                raise ClosedNetworkViolation("; ".join(map(str, violations)))
        if "kubo" in engines:
            kubo = self._kubo(member)
            others = [m for m in members if m.country != country]
            kubo.configure(
                [KuboPeer(m.peer_id, (f"/ip4/{m.host}/tcp/{m.kubo_swarm}",)) for m in others]
            )
            kubo.start()
            for other in others:
                if f"{other.country}-kubo" in running:
                    with contextlib.suppress(NetworkError):
                        kubo.connect(
                            KuboPeer(other.peer_id, (f"/ip4/{other.host}/tcp/{other.kubo_swarm}",))
                        )
            if violations := audit_kubo_node(kubo, self.allowed()):
                raise ClosedNetworkViolation("; ".join(map(str, violations)))
        if "node" in engines and member.node_http:
            Deployment.read(self.root).write(self.root / country / "node")
            node = self._node(member, [m for m in members if m.node_http], node_settings or {})
            node.launch()
            node.wait_ready()
            if violations := audit_member_node(node.pid, member):
                raise ClosedNetworkViolation("; ".join(map(str, violations)))

    def _member(self, country: str) -> MemberEndpoints:
        found = next((m for m in self.members() if m.country == country), None)
        if found is None:
            raise NetworkError(f"{country} is not a member host of {self.root}")
        return found

    def _genesis(self) -> dict[str, Any]:
        """The consortium's genesis (public), from any member host that holds it."""
        for member in self.members():
            path = self.root / member.country / "geth" / "genesis.json"
            if path.exists():
                genesis: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
                return genesis
        raise NetworkError(f"no member under {self.root} holds the genesis")

    # -- the members' engines -----------------------------------------------------------

    def geth(self, country: str) -> GethNode:
        members = self.members()
        return self._geth(next(m for m in members if m.country == country), members)

    def kubo(self, country: str) -> KuboNode:
        return self._kubo(next(m for m in self.members() if m.country == country))

    def allowed(self) -> tuple[IPv4Network, ...]:
        return consortium_networks(IPv4Address(m.host) for m in self.members())

    def _geth(self, member: MemberEndpoints, members: Sequence[MemberEndpoints]) -> GethNode:
        hosts = [IPv4Address(m.host) for m in members]
        return GethNode(
            engine_binary("geth"),
            self.root / member.country / "geth",
            host=IPv4Address(member.host),
            ports=GethPorts(member.geth_p2p, member.geth_http, member.geth_authrpc),
            chain_id=self._chain_id(),
            static_nodes=[m.enode for m in members if m.country != member.country],
            allowed=consortium_networks(hosts),
            pid_file=self.pid_file,
            name=f"{member.country}-geth",
            seal_at_start=False,
        )

    def _kubo(self, member: MemberEndpoints) -> KuboNode:
        return KuboNode(
            engine_binary("kubo"),
            self.root / member.country / "kubo",
            host=IPv4Address(member.host),
            swarm_port=member.kubo_swarm,
            api_port=member.kubo_api,
            swarm_secret=bytes.fromhex((self.root / SWARM_SECRET_FILE).read_text()),
            pid_file=self.pid_file,
            name=f"{member.country}-kubo",
        )

    def _node(
        self,
        member: MemberEndpoints,
        members: Sequence[MemberEndpoints],
        extra: Mapping[str, Any],
    ) -> DocexNode:
        node_dir = self.root / member.country / "node"
        settings = node_settings(
            node_dir=node_dir,
            country=member.country,
            host=IPv4Address(member.host),
            port=member.node_http,
            rpc_url=member.rpc_url,
            kubo_url=member.kubo_api_url,
            peers={m.country: m.node_url for m in members if m.country != member.country},
            extra=extra,
        )
        return DocexNode(
            node_dir,
            host=IPv4Address(member.host),
            port=member.node_http,
            settings=settings,
            pid_file=self.pid_file,
            name=f"{member.country}-node",
        )

    # -- governance drives the validators (ADR 0056) -----------------------------------

    @property
    def node_records_path(self) -> Path:
        """The members' signed node records: public, what followers peer by."""
        return self.root / RECORDS_FILE

    def publish_node_record(self, country: str) -> NodeRecord:
        """``country`` signs its geth's enode with its member account (its signer)."""
        member = next(m for m in self.members() if m.country == country)
        record = sign_node_record(
            bytes(self._signer_key(country).key),
            country=country,
            enode=member.enode,
            chain_id=self._chain_id(),
        )
        add_node_record(self.node_records_path, record)
        return record

    def follower(self, country: str) -> SignerFollower:
        """The signer follower of ``country``'s geth (over its IPC socket)."""
        if not any(m.country == country for m in self.members()):
            raise NetworkError(f"{country} is not a member host of {self.root}")
        deployment = Deployment.read(self.root)
        return SignerFollower(
            # its IPC socket only: the follower needs no geth binary of its own
            GethIpc(self.root / country / "geth" / IPC_FILE),
            deployment.consortium_registry,
            lambda: read_node_records(self.node_records_path),
            from_block=deployment.deployed_block,
            name=f"{country}-geth",
        )

    def start_followers(self) -> int:
        """Start ``docex network follow`` for every member, recorded by PID like the engines."""
        code_root = Path(__file__).resolve().parents[2]
        process = EngineProcess(
            FOLLOWERS,
            [sys.executable, "-c", _FOLLOW_ENTRY, "network", "follow", "--root", str(self.root)],
            # the follower runs the very docex code that started it
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(code_root)},
            log_file=self.root / "followers.log",
            pid_file=self.pid_file,
        )
        return process.start()

    def add_member(
        self, country: str, *, host: str, scrypt_n: int = STANDARD_SCRYPT_N
    ) -> MemberEndpoints:
        """A new member's host joins this machine: its own keys, geth (not a signer until
        the registry admits it and the signers vote it in) and Kubo, and its signed node
        record. The others refuse its peering until the registry lists it."""
        state = self.read_state()
        if any(m.country == country for m in self.members()):
            raise NetworkError(f"{country} is already a member host of {self.root}")
        first = self.members()[0]
        genesis = json.loads((self.root / first.country / "geth" / "genesis.json").read_text())
        identity = create_geth_keys(
            self.root / country / "geth", secrets.token_urlsafe(24), scrypt_n=scrypt_n
        )
        p2p, http, authrpc, swarm, api = find_free_ports(5, host)
        member = MemberEndpoints(
            country, host, p2p, http, authrpc, swarm, api,
            signer=identity.signer, enode=identity.enode(IPv4Address(host), p2p),
        )  # fmt: skip
        members = [*self.members(), member]
        kubo = self._kubo(member)
        peer = kubo.init()
        self._geth(member, members).init(genesis)
        state["members"] = [*state["members"], {**asdict(member), "peer_id": peer.peer_id}]
        self._write_state(state)
        self.publish_node_record(country)
        members = self.members()
        geth = self._geth(members[-1], members)
        geth.start()
        geth.start_sealing()  # it seals once voted in; until then geth reports it may not
        kubo.configure(
            [
                KuboPeer(m.peer_id, (f"/ip4/{m.host}/tcp/{m.kubo_swarm}",))
                for m in members
                if m.country != country
            ]
        )
        kubo.start()
        return members[-1]

    def _signer_key(self, country: str) -> LocalAccount:
        datadir = self.root / country / "geth"
        return signer_from_keystore(
            next((datadir / KEYSTORE_DIR).glob("*.json")), (datadir / PASSWORD_FILE).read_text()
        )

    def _chain_id(self) -> int:
        return int(self.read_state()["chain_id"]) if self.state_path.exists() else 0

    def _write_state(self, state: dict[str, Any]) -> None:
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        temporary.replace(self.state_path)


def _node_keys_config(member: MemberEndpoints) -> dict[str, Any]:
    """The registry entries of a member's node keys: its issuer key for every document
    type docex knows, its encryption public key (both public values it published)."""
    if not member.issuer:
        return {}
    return {
        "encryption_key": member.encryption_key,
        "issuer_keys": [
            {"account": member.issuer, "document_type": document_type}
            for document_type in sorted(DOCUMENT_TYPES)
        ],
    }


def audit_member_node(pid: int | None, member: MemberEndpoints) -> list[Violation]:
    """A member's docex node listens on the member's address only and reaches only
    loopback (its geth, its Kubo, the other members' nodes)."""
    if pid is None:
        return []
    return audit_sockets(
        pid,
        bind_to=consortium_networks([IPv4Address(member.host)]),
        process=f"{member.country}-node",
    )


def _wait_for_peering(
    geths: Sequence[GethNode],
    kubos: Sequence[KuboNode],
    peers: dict[str, KuboPeer],
    timeout: float = 60.0,
) -> None:
    """Until every geth and every Kubo is connected to all the other members.

    Kubo's Peering dials again only after a back-off, so missing peers are dialled
    explicitly (a failed dial is retried on the next round, not fatal).
    """
    deadline = time.monotonic() + timeout
    while True:
        missing = []
        for geth in geths:
            if (count := geth.peer_count()) < len(geths) - 1:
                missing.append(f"{geth.name}: {count} peers")
        for kubo in kubos:
            connected = {*kubo.connected_peers(), kubo.as_peer().peer_id}
            absent = [peer for peer in peers.values() if peer.peer_id not in connected]
            for peer in absent:
                with contextlib.suppress(NetworkError):
                    kubo.connect(peer)
            if absent:
                missing.append(f"{kubo.name}: {len(absent)} peers missing")
        if not missing:
            return
        if time.monotonic() > deadline:
            raise NetworkError(f"members not peered after {timeout} s: {'; '.join(missing)}")
        time.sleep(0.5)


def _wait_for_height(geths: Sequence[GethNode], height: int, timeout: float = 60.0) -> None:
    """Until every geth's head is at least ``height``."""
    deadline = time.monotonic() + timeout
    while behind := [g.name for g in geths if g.block_number() < height]:
        if time.monotonic() > deadline:
            raise NetworkError(f"not at block {height} after {timeout} s: {', '.join(behind)}")
        time.sleep(0.2)


def _wait_synced(geth: GethNode, peers: Sequence[GethNode], timeout: float) -> None:
    """Until ``geth`` holds the block the running ``peers`` were at when asked (the same
    hash): a signer that seals before it has synced would fork the chain."""
    if not peers:
        return
    target, leader = max((peer.block_number(), index) for index, peer in enumerate(peers))
    if not wait_for_agreed_block([geth, peers[leader]], target, timeout):
        raise NetworkError(f"{geth.name} has not synced block {target} after {timeout} s")


def wait_for_blocks(consortium: Consortium, count: int, timeout: float = 60.0) -> int:
    """The first member's block number once it is at least ``count``."""
    first = consortium.geth(consortium.members()[0].country)
    deadline = time.monotonic() + timeout
    while (number := first.block_number()) < count:
        if time.monotonic() > deadline:
            raise NetworkError(f"block {number} after {timeout} s")
        time.sleep(0.2)
    return number
