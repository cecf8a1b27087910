"""The open-loop window's latency by when requests arrived (bench.load_generator)."""

from __future__ import annotations

from bench.load_generator import Tally, latency_by_slice


def test_each_slice_holds_the_requests_that_arrived_in_it() -> None:
    tally = Tally(seconds=25.0)
    # a backlog at the start: slow answers to the first ten seconds' arrivals only
    tally.verify_arrivals = [0.5 + n * 0.25 for n in range(100)]
    tally.verify_latency = [2.0 if at < 10 else 0.01 for at in tally.verify_arrivals]
    tally.issue_arrivals = [12.0]
    tally.issue_latency = [0.3]

    slices = latency_by_slice(tally)

    assert [s["arrived_s"] for s in slices] == [[0.0, 10.0], [10.0, 20.0], [20.0, 25.0]]
    assert [s["verify_p99_ms"] for s in slices] == [2000.0, 10.0, 10.0]
    assert [s["issue_p99_ms"] for s in slices] == [0.0, 300.0, 0.0]
