"""The consortium network's engines: geth Clique signers and Kubo peers, closed by construction.

Building blocks of `docex network`: the genesis builder, the launchers (each engine
bound to its member's address, peering only with the members it is given), the PID
file every started process is recorded in, and the auditor of the closed-network rules.

The names below load their module on first use: `docex --help` and the light commands
register `docex network` without paying for eth-account, httpx and the ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from certificates.lazy_names import lazy_names

if TYPE_CHECKING:
    from node.network.addresses import consortium_networks, outside_loopback, within
    from node.network.audit import (
        Violation,
        audit_geth,
        audit_geth_node,
        audit_kubo,
        audit_kubo_node,
        audit_sockets,
        process_sockets,
    )
    from node.network.docker_consortium import write_docker_consortium
    from node.network.engines import engine_binary
    from node.network.errors import (
        ClosedNetworkViolation,
        EngineNotBuilt,
        EngineStartFailed,
        NetworkError,
    )
    from node.network.genesis import clique_extra_data, clique_genesis, clique_signers
    from node.network.geth import GethIdentity, GethNode, GethPorts, create_geth_keys
    from node.network.geth_ipc import GethIpc
    from node.network.kubo import (
        KuboNode,
        KuboPeer,
        closed_kubo_config,
        new_swarm_secret,
        swarm_key_text,
    )
    from node.network.node_records import NodeRecord, read_node_records, sign_node_record
    from node.network.processes import EngineProcess, PidFile, RecordedProcess
    from node.network.signer_follower import SignerFollower

_EXPORTS: dict[str, str] = {
    "ClosedNetworkViolation": "node.network.errors",
    "EngineNotBuilt": "node.network.errors",
    "EngineProcess": "node.network.processes",
    "EngineStartFailed": "node.network.errors",
    "GethIdentity": "node.network.geth",
    "GethIpc": "node.network.geth_ipc",
    "GethNode": "node.network.geth",
    "GethPorts": "node.network.geth",
    "KuboNode": "node.network.kubo",
    "KuboPeer": "node.network.kubo",
    "NetworkError": "node.network.errors",
    "NodeRecord": "node.network.node_records",
    "PidFile": "node.network.processes",
    "RecordedProcess": "node.network.processes",
    "SignerFollower": "node.network.signer_follower",
    "Violation": "node.network.audit",
    "audit_geth": "node.network.audit",
    "audit_geth_node": "node.network.audit",
    "audit_kubo": "node.network.audit",
    "audit_kubo_node": "node.network.audit",
    "audit_sockets": "node.network.audit",
    "clique_extra_data": "node.network.genesis",
    "clique_genesis": "node.network.genesis",
    "clique_signers": "node.network.genesis",
    "closed_kubo_config": "node.network.kubo",
    "consortium_networks": "node.network.addresses",
    "create_geth_keys": "node.network.geth",
    "engine_binary": "node.network.engines",
    "new_swarm_secret": "node.network.kubo",
    "outside_loopback": "node.network.addresses",
    "process_sockets": "node.network.audit",
    "read_node_records": "node.network.node_records",
    "sign_node_record": "node.network.node_records",
    "swarm_key_text": "node.network.kubo",
    "within": "node.network.addresses",
    "write_docker_consortium": "node.network.docker_consortium",
}


__getattr__ = lazy_names(__name__, _EXPORTS)


__all__ = [
    "ClosedNetworkViolation",
    "EngineNotBuilt",
    "EngineProcess",
    "EngineStartFailed",
    "GethIdentity",
    "GethIpc",
    "GethNode",
    "GethPorts",
    "KuboNode",
    "KuboPeer",
    "NetworkError",
    "NodeRecord",
    "PidFile",
    "RecordedProcess",
    "SignerFollower",
    "Violation",
    "audit_geth",
    "audit_geth_node",
    "audit_kubo",
    "audit_kubo_node",
    "audit_sockets",
    "clique_extra_data",
    "clique_genesis",
    "clique_signers",
    "closed_kubo_config",
    "consortium_networks",
    "create_geth_keys",
    "engine_binary",
    "new_swarm_secret",
    "outside_loopback",
    "process_sockets",
    "read_node_records",
    "sign_node_record",
    "swarm_key_text",
    "within",
    "write_docker_consortium",
]
