"""Disk full: the node's data dir on a small tmpfs (64 MiB) that is then filled.

While the file system is full, issuing must answer a clean 507 ``storage-full`` (or 503)
problem+json, never a 500; the databases must pass ``PRAGMA integrity_check``; once the
filler file is removed the node must accept again and anchor everything it accepted
(checked against the chain). The chain (anvil) keeps its state outside the tmpfs. Needs
root for ``mount``; where it cannot mount, the scenario is reported as skipped.
"""

from __future__ import annotations

import contextlib
import errno
import json
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx

from adapters.content.block_pack import PACK_FILE
from bench.soak.chain_audit import audit_anchors
from bench.soak.issuing import SMALL_BATCHES, issue, next_documents
from bench.soak.processes import NodeProcess, start_anvil
from bench.soak.results import ScenarioResult, SoakContext

TITLE = "Disk full (64 MiB tmpfs data dir)"
CLEAN_STATUSES = {202, 503, 507}


def _mount(directory: Path) -> str | None:
    """Mount a 64 MiB tmpfs on ``directory``; the reason when it cannot."""
    directory.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    return None if done.returncode == 0 else (done.stderr.strip() or "mount failed")


def _unmount(directory: Path) -> str | None:
    """Unmount ``directory`` (a few tries: a just-stopped process may still hold it)."""
    reason = None
    for _ in range(20):
        done = subprocess.run(
            ["umount", str(directory)],
            check=False,
            capture_output=True,
            text=True,
        )
        if done.returncode == 0:
            return None
        reason = done.stderr.strip()
        time.sleep(0.5)
    return reason


def _fill(filler: Path) -> int:
    """Write ``filler`` until the file system is full; the bytes written."""
    written = 0
    size = 1 << 20
    with filler.open("wb", buffering=0) as out:
        while size >= 512:
            try:
                written += out.write(b"\0" * size)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                size //= 2  # the last partial megabyte: smaller and smaller writes
    return written


#: every SQLite file of the data dir: the node's, the journal, the index, the content pack
_DATABASES = ("node.sqlite", "transactions.sqlite", "index.sqlite", f"content/{PACK_FILE}")


def _integrity(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def run(context: SoakContext) -> ScenarioResult:
    result = ScenarioResult("disk-full", TITLE)
    started = time.monotonic()
    home = context.workdir / "disk-full"
    mounted = home / "tmpfs"
    reason = _mount(mounted)
    if reason is not None:
        result.outcome = "skipped"
        result.notes.append(f"cannot mount a tmpfs here ({reason}); run make soak as root")
        return result
    anvil = start_anvil(home / "anvil")
    data_dir = mounted / "vn"
    node: NodeProcess | None = None
    statuses: dict[int, int] = {}
    problem_types: set[str] = set()
    try:
        # the node's log stays off the tmpfs: a full disk must not cost us its record
        node = NodeProcess(
            data_dir, ["--chain", "rpc", "--rpc-url", anvil.url], SMALL_BATCHES, log_dir=home
        )
        token = node.sample_token()
        accepted: list[str] = []
        with httpx.Client(base_url=node.base, timeout=60) as client:
            accepted += issue(client, token, 20)[1]
            filled = _fill(mounted / "filler")
            context.log(f"tmpfs filled ({filled >> 20} MiB filler)")
            for _ in range(40):
                answer = client.post(
                    "/v1/documents",
                    content=json.dumps(next_documents(20)),
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                    },
                )
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
                if answer.status_code == 202:
                    accepted += [r["id"] for r in answer.json()["receipts"]]
                else:
                    problem_types.add(answer.headers.get("content-type", ""))
            full_answers = dict(statuses)
            checks = {name: _integrity(data_dir / name) for name in _DATABASES}
            (mounted / "filler").unlink()
            time.sleep(1.0)  # the batcher retries its failed store once a second
            after_status, after_ids = issue(client, token, 20)
            accepted += after_ids
            settled = node.wait_all_anchored(len(accepted), timeout=120)
            healthy = client.get("/healthz").status_code
        audit = audit_anchors(anvil.url, data_dir, accepted)
        checks_after = {name: _integrity(data_dir / name) for name in _DATABASES}
    finally:
        if node is not None:
            node.interrupt()
        anvil.stop()
        unmounted = _unmount(mounted)
        if unmounted is not None:
            result.notes.append(f"could not unmount {mounted}: {unmounted}")
    rejected = sum(n for status, n in full_answers.items() if status != 202)
    result.figures = {
        "answers_while_full": {str(k): v for k, v in sorted(full_answers.items())},
        "clean_rejections": sum(n for s, n in full_answers.items() if s in (503, 507)),
        "integrity_while_full": "ok" if set(checks.values()) == {"ok"} else checks,
        "integrity_after": "ok" if set(checks_after.values()) == {"ok"} else checks_after,
        "status_after_space_returned": after_status,
        "healthz_after": healthy,
        **audit.figures(),
    }
    holds = (
        set(full_answers) <= CLEAN_STATUSES
        and rejected > 0
        and set(checks.values()) == {"ok"}
        and set(checks_after.values()) == {"ok"}
        and after_status == 202
        and settled is not None
        and audit.holds
    )
    if problem_types and not all(t.startswith("application/problem+json") for t in problem_types):
        result.notes.append(f"a rejection was not problem+json: {problem_types}")
        holds = False
    result.outcome = "pass" if holds else "fail"
    result.seconds = time.monotonic() - started
    return result
