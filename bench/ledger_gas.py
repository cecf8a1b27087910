"""Ledger gas benchmark (issue 3, part 4): gas per anchored document, docex vs OpenAttestation.

One anvil runs both sides: our ConsortiumRegistry + DocumentRegistry (from the checked-in
artifacts) and OpenAttestation's DocumentStore (bytecode and ABI from the typechain factory
that npm ``@govtechsg/document-store`` ships). For batches of 1, 10, 100 and 1,000 documents
each side anchors the batch's Merkle root in one transaction (ours: ``anchor(root, type,
count, addressees)`` by an authorised issuer key; OA: ``issue(root)`` by the store owner)
and the receipt's ``gasUsed`` is divided by the batch size. Steady state is reported (the
issuer's route - type + addressees - already registered); the one-off cost of a new route
and the relayed ``anchorSigned`` path are reported next to it. Results go to
bench/results/ledger.json.

Run: ``python -m bench.ledger_gas`` (needs ``make setup`` and ``cd bench && npm ci``).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import Wei

from certificates.keccak import keccak256
from certificates.merkle import DocumentTerms, MerkleTree
from certificates.signing import BatchAnchor, Eip712Domain, sign_batch_anchor

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
RESULTS = ROOT / "results" / "ledger.json"
ANVIL = REPO / "node_modules" / ".bin" / "anvil"
BUILD = REPO / "contracts" / "build"
OA_FACTORY = (
    ROOT
    / "node_modules/@govtechsg/document-store/dist/contracts/factories/contracts"
    / "DocumentStore__factory.js"
)
BATCH_SIZES = (1, 10, 100, 1_000)
REPEATS = 3
TARGET_RATIO = 1.0
DOCUMENT_TYPE = "coo/1"
ADDRESSEES = (b"SG", b"TH")
GAS = 12_000_000
GAS_PRICE = 2 * 10**9

# The typechain factory is JavaScript (object literals, not JSON): node evaluates the ABI
# literal in an empty context, without loading ethers (which the package does not bundle).
_EXTRACT_OA = r"""
const fs = require("fs"), vm = require("vm");
const source = fs.readFileSync(process.argv[1], "utf8");
const abi = vm.runInNewContext(source.match(/const _abi = (\[[\s\S]*?\]);\nconst _bytecode/)[1]);
const bytecode = source.match(/const _bytecode = "(0x[0-9a-fA-F]+)"/)[1];
process.stdout.write(JSON.stringify({ abi, bytecode }));
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _anvil() -> Iterator[Web3]:
    port = _free_port()
    process = subprocess.Popen(
        [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
        deadline = time.monotonic() + 30
        while not w3.is_connected():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("anvil did not start")
            time.sleep(0.05)
        yield w3
    finally:
        process.terminate()
        process.wait(timeout=10)


class _Sender:
    """Signs locally and sends raw, one account at a time."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3

    def fund(self, *accounts: LocalAccount) -> None:
        for account in accounts:
            tx = self.w3.eth.send_transaction(
                {"from": self.w3.eth.accounts[0], "to": account.address, "value": Wei(10**20)}
            )
            self.w3.eth.wait_for_transaction_receipt(tx)

    def send(self, sender: LocalAccount, call: Any) -> Any:
        tx = call.build_transaction(
            {
                "from": sender.address,
                "nonce": self.w3.eth.get_transaction_count(sender.address, "pending"),
                "gas": GAS,
                "gasPrice": GAS_PRICE,
                "chainId": self.w3.eth.chain_id,
            }
        )
        tx_hash = self.w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise RuntimeError(f"{call.fn_name} reverted")
        return receipt

    def deploy(self, sender: LocalAccount, abi: Any, bytecode: str, *args: Any) -> Any:
        factory = self.w3.eth.contract(abi=abi, bytecode=bytecode)
        receipt = self.send(sender, factory.constructor(*args))
        return self.w3.eth.contract(address=receipt["contractAddress"], abi=abi)


def _artifact(name: str) -> dict[str, Any]:
    return json.loads((BUILD / f"{name}.json").read_text())  # type: ignore[no-any-return]


def _oa_document_store() -> dict[str, Any]:
    out = subprocess.run(
        ["node", "-e", _EXTRACT_OA, str(OA_FACTORY)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def _root(size: int) -> bytes:
    return MerkleTree.build([os.urandom(32) for _ in range(size)]).root


def measure() -> dict[str, Any]:
    with _anvil() as w3:
        chain = _Sender(w3)
        deployer, vn_account, sg_account, issuer, relayer = (Account.create() for _ in range(5))
        chain.fund(deployer, issuer, relayer, sg_account)
        coo = keccak256(DOCUMENT_TYPE.encode())
        consortium_art = _artifact("ConsortiumRegistry")
        registry_art = _artifact("DocumentRegistry")
        consortium = chain.deploy(
            deployer,
            consortium_art["abi"],
            consortium_art["bytecode"],
            [
                (b"VN", "VN", vn_account.address, b"\0" * 32),
                (b"SG", "SG", sg_account.address, b"\0" * 32),
            ],
            [(1, issuer.address, coo)],
            [],
            (1, 2, 100_000),
        )
        registry = chain.deploy(
            deployer, registry_art["abi"], registry_art["bytecode"], consortium.address
        )
        oa = _oa_document_store()
        store = chain.deploy(deployer, oa["abi"], oa["bytecode"], "docex bench", deployer.address)

        def anchor_with_route(size: int) -> int:
            call = registry.functions.anchorWithRoute(
                _root(size), DOCUMENT_TYPE, size, list(ADDRESSEES)
            )
            return int(chain.send(issuer, call)["gasUsed"])

        def issue() -> int:
            return int(chain.send(deployer, store.functions.issue(_root(1)))["gasUsed"])

        first_route = anchor_with_route(1)
        route_id = registry.functions.routeOf(issuer.address, coo, list(ADDRESSEES)).call()
        full_form = statistics.median(anchor_with_route(10) for _ in range(REPEATS))

        def anchor(size: int) -> int:
            call = registry.functions.anchor(_root(size), route_id, size)
            return int(chain.send(issuer, call)["gasUsed"])

        domain = Eip712Domain(chain_id=w3.eth.chain_id, verifying_contract=registry.address)
        signed_gas = []
        for _ in range(REPEATS):
            root = _root(10)
            signature = sign_batch_anchor(
                issuer.key,
                domain,
                BatchAnchor(root, DOCUMENT_TYPE, 10, tuple(a.decode() for a in ADDRESSEES)),
            )
            call = registry.functions.anchorSigned(
                root, DOCUMENT_TYPE, 10, list(ADDRESSEES), signature
            )
            signed_gas.append(int(chain.send(relayer, call)["gasUsed"]))

        # the cost moved from the anchor to the use: SG proves its own addressee terms
        terms = DocumentTerms(tuple(a.decode() for a in ADDRESSEES), 10)
        targets = [os.urandom(32) for _ in range(1_000)]
        tree = MerkleTree.build_with_terms([(t, terms) for t in targets])
        chain.send(issuer, registry.functions.anchor(tree.root, route_id, 1_000))
        use_gas = []
        for index in range(REPEATS):
            call = registry.functions.recordUse(
                tree.root,
                targets[index],
                list(tree.proof(index)),
                list(ADDRESSEES),
                terms.allowance,
                os.urandom(32),
                1,
            )
            use_gas.append(int(chain.send(sg_account, call)["gasUsed"]))

        batches = []
        for size in BATCH_SIZES:
            ours = statistics.median(anchor(size) for _ in range(REPEATS))
            theirs = statistics.median(issue() for _ in range(REPEATS))
            batches.append(
                {
                    "documents": size,
                    "docex_anchor_gas": ours,
                    "docex_gas_per_document": ours / size,
                    "oa_issue_gas": theirs,
                    "oa_gas_per_document": theirs / size,
                    "ratio": round(ours / theirs, 3),
                }
            )
        anvil_version = subprocess.run(
            [str(ANVIL), "--version"], check=True, capture_output=True, text=True
        ).stdout.strip()
    worst = max(b["ratio"] for b in batches)
    return {
        "benchmark": "ledger gas per anchored document",
        "chain": anvil_version.splitlines()[0] if anvil_version else "anvil",
        "compiler": registry_art["compiler"],
        "peer": "OpenAttestation DocumentStore 3.0.0 issue(bytes32)",
        "docex_call": "DocumentRegistry.anchor(root, routeId, count): direct, on the issuer"
        " key's registered route ('coo/1' to ['SG','TH'])",
        "target_applies_to": "the direct anchor path only (ADR 0021)",
        "repeats_median_of": REPEATS,
        "batches": batches,
        "docex_first_anchor_on_new_route_gas": first_route,
        "docex_anchor_with_route_on_registered_route_gas": full_form,
        "docex_anchor_signed_by_relayer_gas": statistics.median(signed_gas),
        "docex_first_use_with_terms_proof_in_1000_batch_gas": statistics.median(use_gas),
        "target_ratio": TARGET_RATIO,
        "worst_ratio": worst,
        "target_met": worst <= TARGET_RATIO,
    }


def main() -> int:
    result = measure()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print("direct anchor(root, routeId, count) on a registered route vs OA issue(root):")
    print(f"{'docs':>6} {'docex gas/doc':>14} {'OA gas/doc':>12} {'ratio':>6}")
    for b in result["batches"]:
        print(
            f"{b['documents']:>6} {b['docex_gas_per_document']:>14.1f}"
            f" {b['oa_gas_per_document']:>12.1f} {b['ratio']:>6.3f}"
        )
    print(
        "for information (the target is for the direct path only):"
        f" first batch on a new route (anchorWithRoute):"
        f" {result['docex_first_anchor_on_new_route_gas']} gas;"
        f" anchorWithRoute on a registered route:"
        f" {result['docex_anchor_with_route_on_registered_route_gas']} gas;"
        f" relayed (anchorSigned): {result['docex_anchor_signed_by_relayer_gas']} gas;"
        f" first use proving its own terms in a batch of 1,000 (recordUse):"
        f" {result['docex_first_use_with_terms_proof_in_1000_batch_gas']} gas"
    )
    print(
        f"direct anchor target <= {TARGET_RATIO}x OA: "
        f"{'met' if result['target_met'] else 'NOT met'} (worst ratio {result['worst_ratio']})"
    )
    return 0 if result["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
