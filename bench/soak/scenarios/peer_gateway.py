"""Peer gateway down, then hostile, then honest, while a member receives documents.

VN issues certificates of origin addressed to KR; KR's node (joined to VN's consortium,
its receiver on) reaches VN's gateway only through a proxy the soak controls:

1. **down**: nothing listens on the proxy's port (connection refused);
2. **hostile**: the proxy answers, first with one hex digit of every batch manifest
   flipped, then with the manifest intact but a byte of every ``/ipfs/`` block flipped
   (each for the phase's length, and on until KR has reported it once, at most 30 s
   more: on a loaded machine a retry can fall after a short phase's end);
3. **honest**: the proxy passes VN's answers through.

KR must file nothing while the peer is down or hostile (retrying, reporting the hostile
answers), and file every document, verified, once the peer is honest.
"""

from __future__ import annotations

import contextlib
import http.server
import sqlite3
import threading
import time
from pathlib import Path

import httpx

from bench.soak.issuing import anchored_receipts, issue_documents
from bench.soak.processes import NodeProcess, start_anvil
from bench.soak.results import ScenarioResult, SoakContext
from certificates.schemas.samples import sample_document
from ledger.chains import find_free_port

TITLE = "Peer gateway down, then hostile, during receipt"
DOCUMENTS = 12
RECEIVE_FAST = {"DOCEX_RECEIVE_POLL_MS": "200", "DOCEX_RECEIVE_MAX_BACKOFF_MS": "1000"}


class _Proxy:
    """A 127.0.0.1 HTTP proxy to one upstream node, honest or hostile."""

    def __init__(self, port: int, upstream: str) -> None:
        #: "honest", "bad-manifest" or "bad-blocks"
        self.mode = "honest"
        self.upstream = upstream
        self.tampered = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                answer = httpx.get(
                    proxy.upstream + self.path,
                    headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
                    timeout=30,
                )
                body = answer.content
                if answer.status_code == 200 and body and proxy.targets(self.path):
                    body = proxy.tamper(self.path, body)
                self.send_response(answer.status_code)
                for name in ("content-type", "etag", "cache-control"):
                    if name in answer.headers:
                        self.send_header(name, answer.headers[name])
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                """Quiet."""

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def targets(self, path: str) -> bool:
        if self.mode == "bad-manifest":
            return path.endswith("/manifest")
        return self.mode == "bad-blocks" and path.startswith("/ipfs/")

    def tamper(self, path: str, body: bytes) -> bytes:
        self.tampered += 1
        if "/manifest" in path:
            text = body.decode()
            at = text.index("0x") + 2
            flipped = "1" if text[at] != "1" else "2"
            return (text[:at] + flipped + text[at + 1 :]).encode()
        middle = len(body) // 2
        return body[:middle] + bytes([body[middle] ^ 0x01]) + body[middle + 1 :]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _reports_beyond(data_dir: Path, reports: int, bound: float = 30.0) -> tuple[int, int]:
    """:func:`_kr_counts` once KR has recorded more than ``reports`` peer reports, or
    after ``bound`` seconds (the scenario then fails on the count)."""
    deadline = time.monotonic() + bound
    counts = _kr_counts(data_dir)
    while counts[1] <= reports and time.monotonic() < deadline:
        time.sleep(0.2)
        counts = _kr_counts(data_dir)
    return counts


def _kr_counts(data_dir: Path) -> tuple[int, int]:
    """(documents filed in KR's inbox, peer reports KR recorded)."""
    uri = f"file:{data_dir / 'node.sqlite'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        db.execute("PRAGMA busy_timeout=10000")
        filed = db.execute("SELECT count(*) FROM inbox").fetchone()[0]
        reports = db.execute("SELECT count(*) FROM peer_reports").fetchone()[0]
    return int(filed), int(reports)


def _kr_filed_hashes(data_dir: Path) -> set[str]:
    uri = f"file:{data_dir / 'node.sqlite'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        rows = db.execute("SELECT target_hash, valid FROM inbox").fetchall()
    return {"0x" + bytes(row[0]).hex() for row in rows if row[1]}


def run(context: SoakContext) -> ScenarioResult:
    result = ScenarioResult("peer-gateway", TITLE)
    started = time.monotonic()
    phase = context.size(15.0, 3.0, 2.0)
    home = context.workdir / "peer-gateway"
    anvil = start_anvil(home / "anvil")
    chain = ["--chain", "rpc", "--rpc-url", anvil.url]
    proxy_port = find_free_port()
    vn = NodeProcess(home / "vn", [*chain, "--country", "VN"], {"DOCEX_RECEIVE": "false"})
    kr: NodeProcess | None = None
    proxy: _Proxy | None = None
    try:
        token = vn.sample_token()
        kr = NodeProcess(
            home / "kr",
            [
                *chain,
                "--country",
                "KR",
                "--join",
                str(home / "vn"),
                "--peer-gateway",
                f"VN=http://127.0.0.1:{proxy_port}",
            ],
            RECEIVE_FAST,
        )
        kr.wait_until_up()
        # certificates of origin for Korean importers (every sixth sample goes to KR)
        documents = [sample_document("coo/1", 6 * k + 2) for k in range(1000, 1000 + DOCUMENTS)]
        with httpx.Client(base_url=vn.base, timeout=60) as client:
            ids = issue_documents(client, token, documents)
            if vn.wait_all_anchored(len(ids), timeout=60) is None:
                raise RuntimeError("VN did not anchor the documents")
            expected = {r["targetHash"] for r in anchored_receipts(client, token, ids)}

        time.sleep(phase)  # 1. down: nothing listens on the proxy port
        filed_down, _ = _kr_counts(kr.data_dir)
        retries_down = kr.log_count("batch will be retried")
        context.log(f"peer down for {phase:.0f} s: {filed_down} filed, {retries_down} retries")

        proxy = _Proxy(proxy_port, vn.base)  # 2. hostile
        proxy.mode = "bad-manifest"
        time.sleep(phase)
        # each hostile phase lasts until KR has met it at least once (a retry falls
        # later than the phase's end on a loaded machine), within a bound
        _, manifest_reports = _reports_beyond(kr.data_dir, 0)
        proxy.mode = "bad-blocks"
        time.sleep(phase)
        filed_hostile, reports = _reports_beyond(kr.data_dir, manifest_reports)
        context.log(f"peer hostile for {2 * phase:.0f} s: {filed_hostile} filed, {reports} reports")

        proxy.mode = "honest"  # 3. honest
        honest_at = time.monotonic()
        filed_honest = 0
        while time.monotonic() - honest_at < 60:
            filed_honest, _ = _kr_counts(kr.data_dir)
            if filed_honest >= len(expected):
                break
            time.sleep(0.2)
        received = _kr_filed_hashes(kr.data_dir)
        took = time.monotonic() - honest_at
    finally:
        if kr is not None:
            kr.interrupt()
        vn.interrupt()
        if proxy is not None:
            proxy.close()
        anvil.stop()
    result.figures = {
        "documents_addressed": len(expected),
        "filed_while_down": filed_down,
        "retries_while_down": retries_down,
        "filed_while_hostile": filed_hostile,
        "hostile_answers_sent": proxy.tampered if proxy is not None else 0,
        "peer_reports_bad_manifest": manifest_reports,
        "peer_reports_bad_blocks": reports - manifest_reports,
        "filed_once_honest": filed_honest,
        "seconds_to_file_all_once_honest": round(took, 2),
        "filed_equals_issued": received == expected,
    }
    holds = (
        filed_down == 0
        and filed_hostile == 0
        and retries_down > 0
        and manifest_reports > 0
        and reports > manifest_reports
        and received == expected
        and filed_honest == len(expected)
    )
    result.outcome = "pass" if holds else "fail"
    result.seconds = time.monotonic() - started
    return result
