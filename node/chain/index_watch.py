"""Read-your-writes over the event index: wait until it has read a given block."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class IndexWatch:
    """Read-your-writes: a request that changed the chain (a revocation, a use) waits,
    boundedly, until the index the verdicts read has the block its transaction is in.

    Three cases: no follower keeps the index (tests that sync it by hand, tools): nothing
    to wait for; a follower in this process: woken after each of its passes; a follower
    in another process (``docex run --api-workers``): the shared index's checkpoint is
    read every ``poll`` seconds.
    """

    def __init__(self, checkpoint: Callable[[], int], poll: float = 0.05) -> None:
        self._checkpoint = checkpoint
        self._poll = poll
        self._passed = threading.Condition()
        self._mode = "none"  # "none" | "here" | "elsewhere"
        self._indexed = -1

    def followed_here(self) -> None:
        with self._passed:
            self._mode = "here"
            self._indexed = self._checkpoint()

    def followed_elsewhere(self) -> None:
        with self._passed:
            self._mode = "elsewhere"

    def not_followed(self) -> None:
        with self._passed:
            self._mode = "none"
            self._passed.notify_all()

    def passed(self, checkpoint: int) -> None:
        """The follower's pass ended with the index at ``checkpoint``."""
        with self._passed:
            self._indexed = checkpoint
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
