"""IndexWatch: a request that changed the chain waits until the index has its block,
boundedly, and never when nothing follows the chain."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from certificates import DocexError
from node.chain.index_follower import follow_chain
from node.chain.index_watch import IndexWatch
from node.observability.metrics import NodeMetrics


class Waiter(threading.Thread):
    """``watch.wait_for(block, timeout)`` in a thread of its own; its answer, once done."""

    def __init__(self, watch: IndexWatch, block: int, timeout: float = 60.0) -> None:
        super().__init__(daemon=True)
        self.watch, self.block, self.timeout = watch, block, timeout
        self.answer: bool | None = None
        self.start()

    def run(self) -> None:
        self.answer = self.watch.wait_for(self.block, self.timeout)

    def answered(self, within: float = 30.0) -> bool | None:
        self.join(within)
        assert not self.is_alive(), "wait_for did not return"
        return self.answer


def test_without_a_follower_nothing_is_waited_for() -> None:
    reads: list[int] = []

    def checkpoint() -> int:
        reads.append(1)
        return 0

    watch = IndexWatch(checkpoint)
    assert watch.wait_for(10, timeout=60.0) is False
    assert reads == []  # the index is not even read


def test_a_follower_here_wakes_the_request_once_its_block_is_indexed() -> None:
    watch = IndexWatch(lambda: 3)
    watch.followed_here()
    waiter = Waiter(watch, block=5)
    watch.passed(4)
    waiter.join(0.2)
    assert waiter.is_alive()  # block 5 not indexed yet: still waiting
    watch.passed(5)
    assert waiter.answered() is True


def test_a_block_already_indexed_is_not_waited_for() -> None:
    watch = IndexWatch(lambda: 9)
    watch.followed_here()  # the index already holds block 9
    assert watch.wait_for(9, timeout=60.0) is True


def test_the_wait_is_bounded() -> None:
    watch = IndexWatch(lambda: 0)
    watch.followed_here()
    assert watch.wait_for(1, timeout=0.05) is False


def test_a_follower_that_stops_releases_its_waiters() -> None:
    watch = IndexWatch(lambda: 0)
    watch.followed_here()
    waiter = Waiter(watch, block=7)
    watch.not_followed()
    assert waiter.answered() is False
    assert watch.wait_for(7, timeout=60.0) is False  # and later requests do not wait


def test_a_follower_in_another_process_is_read_through_the_shared_checkpoint() -> None:
    indexed = [0]
    watch = IndexWatch(lambda: indexed[0], poll=0.01)
    watch.followed_elsewhere()
    waiter = Waiter(watch, block=3)
    waiter.join(0.1)
    assert waiter.is_alive()
    indexed[0] = 3
    assert waiter.answered() is True
    assert watch.wait_for(4, timeout=0.05) is False


class Index:
    """A stand-in index: its state, and how often it was read."""

    def __init__(self) -> None:
        self.current: tuple[int, bytes] | None = (3, b"\x03" * 32)
        self.reads = 0

    def read(self) -> tuple[int, bytes] | None:
        self.reads += 1
        return self.current


def test_with_the_follower_here_the_state_is_its_last_pass_not_a_read_per_question() -> None:
    index = Index()
    watch = IndexWatch(lambda: 3, state=index.read)
    watch.followed_here()
    reads = index.reads
    assert [watch.state() for _ in range(100)] == [(3, b"\x03" * 32)] * 100
    assert index.reads == reads  # the verifier's questions read nothing

    index.current = (4, b"\x04" * 32)  # the follower indexed block 4 ...
    assert watch.state() == (3, b"\x03" * 32)
    watch.passed(4)  # ... and its pass ended
    assert watch.state() == (4, b"\x04" * 32)


def test_a_request_woken_by_a_pass_already_sees_that_pass_state() -> None:
    index = Index()
    watch = IndexWatch(lambda: 3, state=index.read)
    watch.followed_here()
    seen: list[tuple[int, bytes] | None] = []

    def revoke_then_verify() -> None:
        watch.wait_for(5, timeout=30.0)
        seen.append(watch.state())

    waiter = threading.Thread(target=revoke_then_verify, daemon=True)
    waiter.start()
    index.current = (5, b"\x05" * 32)
    watch.passed(5)
    waiter.join(30.0)
    assert seen == [(5, b"\x05" * 32)]  # read-your-writes holds for the verdict too


def test_with_the_follower_elsewhere_or_none_the_state_is_read_every_time() -> None:
    index = Index()
    watch = IndexWatch(lambda: 3, state=index.read)
    watch.followed_elsewhere()
    watch.state()
    index.current = (6, b"\x06" * 32)
    assert watch.state() == (6, b"\x06" * 32)
    watch.not_followed()  # the follower stopped: its last state is not trusted either
    index.current = (7, b"\x07" * 32)
    assert watch.state() == (7, b"\x07" * 32)
    assert index.reads == 3


class FailingIndexer:
    """An indexer whose pass commits a page (block 8), then fails (the chain went away)."""

    confirmations = 0

    def __init__(self, index: Index) -> None:
        self.index = index
        self.passes = 0

    def sync(self) -> None:
        self.passes += 1
        self.index.current = (8, b"\x08" * 32)
        raise DocexError("the chain stopped answering after the first page")

    def checkpoint(self) -> int:
        current = self.index.current
        return -1 if current is None else current[0]


def test_a_pass_that_fails_after_committing_a_page_still_moves_the_state() -> None:
    # a revocation indexed by that page must not stay hidden behind the old memo key
    index = Index()
    indexer = FailingIndexer(index)
    watch = IndexWatch(indexer.checkpoint, state=index.read)
    restarts = SimpleNamespace(pass_started=lambda: 0, checked=lambda _token: None)
    tip = (9, b"\x09" * 32)
    ledger = SimpleNamespace(indexer=indexer, restarts=restarts, chain_tip=lambda: tip)
    stop = threading.Event()
    follower = threading.Thread(
        target=follow_chain,
        args=(ledger, NodeMetrics(), stop),
        kwargs={"poll": 0.01, "watch": watch},
        daemon=True,
    )
    follower.start()
    try:
        deadline = time.monotonic() + 30
        while indexer.passes < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert watch.state() == (8, b"\x08" * 32)
    finally:
        stop.set()
        follower.join(30)
