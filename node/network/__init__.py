"""The consortium network's engines: geth Clique signers and Kubo peers, closed by construction.

Building blocks of `docex network`: the genesis builder, the launchers (each engine
bound to its member's address, peering only with the members it is given), the PID
file every started process is recorded in, and the auditor of the closed-network rules.
"""

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
from node.network.engines import engine_binary
from node.network.errors import (
    ClosedNetworkViolation,
    EngineNotBuilt,
    EngineStartFailed,
    NetworkError,
)
from node.network.genesis import clique_extra_data, clique_genesis, clique_signers
from node.network.geth import GethIdentity, GethNode, GethPorts, create_geth_keys
from node.network.kubo import (
    KuboNode,
    KuboPeer,
    closed_kubo_config,
    new_swarm_secret,
    swarm_key_text,
)
from node.network.processes import EngineProcess, PidFile, RecordedProcess

__all__ = [
    "ClosedNetworkViolation",
    "EngineNotBuilt",
    "EngineProcess",
    "EngineStartFailed",
    "GethIdentity",
    "GethNode",
    "GethPorts",
    "KuboNode",
    "KuboPeer",
    "NetworkError",
    "PidFile",
    "RecordedProcess",
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
    "swarm_key_text",
    "within",
]
