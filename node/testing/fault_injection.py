"""TEST ONLY: the node kills itself at a chosen point of anchoring (``make soak``).

``DOCEX_TEST_CRASH_AT=journalled:N`` (or ``sent:N``) makes the N-th batch anchor since
start SIGKILL its own process right after the transaction is journalled and before it is
sent (or right after it is sent, before its receipt): the two crash windows of
:mod:`ledger.transactions`. The soak restarts the node and checks, on the chain, that
every accepted document is anchored exactly once. Without the setting (the default and
the only production value) no hook is installed at all.
"""

from __future__ import annotations

import os
import signal
import threading

from ledger.journal import JournalEntry
from ledger.transactions import SendHook


def crash_hook(spec: str | None) -> SendHook | None:
    """The send hook for ``spec`` (``point:N``), or None when unset."""
    if spec is None:
        return None
    point, _, nth = spec.partition(":")
    wanted = int(nth)
    seen = 0
    lock = threading.Lock()

    def crash(at: str, entry: JournalEntry) -> None:
        nonlocal seen
        if at != point or not entry.key.startswith("anchor/"):
            return
        with lock:
            seen += 1
            if seen == wanted:
                os.kill(os.getpid(), signal.SIGKILL)

    return crash
