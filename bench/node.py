"""Node benchmark (issue 5, section 6): a running ``docex run`` node over HTTP.

- **verify**: 32 concurrent keep-alive HTTP/1.1 connections (a lean raw-asyncio client;
  its own CPU use and the node's are reported) POST one anchored certificate to
  ``/v1/verify`` for a fixed time; the node parses it and runs all six checks for each
  request (integrity and signature computed, the on-chain answers memoised per index
  checkpoint, see ``node.verification``); latency p50/p99 and verifications/s. Targets:
  p99 <= 50 ms and >= 1,000 verifications/s. ``docex run`` is one process (API and
  workers share it), so only one uvicorn worker is measured: the app cannot run under
  several workers yet (its runtime and background threads are per process).
- **issue**: documents accepted (202) -> all anchored (receipts ``anchored``), end to end,
  with 4 concurrent clients posting 500 documents per request. Target >= 2,000 docs/s.

The node runs on a managed anvil the benchmark starts, with the verify rate limit
lifted. Results go to bench/results/node.json. Run: ``python -m bench.node [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from certificates.schemas.samples import sample_document
from ledger.chains import ManagedAnvil, anvil_binary, find_free_port

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
RESULTS = ROOT / "results" / "node.json"
DOCEX = REPO / ".venv" / "bin" / "docex"
CLIENTS = 32
TARGET_P99_MS = 50.0
TARGET_VERIFY_PER_S = 1_000.0
TARGET_ISSUE_PER_S = 2_000.0
PER_REQUEST = 500
ISSUE_CLIENTS = 4


def _start_node(data_dir: Path, port: int, rpc_url: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCEX_")}
    env.update(
        DOCEX_VERIFY_RATE_PER_SECOND="1000000",
        DOCEX_VERIFY_BURST="1000000",
        DOCEX_BATCH_SIZE="2000",
        DOCEX_BATCH_MAX_LATENCY_MS="200",
        DOCEX_RECEIVE="false",
        DOCEX_LOG_LEVEL="warning",
    )
    log = (data_dir.parent / "node.log").open("ab")
    command = [str(DOCEX), "run", "--data-dir", str(data_dir), "--port", str(port)]
    return subprocess.Popen(
        [*command, "--chain", "rpc", "--rpc-url", rpc_url],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
        cwd=REPO,
    )


def _sample_token(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip().startswith("sample token"):
            return line.rsplit(" ", 1)[-1].strip()
    raise RuntimeError("docex run exited before printing its sample token")


def _wait_until_serving(base: str) -> None:
    """The token is printed just before uvicorn binds: wait for /healthz to answer."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the node never answered /healthz")
        time.sleep(0.05)


def _anchored(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "node.sqlite", timeout=30) as db:
        row = db.execute("SELECT count(*) FROM outbox WHERE state = 'anchored'").fetchone()
        return int(row[0])


async def _issue(base: str, token: str, total: int, data_dir: Path) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {token}"}
    already = _anchored(data_dir)
    bodies = [
        [sample_document("coo/1", start + i + 1) for i in range(PER_REQUEST)]
        for start in range(0, total, PER_REQUEST)
    ]
    queue: asyncio.Queue[list[Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def client_loop(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            answer = await client.post("/v1/documents", json=body, headers=auth)
            answer.raise_for_status()

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(ISSUE_CLIENTS)))
    accepted_after = time.perf_counter() - started
    while _anchored(data_dir) < already + total:
        await asyncio.sleep(0.05)
        if time.perf_counter() - started > 600:
            raise RuntimeError("documents not anchored within 10 minutes")
    elapsed = time.perf_counter() - started
    return {
        "documents": total,
        "accepted_seconds": round(accepted_after, 3),
        "anchored_seconds": round(elapsed, 3),
        "accepted_per_s": round(total / accepted_after, 1),
        "docs_per_s": round(total / elapsed, 1),
        "target_docs_per_s": TARGET_ISSUE_PER_S,
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _verify(base: str, wrapped: Any, seconds: float, server_pid: int) -> dict[str, Any]:
    """32 keep-alive HTTP/1.1 connections, each sending one request at a time.

    The client is raw asyncio streams, not httpx: 32 httpx clients in one Python process
    used more CPU than the node itself on this 2-core machine, so they measured the load
    generator. Every answer is still read in full, parsed, and must be 200 + valid.
    """
    host, port = base.removeprefix("http://").rsplit(":", 1)
    body = json.dumps(wrapped).encode()
    request = (
        f"POST /v1/verify HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds

    async def client_loop() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                answer = await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                if status != 200 or json.loads(answer)["valid"] is not True:
                    failures += 1
        finally:
            writer.close()

    server_cpu = _cpu_seconds(server_pid)
    client_cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(CLIENTS)))
    elapsed = time.perf_counter() - started
    client_cpu = time.process_time() - client_cpu
    server_cpu = _cpu_seconds(server_pid) - server_cpu
    ordered = sorted(latencies)
    return {
        "workers": 1,
        "clients": CLIENTS,
        "client": "raw asyncio streams, 32 keep-alive HTTP/1.1 connections, one process",
        "cpu_pinning": "none: node and client share the machine's cores",
        "requests": len(ordered),
        "failures": failures,
        "seconds": round(elapsed, 3),
        "per_s": round(len(ordered) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
        "client_cpu_percent": round(100 * client_cpu / elapsed, 1),
        "server_cpu_percent": round(100 * server_cpu / elapsed, 1),
        "target_p99_ms": TARGET_P99_MS,
        "target_per_s": TARGET_VERIFY_PER_S,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.node")
    parser.add_argument("--quick", action="store_true", help="fewer documents, shorter runs")
    args = parser.parse_args(argv)
    issue_total = 2_000 if args.quick else 10_000
    verify_seconds = 4.0 if args.quick else 10.0
    with tempfile.TemporaryDirectory(prefix="docex-bench-node-") as temporary:
        workdir = Path(temporary)
        anvil = ManagedAnvil(
            anvil_binary(REPO / "node_modules"), workdir / "anvil", port=find_free_port()
        )
        anvil.start()
        port = find_free_port()
        process = _start_node(workdir / "node", port, anvil.url)
        base = f"http://127.0.0.1:{port}"
        try:
            token = _sample_token(process)
            _wait_until_serving(base)
            issue = asyncio.run(_issue(base, token, issue_total, workdir / "node"))
            with sqlite3.connect(workdir / "node" / "node.sqlite") as db:
                (wrapped_json,) = db.execute(
                    "SELECT wrapped_json FROM outbox WHERE state = 'anchored' LIMIT 1"
                ).fetchone()
            wrapped = json.loads(wrapped_json)
            # the index must have caught up before a verdict can be valid
            deadline = time.monotonic() + 60
            while not httpx.post(f"{base}/v1/verify", json=wrapped, timeout=30).json()["valid"]:
                if time.monotonic() > deadline:
                    raise RuntimeError("the node never found its own anchor")
                time.sleep(0.1)
            verify = asyncio.run(_verify(base, wrapped, verify_seconds, process.pid))
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            anvil.stop()
    verify_ok = verify["p99_ms"] <= TARGET_P99_MS and verify["per_s"] >= TARGET_VERIFY_PER_S
    issue_ok = issue["docs_per_s"] >= TARGET_ISSUE_PER_S
    result = {
        "benchmark": "node",
        "quick": args.quick,
        "cpus": os.cpu_count(),
        "verify": {**verify, "met": verify_ok},
        "verify_two_workers": {
            "measured": False,
            "reason": "docex run serves one uvicorn worker: the runtime (chain, outbox, "
            "batcher, indexer, receiver threads) lives in that process; one worker meets "
            "the verify targets, and a second would compete with the load generator and "
            "the background threads for the same 2 cores",
        },
        "issue": {**issue, "met": issue_ok},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(
        f"verify: p50 {verify['p50_ms']} ms, p99 {verify['p99_ms']} ms, "
        f"{verify['per_s']}/s with {CLIENTS} clients ({'met' if verify_ok else 'MISSED'})\n"
        f"issue: {issue['docs_per_s']} docs/s accepted -> anchored "
        f"({'met' if issue_ok else 'MISSED'})"
    )
    return 0 if verify_ok and issue_ok else 1


if __name__ == "__main__":
    sys.exit(main())
