"""One serialised nonce sequence per account.

Asking the node for ``eth_getTransactionCount(addr, "pending")`` per send races with
itself (16 threads lost 54 of 64 sends here); a local counter, held under the
account's lock from allocation until the signed transaction is journalled and sent,
does not.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class NonceSequence:
    """The next nonce of one account; use it only while holding :attr:`lock`."""

    def __init__(self, initial: Callable[[], int]) -> None:
        self.lock = threading.RLock()
        self._initial = initial
        self._next: int | None = None

    def allocate(self) -> int:
        """The next unused nonce, now taken."""
        if self._next is None:
            self._next = self._initial()
        nonce = self._next
        self._next += 1
        return nonce

    def advance_to(self, nonce: int) -> None:
        """Skip to ``nonce`` if it is ahead (another process took the ones before it)."""
        if self._next is not None and nonce > self._next:
            self._next = nonce

    def release(self, nonce: int) -> None:
        """Give back the nonce just allocated (the node refused its transaction)."""
        if self._next == nonce + 1:
            self._next = nonce

    def forget(self) -> None:
        """Re-read the starting point on next use (after a restart or a conflict)."""
        self._next = None


class NonceSequences:
    """A :class:`NonceSequence` per account, created on first use."""

    def __init__(self, initial: Callable[[str], int]) -> None:
        self._initial = initial
        self._sequences: dict[str, NonceSequence] = {}
        self._lock = threading.Lock()

    def of(self, account: str) -> NonceSequence:
        with self._lock:
            sequence = self._sequences.get(account)
            if sequence is None:
                sequence = NonceSequence(lambda: self._initial(account))
                self._sequences[account] = sequence
            return sequence

    def forget_all(self) -> None:
        with self._lock:
            sequences = list(self._sequences.values())
        for sequence in sequences:
            with sequence.lock:
                sequence.forget()
