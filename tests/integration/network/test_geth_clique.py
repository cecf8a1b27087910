"""A Clique consortium chain of three geth signers, each a member's own, closed to the world."""

from __future__ import annotations

import time
from pathlib import Path

from ledger.chains import JsonRpcChain
from ledger.contracts import load_artifacts
from ledger.deploy import ConsortiumConfig, deploy_consortium
from ledger.index_store import open_index
from ledger.indexer import EventIndexer, WatchedContract
from ledger.journal import Journal
from ledger.keystores import signer_from_keystore
from ledger.transactions import TransactionManager
from node.network import audit_geth, audit_geth_node, clique_signers
from node.network.geth import KEYSTORE_DIR, PASSWORD_FILE, GethNode

from .conftest import CHAIN_ID, CliqueNetwork


def wait_for_block(node: GethNode, number: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while (current := node.block_number()) < number:
        assert time.monotonic() < deadline, f"block {current} after {timeout} s, not {number}"
        time.sleep(0.2)
    return current


def test_three_signers_peer_statically_and_seal_blocks(clique_network: CliqueNetwork) -> None:
    first = clique_network.nodes[0]
    wait_for_block(first, 4)
    for node in clique_network.nodes:
        assert node.peer_count() == 2
    signers = {node.identity.signer for node in clique_network.nodes}
    lowered = {signer.lower() for signer in signers}
    assert {str(s).lower() for s in first.rpc("clique_getSigners", ["latest"])} == lowered
    # every member sealed: Clique lets one signer seal at most one of any two blocks
    sealers = {first.rpc("clique_getSigner", [hex(number)]).lower() for number in range(1, 5)}
    assert len(sealers) >= 2
    assert sealers <= lowered
    extra = bytes.fromhex(first.rpc("eth_getBlockByNumber", ["0x0", False])["extraData"][2:])
    assert set(clique_signers(extra)) == signers


def test_every_geth_started_keeps_to_the_closed_network(clique_network: CliqueNetwork) -> None:
    wait_for_block(clique_network.nodes[0], 2)
    for node in clique_network.nodes:
        assert node.pid is not None
        assert audit_geth_node(node) == []
        # and the same node is caught the moment it listens beyond the consortium
        wide = [*node.command(), "--port", "30303"]
        assert [
            v.rule for v in audit_geth(wide, node.config_path.read_text(), allowed=node.allowed)
        ] == ["geth.listen"]


def test_the_docex_contracts_deploy_on_the_clique_chain(
    clique_network: CliqueNetwork, tmp_path: Path
) -> None:
    nodes = clique_network.nodes
    wait_for_block(nodes[0], 1)
    member_datadir = nodes[0].datadir
    deployer = signer_from_keystore(
        next((member_datadir / KEYSTORE_DIR).glob("*.json")),
        (member_datadir / PASSWORD_FILE).read_text(),
    )
    chain = JsonRpcChain(nodes[0].rpc_url)
    assert chain.chain_id == CHAIN_ID
    config = ConsortiumConfig.model_validate(
        {
            "quorum": 2,
            "members": [
                {"country": country, "name": f"{country} Customs", "account": node.identity.signer}
                for country, node in zip(("VN", "KR", "SG"), nodes, strict=True)
            ],
        }
    )
    artifacts = load_artifacts()
    journal = Journal(tmp_path / "journal.sqlite")
    manager = TransactionManager(
        chain, journal, [deployer], poll_interval=0.1, receipt_timeout=60.0
    )
    deployment = deploy_consortium(manager, deployer.address, config, artifacts)
    # every member's node sees the contracts: the blocks reached the other signers
    other = JsonRpcChain(nodes[2].rpc_url)
    wait_for_block(nodes[2], deployment.deployed_block)
    assert other.request("eth_getCode", [deployment.document_registry, "latest"]) not in (
        "0x",
        "",
    )
    # and another member's node indexes the registry's events from its own geth
    engine = open_index(tmp_path / "index.sqlite")
    indexer = EventIndexer(
        other,
        engine,
        [
            WatchedContract(
                "ConsortiumRegistry",
                deployment.consortium_registry,
                artifacts["ConsortiumRegistry"].abi,
            )
        ],
        start_block=deployment.deployed_block,
    )
    assert indexer.sync().events >= 3  # the three first members, admitted at deployment
    engine.dispose()
    chain.close()
    other.close()
    journal.close()
