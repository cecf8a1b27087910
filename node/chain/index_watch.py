"""Read-your-writes over the event index: wait until it has read a given block; and the
index's state (checkpoint number and hash) the verifier memoises its answers under."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: the index's checkpoint: (block number, block hash), None before the first pass
IndexState = tuple[int, bytes] | None


class IndexWatch:
    """Read-your-writes: a request that changed the chain (a revocation, a use) waits,
    boundedly, until the index the verdicts read has the block its transaction is in.

    Three cases: no follower keeps the index (tests that sync it by hand, tools): nothing
    to wait for; a follower in this process: woken after each of its passes; a follower
    in another process (``docex run --api-workers``): the shared index's checkpoint is
    read every ``poll`` seconds.
    """

    def __init__(
        self,
        checkpoint: Callable[[], int],
        poll: float = 0.05,
        state: Callable[[], IndexState] | None = None,
    ) -> None:
        self._checkpoint = checkpoint
        self._poll = poll
        self._passed = threading.Condition()
        self._mode = "none"  # "none" | "here" | "elsewhere"
        self._indexed = -1
        #: reads the index's state from the database (None: :meth:`state` is not used)
        self._read_state = state
        #: the state after the follower's last pass, while the follower runs here
        self._state: IndexState = None

    def state(self) -> IndexState:
        """The index's checkpoint number and hash: as the follower left it after its last
        pass when it runs in this process (it is the index's only writer then: no read
        per verification, which on PostgreSQL is a round trip), else read from the
        index (another process follows the chain, or nobody does)."""
        with self._passed:
            if self._mode == "here":
                return self._state
        if self._read_state is None:
            raise RuntimeError("this IndexWatch was built without a way to read the index")
        return self._read_state()

    def followed_here(self) -> None:
        with self._passed:
            self._mode = "here"
            self._indexed = self._checkpoint()
            if self._read_state is not None:
                self._state = self._read_state()

    def followed_elsewhere(self) -> None:
        with self._passed:
            self._mode = "elsewhere"

    def not_followed(self) -> None:
        with self._passed:
            self._mode = "none"
            self._passed.notify_all()

    def passed(self, checkpoint: int) -> None:
        """The follower's pass ended with the index at ``checkpoint`` (its state is
        read now, before the requests waiting for it are woken)."""
        state = self._read_state() if self._read_state is not None else None
        with self._passed:
            self._indexed = checkpoint
            self._state = state
            self._passed.notify_all()

    def wait_for(self, block: int, timeout: float) -> bool:
        """Until the index has ``block``; False when it did not within ``timeout``
        seconds, or when no follower keeps it (the caller's answer stands either way)."""
        with self._passed:
            mode = self._mode
            if mode == "here":
                self._passed.wait_for(
                    lambda: self._mode != "here" or self._indexed >= block, timeout
                )
                return self._indexed >= block
        if mode == "none":
            return False
        deadline = time.monotonic() + timeout
        while self._checkpoint() < block:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(self._poll, left))
        return True
