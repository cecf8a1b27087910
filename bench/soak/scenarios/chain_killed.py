"""Chain killed: ``kill -9`` of the node's managed anvil while batches are anchored.

The node runs on its embedded chain (``--chain anvil``): the anvil is its child, with
its state written every second. Each trial issues documents, waits until the batcher is
anchoring them, and kills anvil by its PID; the node's chain supervisor restarts it on
its state, the journal replays what the lost second held, and the batcher finishes.
Figures: the time until the chain answers again, and until every accepted document is
anchored; at the end every accepted document anchored exactly once, against the chain.
"""

from __future__ import annotations

import os
import signal
import time

import httpx

from bench.soak.chain_audit import audit_anchors
from bench.soak.issuing import SMALL_BATCHES, issue
from bench.soak.processes import NodeProcess
from bench.soak.results import ScenarioResult, SoakContext
from ledger.chains import find_free_port

TITLE = "Chain killed (kill -9 of anvil mid-batch)"
REQUESTS_PER_TRIAL = 6
DOCUMENTS_PER_REQUEST = 20


def chain_answers(url: str) -> bool:
    try:
        answer = httpx.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"}, timeout=2
        )
    except httpx.TransportError:
        return False
    return answer.status_code == 200


def run(context: SoakContext) -> ScenarioResult:
    result = ScenarioResult("chain-killed", TITLE)
    started = time.monotonic()
    trials = context.trials(20, 3)
    anvil_port = find_free_port()
    anvil_url = f"http://127.0.0.1:{anvil_port}"
    data_dir = context.workdir / "chain-killed" / "vn"
    node = NodeProcess(
        data_dir, ["--chain", "anvil", "--anvil-port", str(anvil_port)], SMALL_BATCHES
    )
    accepted: list[str] = []
    chain_back: list[float] = []
    all_anchored: list[float] = []
    killed = 0
    try:
        token = node.sample_token()
        with httpx.Client(base_url=node.base, timeout=60) as client:
            for trial in range(trials):
                before = node.outbox_states().get("anchored", 0)
                for _ in range(REQUESTS_PER_TRIAL):
                    status, ids = issue(client, token, DOCUMENTS_PER_REQUEST)
                    if status != 202:
                        result.notes.append(f"trial {trial + 1}: an issue request got {status}")
                    accepted += ids
                # kill while the batcher is anchoring this trial's batches
                deadline = time.monotonic() + 30
                while node.outbox_states().get("anchored", 0) == before:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.01)
                pending = len(accepted) - node.outbox_states().get("anchored", 0)
                anvil_pid = node.anvil_pid()
                os.kill(anvil_pid, signal.SIGKILL)
                killed_at = time.monotonic()
                killed += 1
                while not chain_answers(anvil_url):
                    if time.monotonic() - killed_at > 60:
                        raise RuntimeError("the node did not restart its chain in 60 s")
                    time.sleep(0.02)
                chain_back.append(time.monotonic() - killed_at)
                took = node.wait_all_anchored(len(accepted), timeout=180)
                if took is None:
                    result.notes.append(f"trial {trial + 1}: not all anchored within 180 s")
                else:
                    all_anchored.append(time.monotonic() - killed_at)
                context.log(
                    f"trial {trial + 1}/{trials}: killed with {pending} not yet anchored; "
                    f"chain back in {chain_back[-1]:.2f} s"
                )
        # the node must have settled: what it believes is checked against the chain
        audit = audit_anchors(anvil_url, data_dir, accepted)
    finally:
        node.interrupt()
    result.figures = {
        "trials": trials,
        "anvil_kills": killed,
        **audit.figures(),
        "anchored_exactly_once_percent": round(
            100.0 * (audit.accepted - audit.lost) / max(audit.accepted, 1), 2
        ),
        "replays_of_lost_transactions": node.log_count(
            "chain lost transactions; replayed from the journal"
        ),
        "chain_back_seconds_max": round(max(chain_back, default=0.0), 2),
        "all_anchored_seconds_median": round(_median(all_anchored), 2),
        "all_anchored_seconds_max": round(max(all_anchored, default=0.0), 2),
    }
    holds = audit.holds and len(all_anchored) == trials
    result.outcome = "pass" if holds else "fail"
    result.seconds = time.monotonic() - started
    return result


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0.0
