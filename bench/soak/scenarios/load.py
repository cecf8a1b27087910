"""Load: 16 concurrent issuers for 60 s plus 32 concurrent verifiers on one node.

The node runs on its defaults (embedded anvil, batches of up to 256 documents or 500 ms)
except the public verification rate limit, raised so that the 32 verifiers (all on
127.0.0.1) measure the node rather than the limiter. Issuers post 10 documents per
request; verifiers post anchored wrapped documents to ``POST /v1/verify``. Afterwards
every accepted document must be anchored exactly once, checked against the chain.
The load generator runs on the same (shared, 2-core) machine as the node and its chain.
"""

from __future__ import annotations

import random
import threading
import time

import httpx

from bench.soak.chain_audit import audit_anchors
from bench.soak.issuing import anchored_receipts, issue
from bench.soak.processes import NodeProcess
from bench.soak.results import ScenarioResult, SoakContext
from bench.soak.scenarios.chain_reset import FAST_VERIFY
from ledger.chains import find_free_port

TITLE = "Load (16 issuers, 32 verifiers)"
ISSUERS = 16
VERIFIERS = 32
DOCUMENTS_PER_REQUEST = 10
VERIFY_POOL = 50


def _p95(samples: list[float]) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(int(len(ordered) * 0.95), len(ordered) - 1)] * 1000


class _Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: list[str] = []
        self.issue_latency: list[float] = []
        self.issue_errors: dict[int, int] = {}
        self.verify_latency: list[float] = []
        self.verify_errors: dict[int, int] = {}
        self.verified_not_valid = 0


def run(context: SoakContext) -> ScenarioResult:
    result = ScenarioResult("load", TITLE)
    started = time.monotonic()
    seconds = context.size(60.0, 15.0, 5.0)
    anvil_port = find_free_port()
    data_dir = context.workdir / "load" / "vn"
    node = NodeProcess(
        data_dir,
        ["--chain", "anvil", "--anvil-port", str(anvil_port)],
        {"DOCEX_RECEIVE": "false", **FAST_VERIFY},
    )
    tally = _Tally()
    try:
        token = node.sample_token()
        with httpx.Client(base_url=node.base, timeout=60) as client:
            _, pool_ids = issue(client, token, VERIFY_POOL)
            tally.accepted += pool_ids
            if node.wait_all_anchored(len(pool_ids), timeout=60) is None:
                raise RuntimeError("the verification pool was not anchored")
            pool = [r["document"] for r in anchored_receipts(client, token, pool_ids)]
            deadline = time.monotonic() + 30
            while not client.post("/v1/verify", json=pool[-1]).json()["valid"]:
                if time.monotonic() > deadline:
                    raise RuntimeError("the verification pool never verified green")
                time.sleep(0.1)

        stop = threading.Event()

        def issuer() -> None:
            with httpx.Client(base_url=node.base, timeout=60) as own:
                while not stop.is_set():
                    began = time.perf_counter()
                    status, ids = issue(own, token, DOCUMENTS_PER_REQUEST)
                    took = time.perf_counter() - began
                    with tally.lock:
                        if status == 202:
                            tally.accepted += ids
                            tally.issue_latency.append(took)
                        else:
                            tally.issue_errors[status] = tally.issue_errors.get(status, 0) + 1

        def verifier() -> None:
            chooser = random.Random()
            with httpx.Client(base_url=node.base, timeout=60) as own:
                while not stop.is_set():
                    began = time.perf_counter()
                    try:
                        answer = own.post("/v1/verify", json=chooser.choice(pool))
                        status = answer.status_code
                        valid = status == 200 and bool(answer.json()["valid"])
                    except httpx.TransportError:
                        status, valid = 0, False
                    took = time.perf_counter() - began
                    with tally.lock:
                        if status == 200:
                            tally.verify_latency.append(took)
                            tally.verified_not_valid += 0 if valid else 1
                        else:
                            tally.verify_errors[status] = tally.verify_errors.get(status, 0) + 1

        threads = [threading.Thread(target=issuer, daemon=True) for _ in range(ISSUERS)]
        threads += [threading.Thread(target=verifier, daemon=True) for _ in range(VERIFIERS)]
        load_started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        load_seconds = time.monotonic() - load_started
        issued = len(tally.accepted) - len(pool_ids)
        context.log(f"load over: {issued} documents accepted in {load_seconds:.1f} s")
        settled = node.wait_all_anchored(len(tally.accepted), timeout=600)
        anchored_seconds = time.monotonic() - load_started
        audit = audit_anchors(f"http://127.0.0.1:{anvil_port}", data_dir, tally.accepted)
    finally:
        node.interrupt()
    result.figures = {
        "seconds": round(load_seconds, 1),
        "issuers": ISSUERS,
        "verifiers": VERIFIERS,
        "documents_accepted": issued,
        "documents_per_second": round(issued / load_seconds, 1),
        "anchored_documents_per_second": round(issued / anchored_seconds, 1),
        "issue_requests": len(tally.issue_latency),
        "issue_p95_ms": round(_p95(tally.issue_latency), 1),
        "issue_errors": sum(tally.issue_errors.values()),
        "verifications": len(tally.verify_latency),
        "verifications_per_second": round(len(tally.verify_latency) / load_seconds, 1),
        "verify_p95_ms": round(_p95(tally.verify_latency), 1),
        "verify_errors": sum(tally.verify_errors.values()),
        "verified_not_valid": tally.verified_not_valid,
        **{f"chain_{k}": v for k, v in audit.figures().items()},
    }
    if tally.issue_errors or tally.verify_errors:
        result.notes.append(
            f"error statuses: issue {tally.issue_errors}, verify {tally.verify_errors}"
        )
    if settled is None:
        result.notes.append("not every accepted document was anchored within 600 s")
    holds = (
        audit.holds
        and settled is not None
        and not tally.issue_errors
        and not tally.verify_errors
        and tally.verified_not_valid == 0
    )
    result.outcome = "pass" if holds else "fail"
    result.seconds = time.monotonic() - started
    return result
