"""Chain reset: the node's anvil comes back WITHOUT its state (every block lost).

Documents are issued and anchored, then anvil is killed and its state file deleted, so
the node's chain supervisor restarts it empty. The node must notice (its index's
checkpoint hash no longer matches: the index rolls back), never answer a verification
green for a document whose anchor is gone, and flag every affected document
``anchor-lost`` (the DocumentRegistry is gone too: re-anchoring needs the consortium
restored, an operator's decision). A chain that loses only its last blocks (killed
between two state writes) is re-anchored instead: see the chain-killed scenario.
"""

from __future__ import annotations

import os
import signal
import time

import httpx

from bench.soak.issuing import SMALL_BATCHES, anchored_receipts, issue
from bench.soak.processes import NodeProcess
from bench.soak.results import ScenarioResult, SoakContext
from bench.soak.scenarios.chain_killed import chain_answers
from ledger.chains import find_free_port

TITLE = "Chain reset (anvil restarted without its state)"
REQUESTS = 3
DOCUMENTS_PER_REQUEST = 20
FAST_VERIFY = {"DOCEX_VERIFY_RATE_PER_SECOND": "100000", "DOCEX_VERIFY_BURST": "100000"}


def run(context: SoakContext) -> ScenarioResult:
    result = ScenarioResult("chain-reset", TITLE)
    started = time.monotonic()
    anvil_port = find_free_port()
    anvil_url = f"http://127.0.0.1:{anvil_port}"
    data_dir = context.workdir / "chain-reset" / "vn"
    node = NodeProcess(
        data_dir,
        ["--chain", "anvil", "--anvil-port", str(anvil_port)],
        {**SMALL_BATCHES, **FAST_VERIFY},
    )
    try:
        token = node.sample_token()
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=node.base, timeout=60) as client:
            accepted: list[str] = []
            for _ in range(REQUESTS):
                accepted += issue(client, token, DOCUMENTS_PER_REQUEST)[1]
            if node.wait_all_anchored(len(accepted), timeout=120) is None:
                raise RuntimeError("the documents were not anchored before the reset")
            documents = [r["document"] for r in anchored_receipts(client, token, accepted)]
            # a receipt reads anchored once indexed, so these verify green at once; the
            # wait below is only for a slow machine
            deadline = time.monotonic() + 30
            while (green_before := sum(_green(client, d) for d in documents)) < len(accepted):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)

            os.kill(node.anvil_pid(), signal.SIGKILL)
            (data_dir / "anvil" / "anvil-state.json").unlink(missing_ok=True)
            reset_at = time.monotonic()
            while not chain_answers(anvil_url):
                if time.monotonic() - reset_at > 60:
                    raise RuntimeError("the node did not restart its chain in 60 s")
                time.sleep(0.02)
            back_at = time.monotonic()

            green_before_detection = 0
            green_after_detection = 0
            detected_at: float | None = None
            deadline = back_at + 60
            while time.monotonic() < deadline:
                flagged = node.outbox_states().get("anchor-lost", 0)
                if detected_at is None and flagged == len(accepted):
                    detected_at = time.monotonic()
                greens = sum(_green(client, d) for d in documents[:10])
                if detected_at is None:
                    green_before_detection += greens
                else:
                    green_after_detection += greens
                    if time.monotonic() - detected_at > 3:
                        break
            receipt = client.get(f"/v1/receipts/{accepted[0]}", headers=auth).json()
            green_at_end = sum(_green(client, d) for d in documents)
    finally:
        node.interrupt()
    flagged_all = detected_at is not None
    result.figures = {
        "documents_anchored_before_reset": len(accepted),
        "verified_green_before_reset": green_before,
        "documents_flagged_anchor_lost": node_states_after(node).get("anchor-lost", 0),
        "seconds_to_flag_all_after_chain_back": round(detected_at - back_at, 2)
        if detected_at is not None
        else "never",
        "green_verdicts_after_chain_back_before_flagged": green_before_detection,
        "green_verdicts_after_flagged": green_after_detection,
        "green_verdicts_at_end": green_at_end,
        "receipt_status": receipt.get("status"),
    }
    if green_before_detection:
        result.notes.append(
            f"{green_before_detection} verification(s) answered green in the "
            "interval between the chain coming back and the index's next pass"
        )
    holds = (
        flagged_all
        and green_before_detection == 0
        and green_after_detection == 0
        and green_at_end == 0
        and green_before == len(accepted)
        and receipt.get("status") == "anchor-lost"
    )
    result.outcome = "pass" if holds else "fail"
    result.seconds = time.monotonic() - started
    return result


def node_states_after(node: NodeProcess) -> dict[str, int]:
    return node.outbox_states()


def _green(client: httpx.Client, document: object) -> int:
    answer = client.post("/v1/verify", json=document)
    answer.raise_for_status()
    return 1 if answer.json()["valid"] else 0
