"""Node killed between journal and send, and between send and receipt.

The node kills itself (SIGKILL) at its first batch anchor through the test-only
``DOCEX_TEST_CRASH_AT`` setting (node/testing/fault_injection.py), with documents accepted and
batches in flight; it is restarted on the same data dir without the setting. After all
trials: 0 orphans (every accepted document anchored, no journal entry left unfinished)
and 0 duplicates, against the chain.
"""

from __future__ import annotations

import time

import httpx

from bench.soak.chain_audit import audit_anchors
from bench.soak.issuing import SMALL_BATCHES, issue, journal_unfinished
from bench.soak.processes import NodeProcess, start_anvil
from bench.soak.results import ScenarioResult, SoakContext

POINTS = {
    "journalled": "Node killed between journal and send",
    "sent": "Node killed between send and receipt",
}
REQUESTS_PER_TRIAL = 3
DOCUMENTS_PER_REQUEST = 20


def run(context: SoakContext) -> list[ScenarioResult]:
    return [run_point(context, point) for point in POINTS]


def run_point(context: SoakContext, point: str) -> ScenarioResult:
    result = ScenarioResult(f"node-killed-{point}", POINTS[point])
    started = time.monotonic()
    trials = context.trials(20, 3)
    home = context.workdir / f"node-killed-{point}"
    anvil = start_anvil(home / "anvil")
    data_dir = home / "vn"
    args = ["--chain", "rpc", "--rpc-url", anvil.url, "--country", "VN"]
    accepted: list[str] = []
    crashed = 0
    recoveries: list[float] = []
    try:
        for trial in range(trials):
            node = NodeProcess(
                data_dir,
                args,
                {**SMALL_BATCHES, "DOCEX_PROFILE": "test", "DOCEX_TEST_CRASH_AT": f"{point}:1"},
            )
            token = node.sample_token()
            with httpx.Client(base_url=node.base, timeout=30) as client:
                for _ in range(REQUESTS_PER_TRIAL):
                    status, ids = issue(client, token, DOCUMENTS_PER_REQUEST)
                    accepted += ids
                    if status == 0:
                        break
            exit_status = node.wait_exit(timeout=60)
            if exit_status == -9:
                crashed += 1
            else:
                node.kill()
                result.notes.append(f"trial {trial + 1}: the node did not crash at {point}")
            restarted = NodeProcess(data_dir, args, SMALL_BATCHES)
            restarted.wait_until_up()
            took = restarted.wait_all_anchored(len(accepted), timeout=180)
            if took is None:
                result.notes.append(f"trial {trial + 1}: not every document anchored in 180 s")
            else:
                recoveries.append(took)
            restarted.interrupt()
            context.log(f"{point}: trial {trial + 1}/{trials}, {len(accepted)} accepted")
        audit = audit_anchors(anvil.url, data_dir, accepted)
        orphans = journal_unfinished(data_dir)
    finally:
        anvil.stop()
    result.figures = {
        "trials": trials,
        "crashes_at_point": crashed,
        **audit.figures(),
        "journal_orphans": orphans,
        "max_seconds_to_anchor_all_after_restart": round(max(recoveries, default=0.0), 2),
    }
    holds = audit.holds and orphans == 0 and crashed == trials and len(recoveries) == trials
    result.outcome = "pass" if holds else "fail"
    result.seconds = time.monotonic() - started
    return result
