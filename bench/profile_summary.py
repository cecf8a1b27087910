"""Where a node's CPU time goes: a summary of a py-spy recording (``--format raw``).

py-spy (PyPI, a sampling profiler that reads another process's memory: the node is not
changed nor paused, ``--nonblocking``) records the node and its children, every thread,
as collapsed stacks: ``process ...;thread (id): name;frame;...;frame COUNT``. The
summary gives the share of samples by process, by thread, by area of the code of the
innermost frame (our packages, the HTTP stack, SQLAlchemy, ...), and the top functions
by self time (innermost frame) and docex's own functions by inclusive time (anywhere on
the stack).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

#: the area a frame's file belongs to, first match wins
_AREAS: tuple[tuple[str, str], ...] = (
    ("certificates/", "document core (certificates/)"),
    ("ledger/", "ledger (ledger/)"),
    ("adapters/", "content store (adapters/)"),
    ("node/", "node (node/)"),
    ("sqlalchemy/", "SQLAlchemy"),
    ("sqlite3/", "sqlite3"),
    ("psycopg", "PostgreSQL driver"),
    ("pydantic", "pydantic"),
    ("starlette/", "HTTP stack (starlette, fastapi, uvicorn)"),
    ("fastapi/", "HTTP stack (starlette, fastapi, uvicorn)"),
    ("uvicorn/", "HTTP stack (starlette, fastapi, uvicorn)"),
    ("anyio/", "HTTP stack (starlette, fastapi, uvicorn)"),
    ("json/", "json (stdlib)"),
    ("web3/", "web3 / eth libraries"),
    ("eth_", "web3 / eth libraries"),
    ("coincurve/", "coincurve (secp256k1)"),
    ("cryptography/", "cryptography"),
    ("concurrent/", "threads and pools (stdlib)"),
    ("threading.py", "threads and pools (stdlib)"),
    ("multiprocessing/", "threads and pools (stdlib)"),
    ("logging/", "logging (stdlib)"),
    ("asyncio/", "asyncio (stdlib)"),
    ("prometheus_client/", "prometheus_client"),
)
#: the files of docex's own packages (for the inclusive list: the stack above them is
#: the same server loop for every request)
_OURS = ("certificates/", "ledger/", "adapters/", "node/")
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _area(file: str) -> str:
    for needle, area in _AREAS:
        if needle in file:
            return area
    return "other"


def _process_label(frame: str) -> str:
    if "spawn_main" in frame or "multiprocessing" in frame:
        return "child process (wrapping, or a second API process)"
    return "docex run (main process)"


def summarise(raw: Path, rate_hz: float, top: int = 15) -> dict[str, Any]:
    """The summary of py-spy's raw output in ``raw`` (sampled at ``rate_hz``)."""
    by_process: Counter[str] = Counter()
    by_thread: Counter[str] = Counter()
    by_area: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        process = "docex run (main process)"
        thread = "?"
        functions: list[tuple[str, str]] = []
        for frame in stack.split(";"):
            if frame.startswith("process "):
                process = _process_label(frame)
            elif frame.startswith("thread ("):
                thread = frame.split(": ", 1)[-1]
            else:
                match = _FRAME.match(frame)
                name, file = (match["function"], match["file"]) if match else (frame, "")
                functions.append((f"{name} ({file})", file))
        by_process[process] += count
        by_thread[f"{process}: {re.sub(r'[-_]?[0-9]+$', '', thread)}"] += count
        if functions:
            leaf, leaf_file = functions[-1]
            self_time[leaf] += count
            by_area[_area(leaf_file)] += count
        for function in {name for name, file in functions if file.startswith(_OURS)}:
            inclusive[function] += count

    def shares(counter: Counter[str], limit: int | None = None) -> list[dict[str, Any]]:
        return [
            {"name": name, "samples": n, "percent": round(100 * n / max(total, 1), 1)}
            for name, n in counter.most_common(limit)
        ]

    return {
        "samples": total,
        "rate_hz": rate_hz,
        "cpu_seconds_sampled": round(total / rate_hz, 1),
        "by_process": shares(by_process),
        "by_thread": shares(by_thread, top),
        "self_time_by_area": shares(by_area),
        "top_self": shares(self_time, top),
        "top_inclusive_docex": shares(inclusive, top),
    }
