"""Issuing sample documents to a node over its API, as an issuing ministry's system does."""

from __future__ import annotations

import contextlib
import itertools
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from certificates.schemas.samples import sample_document

#: batches close small and fast, so a soak sees many batches (and many crash windows)
SMALL_BATCHES = {
    "DOCEX_BATCH_SIZE": "20",
    "DOCEX_BATCH_MAX_LATENCY_MS": "50",
    "DOCEX_RECEIVE": "false",
}

_numbers = itertools.count(1)
_numbers_lock = threading.Lock()


def next_documents(count: int, type_id: str = "coo/1") -> list[object]:
    """``count`` distinct sample documents (numbered across the whole soak run)."""
    with _numbers_lock:
        numbers = [next(_numbers) for _ in range(count)]
    return [sample_document(type_id, n) for n in numbers]


def issue(
    client: httpx.Client, token: str, count: int, type_id: str = "coo/1"
) -> tuple[int, list[str]]:
    """POST ``count`` documents in one request: (HTTP status or 0 if unreachable, ids)."""
    return post_documents(client, token, next_documents(count, type_id))


def issue_documents(client: httpx.Client, token: str, documents: list[object]) -> list[str]:
    """POST ``documents`` in one request that must be accepted; their receipt ids."""
    status, ids = post_documents(client, token, documents)
    if status != 202:
        raise RuntimeError(f"the node answered {status} to an issue request")
    return ids


def post_documents(
    client: httpx.Client, token: str, documents: list[object]
) -> tuple[int, list[str]]:
    body = json.dumps(documents)
    try:
        answer = client.post(
            "/v1/documents",
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
    except httpx.TransportError:
        return 0, []
    if answer.status_code != 202:
        return answer.status_code, []
    return 202, [receipt["id"] for receipt in answer.json()["receipts"]]


def anchored_receipts(
    client: httpx.Client, token: str, receipt_ids: list[str], timeout: float = 60.0
) -> list[dict[str, Any]]:
    """The receipts of ``receipt_ids`` once each reads ``anchored``, in order.

    A receipt reads ``anchored`` (with ``targetHash``, ``document``, ...) only once the
    node's event index holds its anchor, a poll after the outbox records it mined:
    until then it reads ``pending`` without those keys. RuntimeError after ``timeout``.
    """
    auth = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + timeout
    receipts: list[dict[str, Any]] = []
    for receipt_id in receipt_ids:
        while True:
            answer = client.get(f"/v1/receipts/{receipt_id}", headers=auth)
            answer.raise_for_status()
            receipt: dict[str, Any] = answer.json()
            if receipt["status"] == "anchored":
                receipts.append(receipt)
                break
            if receipt["status"] != "pending":
                raise RuntimeError(f"receipt {receipt_id} reads {receipt['status']}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"receipt {receipt_id} not anchored in {timeout:.0f} s")
            time.sleep(0.1)
    return receipts


def journal_unfinished(data_dir: Path) -> int:
    """Transactions the node's journal holds as signed or sent (not final): orphans once
    the node has settled."""
    uri = f"file:{data_dir / 'transactions.sqlite'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        row = db.execute("SELECT count(*) FROM tx WHERE status IN ('signed', 'sent')").fetchone()
    return int(row[0])
