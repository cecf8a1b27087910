"""The batches an issuer anchored, read from the chain's own logs.

What the fault scenarios count documents against (`make soak`, the network's fault
tests): plain ``eth_getLogs`` on the DocumentRegistry, from its deployment block, never
a node's index or database. A route (``RouteRegistered``) names the issuer account of
every batch anchored on it (``BatchAnchored``).
"""

from __future__ import annotations

from ledger import ContractBinding, Deployment, JsonRpcChain, load_artifacts
from ledger.indexer import split_route_and_count

#: blocks per eth_getLogs request
_PAGE = 5000


def anchored_batches(rpc_url: str, deployment: Deployment, issuer: str) -> list[tuple[bytes, int]]:
    """(root, document count) of every batch ``issuer`` anchored, in chain order (a root
    anchored twice is listed twice)."""
    registry = ContractBinding(load_artifacts()["DocumentRegistry"], deployment.document_registry)
    chain = JsonRpcChain(rpc_url)
    try:
        head = int(chain.request("eth_blockNumber"), 16)
        routes: dict[int, str] = {}
        anchored: list[tuple[bytes, int, int]] = []
        for start in range(deployment.deployed_block, head + 1, _PAGE):
            logs = chain.request(
                "eth_getLogs",
                [
                    {
                        "fromBlock": hex(start),
                        "toBlock": hex(min(start + _PAGE - 1, head)),
                        "address": registry.address,
                    }
                ],
            )
            for log in logs:
                topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
                data = bytes.fromhex(log["data"][2:])
                codec = registry.abi.event_of(topics, data)
                if codec is None:
                    continue
                arguments = codec.decode(topics, data)
                if codec.name == "RouteRegistered":
                    routes[int(arguments["routeId"])] = str(arguments["issuer"]).lower()
                elif codec.name == "BatchAnchored":
                    route, count = split_route_and_count(arguments["routeAndCount"])
                    anchored.append((bytes(arguments["root"]), route, count))
    finally:
        chain.close()
    return [(root, count) for root, route, count in anchored if routes.get(route) == issuer.lower()]
