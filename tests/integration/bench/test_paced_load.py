"""The mixed-load bench's open-loop window (``bench.load_generator.paced_load``): it offers
exactly the rates asked, whatever the server's answers, and a request's latency counts
from its arrival (a request that waited behind a slow answer counts the wait), against a
small HTTP server on loopback that stalls when told to."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from bench.load_generator import IssueBodies, Tally, arrival_times, paced_load

pytestmark = pytest.mark.integration


class StallingServer:
    """Answers ``POST /v1/documents`` 202 and ``POST /v1/verify`` 200 ``valid``; the
    first verification is answered after ``stall`` seconds."""

    def __init__(self, stall: float) -> None:
        self.stall = stall
        self.requests: dict[str, int] = {}
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                self.requests[path] = self.requests.get(path, 0) + 1
                if path == "/v1/verify" and self.requests[path] == 1:
                    await asyncio.sleep(self.stall)
                status, body = (
                    (b"202 Accepted", b"{}")
                    if path == "/v1/documents"
                    else (b"200 OK", b'{"valid":true}')
                )
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


def test_arrivals_are_exactly_the_count_asked_within_the_window() -> None:
    times = arrival_times(3_000, 2.0, random.Random(7))
    assert len(times) == 3_000
    assert times == sorted(times)
    assert times[0] >= 0.0
    assert times[-1] < 2.0
    # spread over the window, not bunched: each half holds about half of them
    assert 1_350 < sum(1 for t in times if t < 1.0) < 1_650


def _against(
    stall: float, documents: list[bytes], bodies: IssueBodies, **load: Any
) -> tuple[dict[str, int], Tally]:
    """``paced_load`` against a :class:`StallingServer` stalling ``stall`` seconds: the
    requests the server saw by path, and the tally."""

    async def scenario() -> tuple[dict[str, int], Tally]:
        server = StallingServer(stall)
        base = await server.start()
        try:
            tally = await paced_load(base, "token", bodies, documents, seconds=1.0, **load)
        finally:
            await server.stop()
        return server.requests, tally

    return asyncio.run(scenario())


def test_the_rates_offered_are_those_asked_and_every_arrival_is_answered() -> None:
    requests, tally = _against(
        0.0,
        [b'{"document":1}', b'{"document":2}'],
        IssueBodies(1, 300, 1),
        issue_docs_per_s=200,
        verify_per_s=150,
        seed=3,
        connections=4,
    )
    assert len(tally.verify_arrivals) == len(tally.verify_latency)
    assert 0.0 <= tally.answered_after < 0.5  # the server kept up
    assert requests["/v1/verify"] == len(tally.verify_latency) == 150
    assert tally.issue_documents >= 200  # whole requests of 1 to 10, until 200 are offered
    assert tally.issue_documents - 10 < 200
    assert requests["/v1/documents"] > 200 / 10
    assert tally.seconds == 1.0


def test_a_request_that_waited_behind_a_slow_answer_counts_the_wait() -> None:
    """One connection for verifications; the first answer takes 0.3 s. Requests that
    arrived meanwhile were sent late: their latency starts at their arrival, so about a
    third of a second's arrivals show at least the rest of the stall."""
    _, tally = _against(
        0.3,
        [b'{"document":1}'],
        IssueBodies(1, 10, 1),
        issue_docs_per_s=1,
        verify_per_s=100,
        seed=5,
        connections=1,
    )
    latencies = tally.verify_latency
    assert len(latencies) == 100
    assert max(latencies) >= 0.3
    # measured from the moment each was sent, all but the first would be near 0
    assert sum(1 for latency in latencies if latency > 0.1) >= 10
