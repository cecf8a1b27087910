"""Which chain and content store a node runs on, and in which profile: the choices
settings offer.

A module of its own so that command-line options can name them without loading the
settings machinery.
"""

from __future__ import annotations

from enum import StrEnum


class ChainKind(StrEnum):
    #: anvil started and stopped by the node, its state in ``<data dir>/anvil``
    ANVIL = "anvil"
    #: any JSON-RPC endpoint (``rpc_url``): Besu, Geth, ganache, an anvil of one's own
    RPC = "rpc"
    #: py-evm in process: tests and demos, nothing persists
    ETH_TESTER = "eth-tester"


class StoreKind(StrEnum):
    #: the node's own Kubo-compatible blockstore in ``<data dir>/content``
    EMBEDDED = "embedded"
    #: a Kubo daemon or an IPFS Cluster proxy, by RPC URL (``kubo_url``)
    KUBO = "kubo"


class Profile(StrEnum):
    """What the node is run for; ``production`` refuses everything made for the others."""

    #: ``make run`` and the demo: the dev consortium and the managed anvil are allowed
    DEV = "dev"
    #: the test suite and ``make soak``: as ``dev``, plus the crash hook
    TEST = "test"
    #: a member's real node: no dev consortium, no managed anvil or in-process chain, no
    #: crash hook; the node refuses to start with any of them
    PRODUCTION = "production"
