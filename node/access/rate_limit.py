"""A token bucket per client address, in memory: public verification's rate limit."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from node.errors import RateLimited

_MAX_CLIENTS = 10_000


class TokenBuckets:
    """``rate`` requests per second per client, bursts up to ``burst``."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        #: client -> (tokens, last refill time)
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client: str) -> None:
        """Spend one token of ``client``'s bucket or raise :class:`RateLimited`."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                wait = math.ceil((1.0 - tokens) / self.rate)
                raise RateLimited(
                    f"too many verification requests from {client}; retry in {wait} s",
                    retry_after=max(wait, 1),
                )
            self._buckets[client] = (tokens - 1.0, now)
            if len(self._buckets) > _MAX_CLIENTS:
                self._forget_full_buckets(now)

    def _forget_full_buckets(self, now: float) -> None:
        full = [
            client
            for client, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * self.rate >= self.burst
        ]
        for client in full:
            del self._buckets[client]
