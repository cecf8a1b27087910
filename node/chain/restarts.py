"""Whether the index may still show blocks a restarted chain no longer has.

The chain supervisor calls :meth:`ChainRestarts.restarting` as soon as it sees the
managed anvil died, before it starts it again; the indexer calls :meth:`checked` after
its next complete pass (which compares its checkpoint's block hash with the chain's and
rolls back what is gone). In between, :meth:`in_doubt` is true and verification answers
the on-chain checks ``error`` instead of green from an index that may describe a chain
that no longer exists.
"""

from __future__ import annotations

import threading


class ChainRestarts:
    """A restart counter and the last restart the index has re-checked. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._restarts = 0
        self._checked = 0

    def restarting(self) -> None:
        """The chain died and is being restarted: the index is in doubt until checked."""
        with self._lock:
            self._restarts += 1

    def pass_started(self) -> int:
        """Called when an indexer pass starts; the token to hand to :meth:`checked`."""
        with self._lock:
            return self._restarts

    def checked(self, token: int) -> None:
        """An indexer pass that started at ``token`` completed against the chain."""
        with self._lock:
            self._checked = max(self._checked, token)

    def in_doubt(self) -> bool:
        with self._lock:
            return self._checked != self._restarts
