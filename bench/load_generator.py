"""The mixed-load benchmark's load: its clients, closed loop and open loop, and their tally.

:func:`mixed_load` runs ``issuers`` and ``verifiers`` keep-alive connections that each
send their next request when answered (closed loop: the node's capacity under
saturation); :func:`paced_load` offers requests as Poisson arrivals at given rates
whatever the answers (open loop: the latency at those rates, counted from each
request's arrival). Both tally what was answered (:class:`Tally`) and summarise it
(:func:`tally_figures`, :func:`latency_by_slice`). ``bench.mixed_load`` runs them against
the node and against the ceiling server; they speak raw HTTP/1.1
(``bench.raw_http``).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench.raw_http import RawHttpConnection
from certificates.schemas.samples import sample_document

#: documents per issue request at most (the target's bound; each request draws 1 to this)
MAX_DOCS_PER_REQUEST = 10


@dataclass
class Tally:
    """What one mixed run saw, per kind of request."""

    issue_latency: list[float] = field(default_factory=list)
    issue_documents: int = 0
    issue_errors: dict[int, int] = field(default_factory=dict)
    verify_latency: list[float] = field(default_factory=list)
    verify_errors: dict[int, int] = field(default_factory=dict)
    verified_not_valid: int = 0
    #: verifications of a document this run had not presented before
    verify_first_presentations: int = 0
    seconds: float = 0.0
    generator_cpu_seconds: float = 0.0
    #: the arrival time of each latency above, in order (open-loop windows only)
    issue_arrivals: list[float] = field(default_factory=list)
    verify_arrivals: list[float] = field(default_factory=list)
    #: seconds from the end of the arrivals' window to the last answer, 0 when it came
    #: within the window (open-loop windows only)
    answered_after: float = 0.0


class IssueBodies:
    """Issue requests of 1 to 10 distinct new documents, serialised ahead of the window
    (so the generator spends its time sending, not building documents), then on the fly
    should the window outrun them (counted)."""

    def __init__(self, seed: int, prepared_documents: int, first_number: int) -> None:
        self._rng = random.Random(seed)
        self._numbers = itertools.count(first_number)
        self._bodies: list[tuple[int, bytes]] = []
        self.built_in_window = 0
        prepared = 0
        while prepared < prepared_documents:
            count, body = self._build()
            self._bodies.append((count, body))
            prepared += count
        self._bodies.reverse()

    def _build(self) -> tuple[int, bytes]:
        count = self._rng.randint(1, MAX_DOCS_PER_REQUEST)
        documents = [sample_document("coo/1", next(self._numbers)) for _ in range(count)]
        return count, json.dumps(documents, ensure_ascii=False).encode()

    def next(self) -> tuple[int, bytes]:
        if self._bodies:
            return self._bodies.pop()
        self.built_in_window += 1
        return self._build()


def _verify_requests(host: str, port: int, verify_documents: list[bytes]) -> list[bytes]:
    """Each document's whole ``POST /v1/verify`` request, built before a window."""
    head = RawHttpConnection(host, port)
    return [
        head.head("POST", "/v1/verify", len(body), {"Content-Type": "application/json"}) + body
        for body in verify_documents
    ]


async def mixed_load(
    base: str,
    token: str,
    bodies: IssueBodies,
    verify_documents: list[bytes],
    *,
    issuers: int,
    verifiers: int,
    seconds: float,
) -> Tally:
    """``issuers`` and ``verifiers`` keep-alive connections for ``seconds``; the tally."""
    host, port_text = base.removeprefix("http://").rsplit(":", 1)
    port = int(port_text)
    tally = Tally()
    presented = itertools.count()
    issue_headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    verify_requests = _verify_requests(host, port, verify_documents)
    deadline = 0.0

    async def issuer() -> None:
        async with RawHttpConnection(host, port) as connection:
            while time.perf_counter() < deadline:
                count, body = bodies.next()
                started = time.perf_counter()
                status, _ = await connection.request("POST", "/v1/documents", body, issue_headers)
                took = time.perf_counter() - started
                if status == 202:
                    tally.issue_latency.append(took)
                    tally.issue_documents += count
                else:
                    tally.issue_errors[status] = tally.issue_errors.get(status, 0) + 1

    async def verifier() -> None:
        async with RawHttpConnection(host, port) as connection:
            while time.perf_counter() < deadline:
                n = next(presented)
                request = verify_requests[n % len(verify_requests)]
                started = time.perf_counter()
                status, answer = await connection.send(request)
                took = time.perf_counter() - started
                if status != 200:
                    tally.verify_errors[status] = tally.verify_errors.get(status, 0) + 1
                    continue
                tally.verify_latency.append(took)
                tally.verify_first_presentations += n < len(verify_requests)
                if b'"valid":true' not in answer:
                    tally.verified_not_valid += 1

    cpu = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(issuer() for _ in range(issuers)), *(verifier() for _ in range(verifiers))
    )
    tally.seconds = time.perf_counter() - started
    tally.generator_cpu_seconds = time.process_time() - cpu
    return tally


def arrival_times(count: int, seconds: float, rng: random.Random) -> list[float]:
    """``count`` arrival times in ``[0, seconds)``: sorted uniform draws, which is a
    Poisson process of rate ``count / seconds`` given its count (so the offered rate is
    exactly the target's, not a draw around it)."""
    return sorted(rng.uniform(0.0, seconds) for _ in range(count))


async def paced_load(
    base: str,
    token: str,
    bodies: IssueBodies,
    verify_documents: list[bytes],
    *,
    issue_docs_per_s: float,
    verify_per_s: float,
    seconds: float,
    seed: int,
    connections: int = 96,
) -> Tally:
    """Open-loop load: issue requests offering ``issue_docs_per_s`` documents a second
    and verifications at ``verify_per_s``, each kind arriving as a Poisson process for
    ``seconds``, whatever the node's answers (many independent clerks and customs
    officers, not a fixed set of clients that wait for each answer). Each request is sent
    at its arrival time on a free keep-alive connection of its kind (``connections`` of
    each, opened before); its latency counts from its *arrival*, so a request that waited
    for a connection, or behind a slow answer, counts that wait (no coordinated
    omission). The window ends once every arrival is answered."""
    host, port_text = base.removeprefix("http://").rsplit(":", 1)
    port = int(port_text)
    rng = random.Random(seed)
    tally = Tally()
    issue_headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    requests: list[tuple[int, bytes]] = []
    offered = 0
    while offered < issue_docs_per_s * seconds:
        count, body = bodies.next()
        requests.append((count, body))
        offered += count
    issue_at = arrival_times(len(requests), seconds, rng)
    verify_at = arrival_times(round(verify_per_s * seconds), seconds, rng)
    verify_requests = _verify_requests(host, port, verify_documents)
    issue_pool: asyncio.Queue[RawHttpConnection] = asyncio.Queue()
    verify_pool: asyncio.Queue[RawHttpConnection] = asyncio.Queue()
    opened: list[RawHttpConnection] = []
    for pool in (issue_pool, verify_pool):
        for _ in range(connections):
            connection = await RawHttpConnection(host, port).__aenter__()
            opened.append(connection)
            pool.put_nowait(connection)
    started = 0.0

    async def issue(arrival: float, count: int, body: bytes) -> None:
        connection = await issue_pool.get()
        try:
            status, _ = await connection.request("POST", "/v1/documents", body, issue_headers)
        finally:
            issue_pool.put_nowait(connection)
        if status == 202:
            tally.issue_latency.append(time.perf_counter() - (started + arrival))
            tally.issue_arrivals.append(arrival)
            tally.issue_documents += count
        else:
            tally.issue_errors[status] = tally.issue_errors.get(status, 0) + 1

    async def verify(arrival: float, n: int) -> None:
        connection = await verify_pool.get()
        try:
            status, answer = await connection.send(verify_requests[n % len(verify_requests)])
        finally:
            verify_pool.put_nowait(connection)
        if status != 200:
            tally.verify_errors[status] = tally.verify_errors.get(status, 0) + 1
            return
        tally.verify_latency.append(time.perf_counter() - (started + arrival))
        tally.verify_arrivals.append(arrival)
        tally.verify_first_presentations += n < len(verify_requests)
        if b'"valid":true' not in answer:
            tally.verified_not_valid += 1

    async def arrive(schedule: list[Callable[[], Awaitable[None]]], at: list[float]) -> None:
        tasks = []
        for arrival, job in zip(at, schedule, strict=True):
            delay = started + arrival - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(job()))
        await asyncio.gather(*tasks)

    issue_jobs = [
        functools.partial(issue, arrival, count, body)
        for arrival, (count, body) in zip(issue_at, requests, strict=True)
    ]
    verify_jobs = [functools.partial(verify, arrival, n) for n, arrival in enumerate(verify_at)]
    cpu = time.process_time()
    started = time.perf_counter()
    try:
        await asyncio.gather(arrive(issue_jobs, issue_at), arrive(verify_jobs, verify_at))
    finally:
        for connection in opened:
            await connection.__aexit__()
    # rates over the arrival window (every arrival in it was answered); how long after
    # it the last answer came is the caller's to read (``answered_after``): none when
    # the last arrival, drawn just before the window's end, was answered before it
    tally.answered_after = max(0.0, time.perf_counter() - started - seconds)
    tally.seconds = seconds
    tally.generator_cpu_seconds = time.process_time() - cpu
    return tally


def latency_by_slice(tally: Tally, slice_seconds: float = 10.0) -> list[dict[str, Any]]:
    """p50 and p99 of each kind by when its requests arrived, ``slice_seconds`` at a
    time: a backlog at the start (a cold node) reads differently from one that grows."""
    slices: list[dict[str, Any]] = []
    start = 0.0
    while start < tally.seconds:
        end = start + slice_seconds
        issue = [
            latency
            for at, latency in zip(tally.issue_arrivals, tally.issue_latency, strict=True)
            if start <= at < end
        ]
        verify = [
            latency
            for at, latency in zip(tally.verify_arrivals, tally.verify_latency, strict=True)
            if start <= at < end
        ]
        slices.append(
            {
                "arrived_s": [round(start, 1), round(min(end, tally.seconds), 1)],
                "issue_p50_ms": round(_percentile(issue, 0.50), 1),
                "issue_p99_ms": round(_percentile(issue, 0.99), 1),
                "verify_p50_ms": round(_percentile(verify, 0.50), 1),
                "verify_p99_ms": round(_percentile(verify, 0.99), 1),
            }
        )
        start = end
    return slices


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return 0.0
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)] * 1000


def _latencies(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(_percentile(samples, 0.50), 2),
        "p95_ms": round(_percentile(samples, 0.95), 2),
        "p99_ms": round(_percentile(samples, 0.99), 2),
    }


def tally_figures(tally: Tally) -> dict[str, Any]:
    requests = len(tally.issue_latency)
    return {
        "seconds": round(tally.seconds, 2),
        "issue": {
            "requests": requests,
            "documents": tally.issue_documents,
            "docs_per_request": round(tally.issue_documents / max(requests, 1), 2),
            "docs_per_s": round(tally.issue_documents / tally.seconds, 1),
            "requests_per_s": round(requests / tally.seconds, 1),
            **_latencies(tally.issue_latency),
            "errors": tally.issue_errors,
        },
        "verify": {
            "verifications": len(tally.verify_latency),
            "per_s": round(len(tally.verify_latency) / tally.seconds, 1),
            **_latencies(tally.verify_latency),
            "first_presentations": tally.verify_first_presentations,
            "not_valid": tally.verified_not_valid,
            "errors": tally.verify_errors,
        },
        "generator_cpu_percent": round(100 * tally.generator_cpu_seconds / tally.seconds, 1),
    }
