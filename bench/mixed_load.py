"""Mixed-load benchmark (issue 15, point 1): issuing and verifying at the same time.

A real ``docex run`` node on a managed anvil, on this machine's cores:

1. **Pre-issue**: ``--distinct`` documents (default 20,000; at least 10,000) are issued
   through the node's API and anchored and indexed (every receipt reads ``anchored``)
   before anything is measured; their wrapped documents are fetched from the receipts.
2. **Ceilings**, with the node stopped: (a) a trivial endpoint on the same server stack
   (``bench.ceiling_server``: FastAPI + uvicorn as ``docex run`` serves, two routes that
   read and parse the body and answer), under the same mixed clients as the node, before
   the window and again after it (the ratios use the mean: the neighbours' load moves);
   (b) raw signed transactions (pre-signed transfers, ``eth_sendRawTransaction``) to the
   same anvil.
3. **The mixed window**: a fresh ``docex run`` process on the same data dir (its caches
   cold; the OS page cache is not dropped), on its default batch settings, with the
   verification rate limit lifted. For ``--seconds`` (default 60), at the same time,
   ``--issuers`` clients (16) each post 1 to 10 distinct new documents per request
   (uniformly drawn, seeded) to ``POST /v1/documents``, and ``--verifiers`` clients (32)
   each post a pre-issued wrapped document to ``POST /v1/verify``, taking the next of
   the shuffled distinct ones (a document is presented again only once all were). Every
   answer must be 202, or 200 with ``"valid":true``. Afterwards the run waits until
   every accepted document is anchored (the node's ``docex_documents_anchored``).
4. **The profile**, once every document of the window is anchored: the same load for
   another ``PROFILE_SECONDS`` (20, or the window when shorter), while py-spy (when
   installed: ``pip install py-spy``; else the profile says so) samples the node's
   processes and threads without pausing them. A window of its own: the profiler takes
   about a tenth of these two cores, which it would otherwise take from the node's
   measured figures.

5. **Each kind alone** on the same node (``cost_alone``): the CPU each costs, and the
   cores the targets would take at those costs.
6. **The targets' rates, open loop** (``at_target_rates``): a fresh node process again,
   and for the window's length issue requests offering 1,000 documents a second and
   1,000 verifications a second, each kind arriving as a Poisson process whatever the
   answers (:func:`paced_load`): the latency at the targets' load, counted from each
   request's arrival. The measured window of step 3 is closed loop (each client sends
   again when answered), which finds the node's capacity under saturation, where the
   p99 is the queue's; this one asks whether the node holds the targets' rates, and at
   what latency. Both are reported, with whether the targets are met in each.

Reported: issue docs/s (accepted in the window, and anchored end to end), verifications/s,
p50/p95/p99 of both, node CPU (the node's process tree, from /proc) per document handled,
the load generator's own CPU (one process, raw asyncio HTTP/1.1 keep-alive connections:
``bench.raw_http``), anvil's and py-spy's, the profile summary, each figure as a fraction
of its ceiling (``ceiling_ratio``; for latencies the ceiling's over the node's, so 1.0 is
the best either way), the targets with met / not met (not asserted: on a shared machine
the ratios are what compare across runs), and the isolated best cases of
``bench/results/node.json`` beside them.

``--postgres`` puts the node database and the event index in PostgreSQL: a private
server (Debian's, ``node.testing.postgres_server``) on its own port and data directory
under the run's temporary folder, stopped by its PID at the end; results in
bench/results/mixed_load_postgres.json. ``--database-url URL`` uses a server of your
own instead. ``--api-workers N`` serves the window with ``docex run --api-workers N``;
results in bench/results/mixed_load_api_workers_N.json.
Results: bench/results/mixed_load.json. Run: ``python -m bench.mixed_load [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from sqlalchemy import func, select

from bench.load_generator import (
    MAX_DOCS_PER_REQUEST,
    IssueBodies,
    Tally,
    latency_by_slice,
    mixed_load,
    paced_load,
    tally_figures,
)
from bench.node import _cpu_seconds
from bench.profile_summary import summarise
from bench.raw_http import RawHttpConnection
from bench.soak.processes import NodeProcess, start_anvil
from bench.workdirs import work_directory
from certificates.schemas.samples import sample_document
from ledger.chains import dev_private_keys, find_free_port
from node.db.schema import open_database
from node.db.tables import BatchRow, SubmissionRow
from node.issuing.outbox import BatchState

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
RESULTS = ROOT / "results" / "mixed_load.json"
ISOLATED = ROOT / "results" / "node.json"

TARGET_ISSUE_DOCS_PER_S = 1_000.0
TARGET_MAX_DOCS_PER_REQUEST = MAX_DOCS_PER_REQUEST
TARGET_VERIFY_PER_S = 1_000.0
TARGET_VERIFY_P99_MS = 50.0
MIN_DISTINCT = 10_000
PRE_ISSUE_PER_REQUEST = 500
PROFILE_RATE_HZ = 50
#: the profiling window (seconds; the measured window when shorter)
PROFILE_SECONDS = 20.0
#: the dev accounts that send the chain ceiling's transfers (not the dev consortium's
#: funder, account 0; the node's keys are its own)
CHAIN_CEILING_ACCOUNTS = range(2, 10)
#: documents of the measured window are numbered from here (pre-issued ones from 1)
WINDOW_FIRST_NUMBER = 10_000_000
#: the profiling window's documents (after the measured window's)
PROFILE_FIRST_NUMBER = 50_000_000
#: each kind of request alone, after the profile (seconds; a quarter of the measured window
#: when shorter)
ALONE_SECONDS = 15.0
#: the issue-alone window's documents
ALONE_FIRST_NUMBER = 90_000_000
PACED_FIRST_NUMBER = 70_000_000
#: the open-loop window's node kept up when its last answer came at most this late
PACED_KEPT_UP_SECONDS = 1.0


# --- the node ---------------------------------------------------------------------------


def _node_env(database_url: str | None, api_workers: int = 1, **extra: str) -> dict[str, str]:
    env = {
        "DOCEX_API_WORKERS": str(api_workers),
        "DOCEX_VERIFY_RATE_PER_SECOND": "1000000",
        "DOCEX_VERIFY_BURST": "1000000",
        "DOCEX_RECEIVE": "false",
        "DOCEX_LOG_LEVEL": "warning",
        **extra,
    }
    if database_url:
        env["DOCEX_DATABASE_URL"] = database_url
    return env


def _start_node(data_dir: Path, rpc_url: str, env: dict[str, str]) -> tuple[NodeProcess, str]:
    node = NodeProcess(data_dir, ["--chain", "rpc", "--rpc-url", rpc_url], env)
    try:
        return node, node.sample_token()
    except BaseException:
        node.interrupt()
        raise


async def _over_connections(
    base: str, jobs: list[Callable[[RawHttpConnection], Awaitable[None]]], connections: int
) -> None:
    """Run ``jobs`` over ``connections`` keep-alive connections."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    queue = list(reversed(jobs))

    async def worker() -> None:
        async with RawHttpConnection(host, int(port)) as connection:
            while queue:
                await queue.pop()(connection)

    await asyncio.gather(*(worker() for _ in range(connections)))


def pre_issue(base: str, token: str, count: int, timeout: float = 1800) -> list[bytes]:
    """Issue ``count`` distinct documents, wait until each is anchored and indexed, and
    return their wrapped documents (JSON bytes), from the receipts."""
    auth = {"Authorization": f"Bearer {token}"}
    receipt_ids: list[str] = []
    with httpx.Client(base_url=base, timeout=300) as client:
        for first in range(1, count + 1, PRE_ISSUE_PER_REQUEST):
            last = min(first + PRE_ISSUE_PER_REQUEST, count + 1)
            answer = client.post(
                "/v1/documents",
                json=[sample_document("coo/1", n) for n in range(first, last)],
                headers=auth,
            )
            answer.raise_for_status()
            receipt_ids += [receipt["id"] for receipt in answer.json()["receipts"]]
    wrapped: dict[str, bytes] = {}
    deadline = time.monotonic() + timeout
    pending = receipt_ids
    while pending:
        still: list[str] = []

        def fetch(
            receipt_id: str, still: list[str] = still
        ) -> Callable[[RawHttpConnection], Awaitable[None]]:
            async def job(connection: RawHttpConnection) -> None:
                status, body = await connection.request(
                    "GET", f"/v1/receipts/{receipt_id}", headers=auth
                )
                receipt = json.loads(body) if status == 200 else {}
                if receipt.get("status") == "anchored":
                    wrapped[receipt_id] = json.dumps(receipt["document"]).encode()
                elif receipt.get("status") == "pending":
                    still.append(receipt_id)
                else:
                    raise RuntimeError(f"receipt {receipt_id}: {status} {body[:200]!r}")

            return job

        asyncio.run(_over_connections(base, [fetch(r) for r in pending], 8))
        pending = still
        if pending:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(pending)} pre-issued documents never anchored")
            time.sleep(1.0)
    return [wrapped[receipt_id] for receipt_id in receipt_ids]


def _metric(base: str, name: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=30).text
    match = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match[1]) if match else 0.0


def wait_anchored(base: str, documents: int, timeout: float = 900) -> float | None:
    """Seconds until the node counts ``documents`` anchored since it started, or None.
    With ``--api-workers N`` a scrape reaches any of the processes and only the first
    one's batcher counts anchored documents: a scrape that reaches another reads 0 and
    the loop asks again."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if _metric(base, "docex_documents_anchored_total") >= documents:
            return time.monotonic() - started
        time.sleep(0.2)
    return None


def window_counts(
    location: Path | str, since: float, until: float = float("inf")
) -> tuple[int, int, int]:
    """Documents accepted, batches anchored and documents in them from ``since`` to
    ``until`` (wall-clock times), read from the node's database once the node has
    stopped: every process's work (``/metrics`` counts per process)."""
    engine = open_database(location)
    try:
        with engine.connect() as connection:
            accepted = connection.execute(
                select(func.count()).where(
                    SubmissionRow.accepted_at >= since, SubmissionRow.accepted_at < until
                )
            ).scalar_one()
            batches, batched = connection.execute(
                select(func.count(), func.coalesce(func.sum(BatchRow.document_count), 0)).where(
                    BatchRow.created_at >= since,
                    BatchRow.created_at < until,
                    BatchRow.state == BatchState.ANCHORED.value,
                )
            ).one()
    finally:
        engine.dispose()
    return int(accepted), int(batches), int(batched)


def cost_alone(
    base: str,
    token: str,
    pid: int,
    args: argparse.Namespace,
    verify_documents: list[bytes],
    anchored_before: int,
) -> dict[str, Any]:
    """What each kind of request costs the node when the other does not compete: the
    issuers alone (their documents anchored before the CPU is read), then the verifiers
    alone; and the cores the targets would need at those costs."""
    seconds = min(args.seconds / 4, ALONE_SECONDS)
    bodies = IssueBodies(
        args.seed + 3, round(seconds * args.expected_docs_per_s), ALONE_FIRST_NUMBER
    )
    cpu = _cpu_seconds(pid)
    issue = asyncio.run(
        mixed_load(
            base,
            token,
            bodies,
            verify_documents,
            issuers=args.issuers,
            verifiers=0,
            seconds=seconds,
        )
    )
    drained = wait_anchored(base, anchored_before + issue.issue_documents)
    issue_cpu = _cpu_seconds(pid) - cpu
    cpu = _cpu_seconds(pid)
    verify = asyncio.run(
        mixed_load(
            base,
            token,
            bodies,
            verify_documents,
            issuers=0,
            verifiers=args.verifiers,
            seconds=seconds,
        )
    )
    verify_cpu = _cpu_seconds(pid) - cpu
    issue_ms = 1000 * issue_cpu / max(issue.issue_documents, 1)
    verify_ms = 1000 * verify_cpu / max(len(verify.verify_latency), 1)
    cores = (TARGET_ISSUE_DOCS_PER_S * issue_ms + TARGET_VERIFY_PER_S * verify_ms) / 1000
    issued, verified = tally_figures(issue)["issue"], tally_figures(verify)["verify"]
    return {
        "what": f"the same node right after the profile: the {args.issuers} issuers alone "
        f"for {seconds:.0f} s (node CPU counted until their documents are anchored), then "
        f"the {args.verifiers} verifiers alone for {seconds:.0f} s (documents presented "
        "before; the index does not move while nothing is issued, so the memo of each "
        "batch's facts stays warm: a lower bound under mixed load)",
        "issue_docs_per_s": issued["docs_per_s"],
        "issue_p99_ms": issued["p99_ms"],
        "issue_anchored": drained is not None,
        "issue_cpu_ms_per_document": round(issue_ms, 3),
        "verify_per_s": verified["per_s"],
        "verify_p99_ms": verified["p99_ms"],
        "verify_cpu_ms_per_verification": round(verify_ms, 3),
        "cores_for_targets": round(cores, 2),
        "cores_for_targets_means": f"node CPU cores that {TARGET_ISSUE_DOCS_PER_S:.0f} "
        f"documents issued and {TARGET_VERIFY_PER_S:.0f} verifications per second take at "
        f"these costs, against the machine's {os.cpu_count()} (of which the load generator "
        "and the chain also take a share)",
    }


# --- profiling ---------------------------------------------------------------------------


def measure_paced(
    data_dir: Path, rpc_url: str, args: argparse.Namespace, verify_documents: list[bytes]
) -> dict[str, Any]:
    """The targets' load itself: :func:`paced_load` at the target rates for the window's
    length, on a fresh node process (its caches cold again), every accepted document
    anchored before the node stops; the figures and whether the targets hold."""
    node, token = _start_node(data_dir, rpc_url, _node_env(args.database_url, args.api_workers))
    try:
        cpu = _cpu_seconds(node.pid)
        tally = asyncio.run(
            paced_load(
                node.base,
                token,
                IssueBodies(args.seed + 4, round(args.seconds * 1_100), PACED_FIRST_NUMBER),
                verify_documents,
                issue_docs_per_s=TARGET_ISSUE_DOCS_PER_S,
                verify_per_s=TARGET_VERIFY_PER_S,
                seconds=args.seconds,
                seed=args.seed + 5,
            )
        )
        cpu = _cpu_seconds(node.pid) - cpu
        drained = wait_anchored(node.base, tally.issue_documents)
    finally:
        node.interrupt()
    figures = tally_figures(tally)
    issue, verify = figures["issue"], figures["verify"]
    errors = sum(issue["errors"].values()) + sum(verify["errors"].values())
    # the node held the rates offered when it had answered every arrival within a second
    # of the last one; otherwise it answered fewer a second than were offered
    kept_up = tally.answered_after <= PACED_KEPT_UP_SECONDS
    elapsed = tally.seconds + tally.answered_after
    met = {
        "issue_docs_per_s": kept_up and drained is not None,
        "verify_per_s": kept_up,
        "verify_p99_ms": verify["p99_ms"] <= TARGET_VERIFY_P99_MS,
        "no_errors_or_invalid_verdicts": errors == 0 and verify["not_valid"] == 0,
    }
    return {
        "what": "the targets' load offered as such: issue requests of 1 to 10 documents "
        f"offering {TARGET_ISSUE_DOCS_PER_S:.0f} documents/s and verifications at "
        f"{TARGET_VERIFY_PER_S:.0f}/s, each a Poisson process (open loop: arrivals do not "
        "wait for answers), for the window's length, on a fresh node process (caches cold) "
        "after the measured window; latency counted from each request's arrival, waits for "
        "a free connection included. The measured window above is closed loop (each "
        "client sends its next request when answered): the node's capacity under "
        "saturation, where p99 is queueing. Here: the latency at the targets' rates",
        "offered": {
            "issue_docs_per_s": TARGET_ISSUE_DOCS_PER_S,
            "verify_per_s": TARGET_VERIFY_PER_S,
        },
        "issue_docs_per_s": round(tally.issue_documents / elapsed, 1),
        "issue_anchored": drained is not None,
        "seconds_to_anchor_all_after_window": None if drained is None else round(drained, 1),
        "verify_per_s": round(len(tally.verify_latency) / elapsed, 1),
        "verify_p99_ms": verify["p99_ms"],
        "rates_mean": "answered over the arrivals' window and the time the last answers took "
        "after it (`answered_after_s`); the node kept up when that was at most "
        f"{PACED_KEPT_UP_SECONDS:g} s (`kept_up`); `window` gives them over the arrivals' "
        "window alone",
        "answered_after_s": round(tally.answered_after, 2),
        "kept_up": kept_up,
        "node_cpu_percent": round(100 * cpu / elapsed, 1),
        "window": figures,
        "latency_by_arrival": latency_by_slice(tally),
        "targets_met": met,
        "together": all(met.values()),
    }


def _py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start_profiler(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes] | None:
    binary = _py_spy()
    if binary is None:
        return None
    return subprocess.Popen(
        [
            binary,
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--threads",
            "--nonblocking",
            "--rate",
            str(PROFILE_RATE_HZ),
            "--duration",
            str(round(seconds)),
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=(output.parent / "py-spy.log").open("ab"),
    )


# --- ceilings ------------------------------------------------------------------------------


def server_ceiling(
    workdir: Path,
    bodies: IssueBodies,
    verify_documents: list[bytes],
    *,
    issuers: int,
    verifiers: int,
    seconds: float,
) -> dict[str, Any]:
    """The same mixed clients against trivial endpoints on the node's server stack."""
    port = find_free_port()
    log = (workdir / "ceiling-server.log").open("ab")
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.ceiling_server", str(port)],
        cwd=REPO,
        stdout=log,
        stderr=log,
        env={k: v for k, v in os.environ.items() if not k.startswith("DOCEX_")},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                httpx.post(f"{base}/v1/verify", content=b"{}", timeout=5)
                break
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the ceiling server did not start")
            time.sleep(0.05)
        cpu = _cpu_seconds(server.pid)
        tally = asyncio.run(
            mixed_load(
                base,
                "none",
                bodies,
                verify_documents,
                issuers=issuers,
                verifiers=verifiers,
                seconds=seconds,
            )
        )
        cpu = _cpu_seconds(server.pid) - cpu
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    return {
        "what": "trivial endpoints (read + parse the JSON body, answer) on the same "
        "FastAPI + uvicorn stack, one process, same clients and concurrency",
        **tally_figures(tally),
        "server_cpu_percent": round(100 * cpu / tally.seconds, 1),
    }


def chain_ceiling(rpc_url: str, transactions: int, timeout: float = 300) -> dict[str, Any]:
    """Pre-signed transfers sent with ``eth_sendRawTransaction``, one keep-alive connection
    per sending account (each sends its own nonces in order, so no gap can hold the
    others back); transactions per second until the last one is mined."""
    keys = dev_private_keys(CHAIN_CEILING_ACCOUNTS.stop)[CHAIN_CEILING_ACCOUNTS.start :]
    accounts = [Account.from_key(key) for key in keys]
    per_account = -(-transactions // len(accounts))
    with httpx.Client(timeout=60) as client:

        def rpc(method: str, params: list[Any]) -> Any:
            answer = client.post(
                rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
            ).json()
            if "error" in answer:
                raise RuntimeError(f"{method}: {answer['error']}")
            return answer["result"]

        def nonce_of(account: Any, block: str) -> int:
            return int(rpc("eth_getTransactionCount", [account.address, block]), 16)

        chain_id = int(rpc("eth_chainId", []), 16)
        gas_price = int(rpc("eth_gasPrice", []), 16) * 2
        first_nonces = [nonce_of(account, "pending") for account in accounts]
        bodies = [
            [
                json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": n,
                        "method": "eth_sendRawTransaction",
                        "params": [
                            "0x"
                            + account.sign_transaction(
                                {
                                    "to": "0x000000000000000000000000000000000000dEaD",
                                    "value": 1,
                                    "gas": 21_000,
                                    "gasPrice": gas_price,
                                    "nonce": first + n,
                                    "chainId": chain_id,
                                }
                            )
                            .raw_transaction.hex()
                            .removeprefix("0x")
                        ],
                    }
                ).encode()
                for n in range(per_account)
            ]
            for account, first in zip(accounts, first_nonces, strict=True)
        ]
        errors: list[str] = []
        host, port = rpc_url.removeprefix("http://").rsplit(":", 1)

        async def sender(own: list[bytes]) -> None:
            async with RawHttpConnection(host, int(port)) as connection:
                for body in own:
                    status, answer = await connection.request(
                        "POST", "/", body, {"Content-Type": "application/json"}
                    )
                    if status != 200 or b'"error"' in answer:
                        errors.append(answer[:200].decode(errors="replace"))

        async def send_all() -> None:
            await asyncio.gather(*(sender(own) for own in bodies))

        started = time.perf_counter()
        asyncio.run(send_all())
        deadline = time.monotonic() + timeout
        mined = 0
        while time.monotonic() < deadline:
            mined = sum(
                nonce_of(account, "latest") - first
                for account, first in zip(accounts, first_nonces, strict=True)
            )
            if mined >= per_account * len(accounts):
                break
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
    return {
        "what": "pre-signed transfers (eth_sendRawTransaction) to the same anvil, "
        f"{len(accounts)} accounts each on its own keep-alive connection, until the last "
        "is mined",
        "transactions": per_account * len(accounts),
        "mined": mined,
        "errors": len(errors),
        "first_errors": errors[:3],
        "seconds": round(elapsed, 3),
        "tx_per_s": round(mined / elapsed, 1),
    }


# --- the run -------------------------------------------------------------------------------


def _ratio(node: float, ceiling: float) -> float | None:
    return round(node / ceiling, 3) if ceiling else None


def _mean_ceiling(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The figures the ratios use, as the mean of two ceiling runs."""
    return {
        kind: {
            figure: round((before[kind][figure] + after[kind][figure]) / 2, 2)
            for figure in ("docs_per_s", "per_s", "p50_ms", "p95_ms", "p99_ms")
            if figure in before[kind]
        }
        for kind in ("issue", "verify")
    }


def _in_ceiling_requests(alone: dict[str, Any], server: dict[str, Any]) -> dict[str, Any]:
    """The costs of ``alone`` in units of the ceiling's time per trivial request (the
    server ceiling runs one process on one core: 1 / its verify rate), so that runs on a
    machine whose speed drifts compare, as the ``ceiling_ratio`` figures do."""
    if not server["verify"]["per_s"]:
        return {}
    per_request_ms = 1000 / server["verify"]["per_s"]
    return {
        "issue_per_document": round(alone["issue_cpu_ms_per_document"] / per_request_ms, 2),
        "verify_per_verification": round(
            alone["verify_cpu_ms_per_verification"] / per_request_ms, 2
        ),
        "means": "node CPU per operation divided by the ceiling server's time per trivial "
        f"request ({per_request_ms:.3f} ms in this run): lower is cheaper; compare these "
        "across runs, the milliseconds hold for this run's machine speed only",
    }


def _isolated_best_cases() -> dict[str, Any]:
    if not ISOLATED.exists():
        return {"note": "bench/results/node.json not found"}
    measured = json.loads(ISOLATED.read_text(encoding="utf-8"))
    verify, issue = measured.get("verify", {}), measured.get("issue", {})
    return {
        "note": "ISOLATED BEST CASES from bench/results/node.json (bench.node): verify "
        "posts one cached document over and over with nothing else running; issue sends "
        "500 documents per request with nothing else running. Not the mixed figures.",
        # which run of bench.node these are (make bench runs it first: the same run)
        "measured_at": measured.get("measured_at", "not recorded (before 2026-12-07)"),
        "verify_per_s": verify.get("per_s"),
        "verify_p99_ms": verify.get("p99_ms"),
        "issue_docs_per_s": issue.get("docs_per_s"),
        "issue_docs_per_request": 500,
        "issue_server_cpu_ms_per_doc": issue.get("server_cpu_ms_per_doc"),
    }


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    load_before = os.getloadavg()
    anvil = start_anvil(workdir / "anvil")
    data_dir = workdir / "node"
    try:
        # 1. pre-issue and anchor the distinct documents verifiers will present
        node, token = _start_node(
            data_dir,
            anvil.url,
            _node_env(args.database_url, DOCEX_BATCH_SIZE="2000", DOCEX_BATCH_MAX_LATENCY_MS="200"),
        )
        try:
            started = time.monotonic()
            verify_documents = pre_issue(node.base, token, args.distinct)
            pre_issue_seconds = time.monotonic() - started
        finally:
            node.interrupt()
        random.Random(args.seed).shuffle(verify_documents)
        print(f"pre-issued {len(verify_documents)} in {pre_issue_seconds:.0f} s", flush=True)

        # 2. ceilings, the node stopped
        expected_docs = round(args.seconds * args.expected_docs_per_s)
        window_bodies = IssueBodies(args.seed, expected_docs, WINDOW_FIRST_NUMBER)

        def measure_server_ceiling() -> dict[str, Any]:
            return server_ceiling(
                workdir,
                IssueBodies(args.seed + 1, round(args.ceiling_seconds * 3_000), 1),
                verify_documents,
                issuers=args.issuers,
                verifiers=args.verifiers,
                seconds=args.ceiling_seconds,
            )

        server_before = measure_server_ceiling()
        chain = chain_ceiling(anvil.url, args.chain_transactions)
        print(
            f"ceilings: server {server_before['verify']['per_s']} verify/s + "
            f"{server_before['issue']['docs_per_s']} docs/s; chain {chain['tx_per_s']} tx/s",
            flush=True,
        )

        # 3. the mixed window on a fresh node process
        node, token = _start_node(
            data_dir, anvil.url, _node_env(args.database_url, args.api_workers)
        )
        try:
            node_cpu = _cpu_seconds(node.pid)
            anvil_cpu = _cpu_seconds(anvil.pid or 0)
            window_started = time.time()
            tally = asyncio.run(
                mixed_load(
                    node.base,
                    token,
                    window_bodies,
                    verify_documents,
                    issuers=args.issuers,
                    verifiers=args.verifiers,
                    seconds=args.seconds,
                )
            )
            node_cpu = _cpu_seconds(node.pid) - node_cpu
            anvil_cpu = _cpu_seconds(anvil.pid or 0) - anvil_cpu
            drained = wait_anchored(node.base, tally.issue_documents)
            window_ended = time.time()
            # 4. where the time goes: the same load again, sampled by py-spy, in a window
            # of its own (the profiler's CPU would otherwise come out of the node's)
            profile_raw = workdir / "profile.txt"
            profile_seconds = min(args.seconds, PROFILE_SECONDS)
            profiler = start_profiler(node.pid, profile_seconds, profile_raw)
            profiler_cpu = 0.0
            profile_tally: Tally | None = None
            if profiler is not None:
                profile_tally = asyncio.run(
                    mixed_load(
                        node.base,
                        token,
                        IssueBodies(
                            args.seed + 2,
                            round(profile_seconds * args.expected_docs_per_s),
                            PROFILE_FIRST_NUMBER,
                        ),
                        verify_documents,
                        issuers=args.issuers,
                        verifiers=args.verifiers,
                        seconds=profile_seconds,
                    )
                )
                profiler_cpu = _cpu_seconds(profiler.pid)
                try:
                    profiler.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    profiler.kill()
                    profiler.wait()
            # 5. each kind of request alone: the cost model behind the targets
            anchored_before = tally.issue_documents + (
                profile_tally.issue_documents if profile_tally is not None else 0
            )
            alone = cost_alone(node.base, token, node.pid, args, verify_documents, anchored_before)
        finally:
            node.interrupt()
        accepted_by_node, batches, batched = window_counts(
            args.database_url or data_dir / "node.sqlite", window_started, window_ended
        )
        # 6. the targets' rates offered together, open loop, on a fresh node process
        paced = measure_paced(data_dir, anvil.url, args, verify_documents)
        # the neighbours' load moves: the server ceiling again, after the window
        server_after = measure_server_ceiling()
    finally:
        anvil.stop()

    server = _mean_ceiling(server_before, server_after)
    figures = tally_figures(tally)
    issue, verify = figures["issue"], figures["verify"]
    anchored_seconds = tally.seconds + (drained or 0.0)
    issue_anchored_per_s = tally.issue_documents / anchored_seconds if drained is not None else 0
    handled = tally.issue_documents + len(tally.verify_latency)
    mean_batch = batched / batches if batches else 0.0
    chain_docs_ceiling = chain["tx_per_s"] * mean_batch
    targets = {
        "issue_docs_per_s": {
            "target": f">= {TARGET_ISSUE_DOCS_PER_S:.0f} docs/s, accepted and anchored end "
            f"to end, at <= {TARGET_MAX_DOCS_PER_REQUEST} documents per request",
            "measured": round(min(issue["docs_per_s"], issue_anchored_per_s), 1),
            "met": min(issue["docs_per_s"], issue_anchored_per_s) >= TARGET_ISSUE_DOCS_PER_S,
        },
        "verify_per_s": {
            "target": f">= {TARGET_VERIFY_PER_S:.0f}/s",
            "measured": verify["per_s"],
            "met": verify["per_s"] >= TARGET_VERIFY_PER_S,
        },
        "verify_p99_ms": {
            "target": f"<= {TARGET_VERIFY_P99_MS:.0f} ms",
            "measured": verify["p99_ms"],
            "met": verify["p99_ms"] <= TARGET_VERIFY_P99_MS,
        },
    }
    targets["together"] = {"met": all(t["met"] for t in targets.values())}
    profile: dict[str, Any]
    if profiler is None:
        profile = {"note": "py-spy not installed (pip install py-spy): no profile this run"}
    elif not profile_raw.exists():
        profile = {"note": "py-spy wrote no profile: " + (workdir / "py-spy.log").read_text()}
    else:
        assert profile_tally is not None  # the profiler ran: so did its window's load
        profiled = tally_figures(profile_tally)
        profile = {
            "tool": "py-spy record --subprocesses --threads --nonblocking (every thread of "
            "the node and its children; samples of running threads only)",
            "window": f"a {profile_seconds:.0f} s window of its own right after the measured "
            "one (and after its documents were anchored), the same clients and load, the "
            "verified documents no longer cold: the profiler's CPU is not taken from the "
            "measured window",
            "profiler_cpu_percent": round(100 * profiler_cpu / profile_seconds, 1),
            "load_while_profiled": {
                "issue_docs_per_s": profiled["issue"]["docs_per_s"],
                "verify_per_s": profiled["verify"]["per_s"],
            },
            **summarise(profile_raw, PROFILE_RATE_HZ),
        }
    return {
        "benchmark": "mixed load: issuing and verifying at the same time (issue 15)",
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "quick": args.quick,
        "database": "PostgreSQL (DOCEX_DATABASE_URL)" if args.database_url else "SQLite",
        "api_workers": args.api_workers,
        "cpus": os.cpu_count(),
        "load_average_1min": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        # --- the headline figures -------------------------------------------------
        "issue_docs_per_s": issue["docs_per_s"],
        "issue_anchored_docs_per_s": round(issue_anchored_per_s, 1),
        "docs_per_request": issue["docs_per_request"],
        "docs_per_request_range": [1, TARGET_MAX_DOCS_PER_REQUEST],
        "verify_per_s": verify["per_s"],
        "verify_p99_ms": verify["p99_ms"],
        "distinct_documents": len(verify_documents),
        "node_cpu_ms_per_document": round(1000 * node_cpu / max(handled, 1), 3),
        "ceiling_ratio": {
            "issue_docs_per_s": _ratio(issue["docs_per_s"], server["issue"]["docs_per_s"]),
            "verify_per_s": _ratio(verify["per_s"], server["verify"]["per_s"]),
            "issue_p99_ms": _ratio(server["issue"]["p99_ms"], issue["p99_ms"]),
            "verify_p99_ms": _ratio(server["verify"]["p99_ms"], verify["p99_ms"]),
            "issue_anchored_docs_per_s_to_chain": _ratio(issue_anchored_per_s, chain_docs_ceiling),
        },
        "targets": targets,
        "at_target_rates": paced,
        # --- the details ------------------------------------------------------------
        "setup": {
            "node": "docex run --chain rpc (managed anvil started by the bench), default "
            "batch settings, verification rate limit lifted, receiver off, a fresh process "
            "after pre-issuing (caches cold; OS page cache not dropped)",
            "issuers": args.issuers,
            "verifiers": args.verifiers,
            "seconds": args.seconds,
            "pre_issue_seconds": round(pre_issue_seconds, 1),
            "issue_bodies_built_in_window": window_bodies.built_in_window,
        },
        "window": figures,
        "anchoring": {
            "accepted_by_node": int(accepted_by_node),
            "seconds_to_anchor_all_after_window": None if drained is None else round(drained, 1),
            "batches": int(batches),
            "mean_documents_per_batch": round(mean_batch, 1),
        },
        "cpu": {
            "source": "/proc/<pid>/stat of each process tree (user + system), over the window",
            "node_cpu_percent": round(100 * node_cpu / tally.seconds, 1),
            "node_cpu_ms_per_document": round(1000 * node_cpu / max(handled, 1), 3),
            "node_cpu_ms_per_document_means": "node CPU over the window divided by documents "
            "issued plus documents verified in it",
            "generator_cpu_percent": figures["generator_cpu_percent"],
            "generator": "this process: raw asyncio HTTP/1.1 keep-alive connections, issue "
            "bodies serialised before the window",
            "anvil_cpu_percent": round(100 * anvil_cpu / tally.seconds, 1),
            "profiler": "not running in the measured window (profile: a window of its own)",
        },
        "ceilings": {
            "server": {
                "what": server_before["what"],
                "means": "the mean of the runs before and after the node's window",
                **server,
                "before": server_before,
                "after": server_after,
            },
            "chain": {
                **chain,
                "docs_per_s_at_node_batch_size": round(chain_docs_ceiling, 1),
            },
            "ratio_means": "node figure / ceiling figure for rates; ceiling / node for "
            "latencies (1.0 = as fast as the ceiling either way)",
        },
        "profile": profile,
        "cost_alone": {**alone, "in_ceiling_requests": _in_ceiling_requests(alone, server)},
        "isolated_best_cases": _isolated_best_cases(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mixed_load")
    parser.add_argument("--quick", action="store_true", help="short window, fewer documents")
    parser.add_argument("--seconds", type=float, default=None, help="measured window (60)")
    parser.add_argument("--distinct", type=int, default=None, help="pre-issued documents")
    parser.add_argument("--issuers", type=int, default=16)
    parser.add_argument("--verifiers", type=int, default=32)
    parser.add_argument("--ceiling-seconds", type=float, default=None)
    parser.add_argument("--chain-transactions", type=int, default=None)
    parser.add_argument("--expected-docs-per-s", type=float, default=1_500.0)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL for the node (DOCEX_DATABASE_URL)"
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="the node database and the event index in a private PostgreSQL server",
    )
    parser.add_argument(
        "--api-workers", type=int, default=1, help="docex run --api-workers N for the window"
    )
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.postgres and args.database_url:
        parser.error("--postgres starts its own server: give it or --database-url, not both")
    if args.output is None:
        args.output = (
            RESULTS.with_name("mixed_load_postgres.json")
            if args.postgres or args.database_url
            else RESULTS
            if args.api_workers == 1
            else RESULTS.with_name(f"mixed_load_api_workers_{args.api_workers}.json")
        )
    # a `kill` (SIGTERM) unwinds like Ctrl-C: the node and anvil are stopped by their PIDs
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    args.seconds = args.seconds or (10.0 if args.quick else 60.0)
    args.distinct = args.distinct or (2_000 if args.quick else 20_000)
    args.ceiling_seconds = args.ceiling_seconds or (5.0 if args.quick else 20.0)
    # few: every transfer is a block that the managed anvil re-dumps to its state file
    # each second, and thousands of them slowed that anvil until it stopped mining
    args.chain_transactions = args.chain_transactions or (400 if args.quick else 800)
    if not args.quick and args.distinct < MIN_DISTINCT:
        parser.error(f"--distinct must be at least {MIN_DISTINCT:,} (or use --quick)")
    with work_directory("docex-bench-mixed-") as temporary:
        server = None
        if args.postgres:
            from node.testing.postgres_server import PostgresServer

            server = PostgresServer(Path(temporary) / "postgres")
            server.start()
        try:
            if server is not None:
                args.database_url = server.create_database("bench_mixed")
            result = run(args, Path(temporary))
        finally:
            if server is not None:
                server.stop()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    window = result["window"]
    print(
        f"mixed load ({result['database']}, {window['seconds']} s): issue "
        f"{result['issue_docs_per_s']} docs/s at {result['docs_per_request']} docs/request "
        f"(anchored end to end {result['issue_anchored_docs_per_s']}/s, p99 "
        f"{window['issue']['p99_ms']} ms), verify {result['verify_per_s']}/s p99 "
        f"{result['verify_p99_ms']} ms over {result['distinct_documents']} distinct documents; "
        f"node CPU {result['node_cpu_ms_per_document']} ms/document; generator CPU "
        f"{window['generator_cpu_percent']} %; ceiling ratios {result['ceiling_ratio']}; "
        f"targets together {'met' if result['targets']['together']['met'] else 'not met'}"
    )
    alone = result["cost_alone"]
    print(
        f"each alone: issue {alone['issue_cpu_ms_per_document']} ms CPU/document, verify "
        f"{alone['verify_cpu_ms_per_verification']} ms CPU/verification: the targets need "
        f"{alone['cores_for_targets']} cores of node CPU; in the ceiling's requests: "
        f"{alone['in_ceiling_requests'].get('issue_per_document')} and "
        f"{alone['in_ceiling_requests'].get('verify_per_verification')}"
    )
    paced = result["at_target_rates"]
    print(
        f"at the targets' rates (open loop, {paced['window']['seconds']} s): issue "
        f"{paced['issue_docs_per_s']} docs/s (p99 {paced['window']['issue']['p99_ms']} ms), "
        f"verify {paced['verify_per_s']}/s p99 {paced['verify_p99_ms']} ms; node CPU "
        f"{paced['node_cpu_percent']} %; targets together "
        f"{'met' if paced['together'] else 'not met'} {paced['targets_met']}"
    )
    failed = (
        window["issue"]["errors"]
        or window["verify"]["errors"]
        or window["verify"]["not_valid"]
        or result["anchoring"]["seconds_to_anchor_all_after_window"] is None
        or not result["cost_alone"]["issue_anchored"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
