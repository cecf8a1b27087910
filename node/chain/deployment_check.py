"""Before a node of a real consortium starts: is its chain.json's deployment on its chain?

A node pointed at the wrong chain (another chain id, or a chain where nothing was
deployed at those addresses, e.g. a fresh geth or anvil) would index nothing and anchor
nowhere; it refuses to start instead, saying which of the two it is.
"""

from __future__ import annotations

from ledger import Chain, Deployment
from node.chain.ledger_link import LedgerLink
from node.errors import DeploymentNotOnChain


def check_deployment_on_chain(ledger: LedgerLink, chain_url: str) -> None:
    """:class:`DeploymentNotOnChain` unless the chain has our chain id, both registries'
    code at the recorded addresses, and a DocumentRegistry bound to that ConsortiumRegistry."""
    chain: Chain = ledger.chain
    deployment: Deployment = ledger.deployment
    found = chain.chain_id
    if found != deployment.chain_id:
        raise DeploymentNotOnChain(
            f"the chain at {chain_url} is chain {found}, but this node's chain.json is for "
            f"chain {deployment.chain_id}: point it at its consortium's chain (DOCEX_RPC_URL)"
        )
    for name, address in (
        ("ConsortiumRegistry", deployment.consortium_registry),
        ("DocumentRegistry", deployment.document_registry),
    ):
        code = chain.request("eth_getCode", [address, "latest"])
        if not isinstance(code, str) or code in ("0x", "0x0", ""):
            raise DeploymentNotOnChain(
                f"the chain at {chain_url} (chain {found}) has no {name} at {address}: it "
                "does not hold this node's consortium (chain.json); point the node at the "
                "consortium's chain, or deploy it there first (docex chain deploy)"
            )
    (bound,) = ledger.documents.call(chain, "consortium")
    bound = str(bound)
    if bound.lower() != deployment.consortium_registry.lower():
        raise DeploymentNotOnChain(
            f"the DocumentRegistry at {deployment.document_registry} on {chain_url} belongs "
            f"to the ConsortiumRegistry {bound}, not to this node's "
            f"{deployment.consortium_registry}"
        )
