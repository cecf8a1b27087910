"""Partition 3:1, then healed: the minority's block is reorged away, nothing is lost.

Four geth Clique signers (:mod:`bench.soak.clique`, one second a block); a ``docex run``
node anchors through the fourth signer's RPC, the one that will be cut off. Clique lets
a signer seal one block in any floor(N/2)+1 = 3: three signers seal on without the
fourth, and the fourth alone seals at most one block before "signed recently" stops it
(a 2:2 split stalls both halves the same way). So the minority signer first stops
sealing for three blocks (its next block is then allowed), is cut off (restarted with no
static peers on a port the others do not know), receives the node's anchors and seals
its one block with them, then stalls. Meanwhile a second issuer key (KR's, from the dev
consortium) anchors a root on the minority only, while the same nonce is spent by
another transaction on the majority: that root can never come back.

Healed (the signer restarted with its peers), the minority block loses to the majority's
longer chain; geth puts its transactions back in the pool and they are mined again (or
the node's anchor keeper re-sends them from its journal). Checked: the node's event
index follows the reorg, every accepted document ends anchored exactly once on the
canonical chain (the chain's own logs), the documents the reorged block carried are
anchored again in another block, the receipts name the canonical block, and the node's
verdict on the root only the minority anchored is not green.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount

from bench.soak.chain_audit import audit_anchors
from bench.soak.clique import CliqueChain
from bench.soak.issuing import SMALL_BATCHES, anchored_receipts, issue
from bench.soak.processes import NodeProcess
from bench.soak.results import ScenarioResult, SoakContext
from certificates.schemas import validate_document
from certificates.schemas.samples import sample_document
from certificates.signing import Eip712Domain
from certificates.wrapping import wrap_batch
from ledger import ContractBinding, Deployment, JsonRpcChain, load_artifacts
from ledger.contracts import anchor_request
from node.consortium.member_keys import keystore_path, load_or_create_key
from node.runtime import read_issuer_key
from node.settings import NodeSettings

TITLE = "Partition 3:1, then healed (the minority's block reorged away)"
DOCUMENTS_PER_REQUEST = 20
MINORITY = 3  # the index of the signer cut off, the one the node anchors through
_kr_numbers = itertools.count(9_000_001)


def run(context: SoakContext) -> ScenarioResult:
    result = ScenarioResult("partition", TITLE)
    started = time.monotonic()
    trials = context.trials(3, 2)
    home = context.workdir / "partition"
    chain = CliqueChain(home / "chain")
    node: NodeProcess | None = None
    tally: dict[str, Any] = {
        "minority_blocks": 0,
        "majority_blocks_during_partition": 0,
        "reorged_blocks": 0,
        "documents_in_reorged_blocks": 0,
        "re_anchored_documents": 0,
        "receipts_naming_a_reorged_block": 0,
        "receipts_read_anchor_lost_meanwhile": 0,
        "reorged_documents_green_after_heal": 0,
        "minority_only_roots": 0,
        "minority_only_roots_anchored_on_the_minority_side": 0,
        "minority_only_roots_green_after_heal": 0,
        "minority_only_roots_on_canonical_chain": 0,
        "heal_seconds_max": 0.0,
    }
    accepted: list[str] = []
    try:
        chain.start()
        context.log(f"4 signers on {', '.join(map(str, chain.hosts))}; node on signer 3")
        data_dir = home / "vn"
        node = NodeProcess(
            data_dir,
            ["--chain", "rpc", "--rpc-url", chain.nodes[MINORITY].rpc_url],
            SMALL_BATCHES,
        )
        token = node.sample_token()
        with httpx.Client(base_url=node.base, timeout=60) as client:
            accepted += _issue(client, token, result)
            _wait_anchored(node, accepted, result)
            for trial in range(trials):
                accepted += _trial(context, chain, node, client, token, data_dir, tally, result)
                context.log(
                    f"trial {trial + 1}/{trials}: {tally['documents_in_reorged_blocks']} "
                    f"documents in reorged blocks so far, "
                    f"{tally['re_anchored_documents']} anchored again"
                )
            final = chain.wait_same_head()
        canonical = audit_anchors(chain.nodes[0].rpc_url, data_dir, accepted)
        on_minority = audit_anchors(chain.nodes[MINORITY].rpc_url, data_dir, accepted)
        flagged = node.log_count("anchor lost")
    finally:
        if node is not None:
            node.interrupt()
        chain.stop()
    result.figures = {
        "signers": len(chain.nodes),
        "split": "3:1",
        "block_period_seconds": chain.block_period,
        "partitions": trials,
        **canonical.figures(),
        **tally,
        "heal_seconds_max": round(tally["heal_seconds_max"], 2),
        "batches_flagged_anchor_lost_meanwhile": flagged,
        "minority_signer_log_audit_agrees": on_minority == canonical,
        "final_head": final.number,
        "closed_network_violations": len(chain.violations),
        "chain_starts_abandoned_stalled": chain.restarts_at_start,
    }
    result.notes += chain.violations
    holds = (
        canonical.holds
        and on_minority == canonical
        and tally["minority_blocks"] >= trials
        and tally["reorged_blocks"] >= trials
        and tally["documents_in_reorged_blocks"] > 0
        and tally["re_anchored_documents"] == tally["documents_in_reorged_blocks"]
        and tally["receipts_naming_a_reorged_block"] == 0
        and tally["reorged_documents_green_after_heal"] == tally["documents_in_reorged_blocks"]
        and tally["minority_only_roots"] == trials
        and tally["minority_only_roots_green_after_heal"] == 0
        and tally["minority_only_roots_on_canonical_chain"] == 0
        and not chain.violations
    )
    result.outcome = "pass" if holds else "fail"
    result.seconds = time.monotonic() - started
    return result


def _trial(
    context: SoakContext,
    chain: CliqueChain,
    node: NodeProcess,
    client: httpx.Client,
    token: str,
    data_dir: Any,
    tally: dict[str, Any],
    result: ScenarioResult,
) -> list[str]:
    minority = chain.nodes[MINORITY]
    accepted: list[str] = []
    # 1. the minority signer stops sealing until three blocks pass without it: its next
    #    block is then allowed by the "signed recently" rule, and only that one
    chain.wait_same_head()  # the previous heal settled: all four seal on one chain
    chain.wait_block(0, chain.head(0).number + 4)
    minority.rpc("miner_stop")
    start = chain.head(0).number
    chain.wait_block(0, start + 3)
    # 2. cut off: restarted with no static peers, on a p2p port nobody knows, not sealing
    minority = chain.restart(MINORITY, isolated=True, seal=False)
    fork = chain.head(MINORITY)
    cut_at = chain.head(0).number
    # 3. the node's anchors go into the minority's pool, and a root only it will hold
    issued = _issue(client, token, result)
    accepted += issued
    _wait_pool(minority.rpc_url, _issuer(data_dir).address, result)
    stray = _minority_only_anchor(chain, data_dir)
    # 4. the minority seals its one block, then stalls
    minority.rpc("miner_start")
    _wait_anchored(node, _all_accepted(node), result, timeout=60)
    receipts = anchored_receipts(client, token, issued, timeout=60)
    minority_block = chain.block(MINORITY, fork.number + 1)
    assert minority_block is not None
    carried = [r for r in receipts if r["blockNumber"] == fork.number + 1]
    time.sleep(3 * chain.block_period)  # room for a second minority block (there is none)
    minority_blocks = chain.head(MINORITY).number - fork.number
    tally["minority_blocks"] += minority_blocks
    stray_green = _anchored_green(client, stray["document"])
    tally["minority_only_roots_anchored_on_the_minority_side"] += int(stray_green)
    accepted += _issue(client, token, result)  # waits in the stalled minority's pool
    majority_blocks = chain.head(0).number - cut_at
    tally["majority_blocks_during_partition"] += majority_blocks
    context.log(
        f"cut off at block {fork.number}: minority sealed {minority_blocks} "
        f"({len(carried)} of our documents in it; the stray root green there: {stray_green}), "
        f"majority {majority_blocks}"
    )
    # 5. healed: restarted on its own port with its static peers, sealing
    healed_at = time.monotonic()
    chain.restart(MINORITY, isolated=False, seal=True)
    chain.wait_same_head()
    tally["heal_seconds_max"] = max(tally["heal_seconds_max"], time.monotonic() - healed_at)
    canonical_block = chain.block(0, fork.number + 1)
    reorged = canonical_block is not None and canonical_block["hash"] != minority_block["hash"]
    tally["reorged_blocks"] += int(reorged)
    tally["documents_in_reorged_blocks"] += len(carried)
    _wait_anchored(node, _all_accepted(node), result, timeout=120)
    again = {r["id"]: r for r in _receipts_once_anchored(client, token, issued, tally)}
    auth = {"Authorization": f"Bearer {token}"}
    lost_seen: set[str] = set()
    for receipt in again.values():
        # the receipt ends naming the block the canonical chain mined it in (the anchor
        # keeper moves it a pass after the index follows the reorg). Meanwhile a re-read
        # may say ``pending`` or ``anchor-lost`` again, with no transaction to name: the
        # keeper found the block it named gone and has not seen the new one indexed yet
        deadline = time.monotonic() + 30
        while True:
            if receipt["status"] == "anchored":
                mined = chain.nodes[0].rpc("eth_getTransactionReceipt", [receipt["txHash"]])
                if mined is not None and int(mined["blockNumber"], 16) == receipt["blockNumber"]:
                    break
            elif receipt["status"] == "anchor-lost":
                lost_seen.add(receipt["id"])
            if time.monotonic() > deadline:
                tally["receipts_naming_a_reorged_block"] += 1
                break
            time.sleep(0.2)
            receipt = client.get(f"/v1/receipts/{receipt['id']}", headers=auth).json()
    tally["receipts_read_anchor_lost_meanwhile"] += len(lost_seen)
    roots = _canonical_roots(chain)
    tally["re_anchored_documents"] += sum(
        1 for r in carried if bytes.fromhex(r["batchRoot"][2:]) in roots
    )
    tally["minority_only_roots"] += 1
    tally["minority_only_roots_on_canonical_chain"] += int(stray["root"] in roots)
    tally["minority_only_roots_green_after_heal"] += int(_still_green(client, stray["document"]))
    tally["reorged_documents_green_after_heal"] += sum(
        _verdict(client, again[r["id"]]["document"]) for r in carried
    )
    return accepted


def _issue(client: httpx.Client, token: str, result: ScenarioResult) -> list[str]:
    status, ids = issue(client, token, DOCUMENTS_PER_REQUEST)
    if status != 202:
        result.notes.append(f"an issue request got {status}")
    return ids


def _receipts_once_anchored(
    client: httpx.Client,
    token: str,
    receipt_ids: list[str],
    tally: dict[str, Any],
    timeout: float = 180.0,
) -> list[dict[str, Any]]:
    """The receipts once each reads ``anchored`` again. Meanwhile a receipt may read
    ``pending`` (the index is behind) or ``anchor-lost`` (the anchor keeper found its
    block gone before the transaction was mined again): counted, not an error."""
    auth = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + timeout
    receipts = []
    lost_seen: set[str] = set()
    for receipt_id in receipt_ids:
        while True:
            receipt: dict[str, Any] = client.get(f"/v1/receipts/{receipt_id}", headers=auth).json()
            if receipt["status"] == "anchored":
                receipts.append(receipt)
                break
            if receipt["status"] == "anchor-lost":
                lost_seen.add(receipt_id)
            elif receipt["status"] != "pending":
                raise RuntimeError(f"receipt {receipt_id} reads {receipt['status']}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"receipt {receipt_id} not anchored again in {timeout:.0f} s")
            time.sleep(0.1)
    tally["receipts_read_anchor_lost_meanwhile"] += len(lost_seen)
    return receipts


def _all_accepted(node: NodeProcess) -> int:
    return sum(node.outbox_states().values())


def _wait_anchored(
    node: NodeProcess, accepted: Any, result: ScenarioResult, timeout: float = 120.0
) -> None:
    count = accepted if isinstance(accepted, int) else len(accepted)
    if node.wait_all_anchored(count, timeout=timeout) is None:
        result.notes.append(f"not all {count} documents anchored in {timeout:.0f} s")


def _issuer(data_dir: Any) -> LocalAccount:
    return read_issuer_key(NodeSettings(data_dir=data_dir))


def _wait_pool(rpc_url: str, account: str, result: ScenarioResult, timeout: float = 60.0) -> None:
    """Until the node's anchoring transaction waits in the minority signer's pool."""
    chain = JsonRpcChain(rpc_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending = int(chain.request("eth_getTransactionCount", [account, "pending"]), 16)
            mined = int(chain.request("eth_getTransactionCount", [account, "latest"]), 16)
            if pending > mined:
                return
            time.sleep(0.05)
        result.notes.append("the node's anchor never reached the minority's pool")
    finally:
        chain.close()


def _minority_only_anchor(chain: CliqueChain, data_dir: Any) -> dict[str, Any]:
    """KR's issuer anchors a root on the minority; the same nonce is spent on the majority
    by a plain transfer, so that root can never be mined on the canonical chain."""
    deployment = Deployment.read(data_dir)
    registry = ContractBinding(load_artifacts()["DocumentRegistry"], deployment.document_registry)
    kr: LocalAccount = load_or_create_key(keystore_path(data_dir / "keys", "KR", "issuer"))
    batch = wrap_batch(
        [_kr_document()],
        signing_key=bytes(kr.key),
        domain=Eip712Domain(deployment.chain_id, deployment.document_registry),
    )
    anchor = batch.anchor
    minority = JsonRpcChain(chain.nodes[MINORITY].rpc_url)
    majority = JsonRpcChain(chain.nodes[0].rpc_url)
    try:
        nonce = int(majority.request("eth_getTransactionCount", [kr.address, "latest"]), 16)
        request = anchor_request(
            registry,
            minority,
            f"stray/{anchor.root.hex()}",
            kr.address,
            anchor.root,
            anchor.document_type,
            anchor.document_count,
            anchor.addressees,
        )
        assert request.to is not None
        call = {"from": kr.address, "to": request.to, "data": "0x" + request.data.hex()}
        gas = int(minority.request("eth_estimateGas", [call]), 16) * 2
        base = int(majority.request("eth_getBlockByNumber", ["latest", False])["baseFeePerGas"], 16)
        fees = {"maxFeePerGas": base * 4 + 10**9, "maxPriorityFeePerGas": 10**9, "type": 2}
        common = {"chainId": deployment.chain_id, "nonce": nonce, **fees}
        stray = kr.sign_transaction(
            {**common, "to": request.to, "data": request.data, "gas": gas, "value": 0}
        )
        spend = kr.sign_transaction({**common, "to": kr.address, "gas": 21_000, "value": 1})
        minority.request("eth_sendRawTransaction", ["0x" + bytes(stray.raw_transaction).hex()])
        majority.request("eth_sendRawTransaction", ["0x" + bytes(spend.raw_transaction).hex()])
    finally:
        minority.close()
        majority.close()
    return {"root": anchor.root, "document": next(iter(batch)).to_json()}


def _kr_document() -> Any:
    """A certificate of origin issued by KR (the VN sample with KR as issuing country)."""
    for number in _kr_numbers:
        text = json.dumps(sample_document("coo/1", number))
        text = text.replace('"VN"', '"KR"').replace('"VN-', '"KR-')
        document = json.loads(text)
        if document.get("importingCountry") != "KR":
            return validate_document(document)
    raise AssertionError("unreachable")


def _canonical_roots(chain: CliqueChain) -> set[bytes]:
    """Every root the DocumentRegistry logged on the first signer's (canonical) chain."""
    registry_logs = chain.nodes[0].rpc("eth_getLogs", [{"fromBlock": "0x0", "toBlock": "latest"}])
    artifacts = load_artifacts()
    roots: set[bytes] = set()
    for log in registry_logs:
        topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
        data = bytes.fromhex(log["data"][2:])
        codec = ContractBinding(artifacts["DocumentRegistry"], log["address"]).abi.event_of(
            topics, data
        )
        if codec is not None and codec.name == "BatchAnchored":
            roots.add(bytes(codec.decode(topics, data)["root"]))
    return roots


def _verdict(client: httpx.Client, document: Any) -> bool:
    """The node's whole verdict is green."""
    answer = client.post("/v1/verify", json=document)
    return answer.status_code == 200 and bool(answer.json()["valid"])


def _anchored_green(client: httpx.Client, document: Any) -> bool:
    """The node's issuance check (anchored on chain) is green. A KR document is not
    recognised by VN, so the whole verdict is never green: the issuance check is what the
    chain decides."""
    answer = client.post("/v1/verify", json=document)
    if answer.status_code != 200:
        return False
    checks = {check["name"]: check["status"] for check in answer.json()["checks"]}
    return checks.get("issuance") == "valid"


def _still_green(client: httpx.Client, document: Any, timeout: float = 30.0) -> bool:
    """True if the issuance check is still green ``timeout`` seconds after the heal (the
    node's index follows the canonical chain a pass after it changes)."""
    deadline = time.monotonic() + timeout
    while _anchored_green(client, document):
        if time.monotonic() > deadline:
            return True
        time.sleep(0.2)
    return False
