"""A child process that sends N transfers and kills itself at a chosen point of the Nth.

Usage: crash_child.py RPC_URL JOURNAL PRIVATE_KEY_HEX COUNT CRASH_INDEX CRASH_POINT

CRASH_POINT is "journalled" (after the journal write, before the send) or "sent"
(after the send, before the receipt). The kill is SIGKILL: no cleanup, no flush.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from eth_account import Account

from ledger.chains import JsonRpcChain
from ledger.journal import Journal, JournalEntry
from ledger.transactions import TransactionManager, TxRequest

SINK = "0x000000000000000000000000000000000000dEaD"


def main(url: str, journal_path: str, key: str, count: int, crash_index: int, point: str) -> None:
    crash_key = f"intent-{crash_index}"

    def crash(at: str, entry: JournalEntry) -> None:
        if at == point and entry.key == crash_key:
            os.kill(os.getpid(), signal.SIGKILL)

    manager = TransactionManager(
        JsonRpcChain(url),
        Journal(Path(journal_path)),
        [Account.from_key(bytes.fromhex(key))],
        on_send=crash,
        poll_interval=0.005,
    )
    sender = manager.accounts[0]
    for index in range(count):
        manager.submit(
            sender, TxRequest(f"intent-{index}", to=SINK, data=f"intent-{index}".encode())
        )
        if index < crash_index:
            manager.wait(f"intent-{index}")


if __name__ == "__main__":
    url, journal_path, key, count, crash_index, point = sys.argv[1:]
    main(url, journal_path, key, int(count), int(crash_index), point)
