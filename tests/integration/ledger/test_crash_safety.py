"""A node killed mid-send loses nothing and sends nothing twice once it restarts."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ledger.journal import Journal, TxStatus
from ledger.transactions import TransactionManager, TxRequest

if TYPE_CHECKING:
    from conftest import ChainUnderTest

CHILD = Path(__file__).with_name("crash_child.py")
SINK = "0x000000000000000000000000000000000000dEaD"
INTENTS = 4
CRASH_INDEX = 2


def intents() -> list[TxRequest]:
    return [TxRequest(f"intent-{i}", to=SINK, data=f"intent-{i}".encode()) for i in range(INTENTS)]


def run_child_until_killed(under_test: ChainUnderTest, journal_path: Path, point: str) -> int:
    assert under_test.url is not None
    child = subprocess.run(
        [
            sys.executable,
            str(CHILD),
            under_test.url,
            str(journal_path),
            under_test.keys[0].hex(),
            str(INTENTS),
            str(CRASH_INDEX),
            point,
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    return child.returncode


def mined_payloads(under_test: ChainUnderTest, sender: str) -> Counter[bytes]:
    head = int(under_test.chain.request("eth_blockNumber"), 16)
    seen: Counter[bytes] = Counter()
    for number in range(head + 1):
        block = under_test.chain.request("eth_getBlockByNumber", [hex(number), True])
        for tx in block["transactions"]:
            if tx["from"].lower() == sender.lower():
                seen[bytes.fromhex((tx.get("input") or "0x")[2:])] += 1
    return seen


@pytest.mark.parametrize("crash_point", ["journalled", "sent"])
def test_every_intended_transaction_is_on_chain_exactly_once_after_a_crash_and_restart(
    rpc_chain: ChainUnderTest, tmp_path: Path, crash_point: str
) -> None:
    journal_path = tmp_path / "journal.sqlite"

    returncode = run_child_until_killed(rpc_chain, journal_path, crash_point)

    assert returncode == -9  # killed by SIGKILL at the injected point, not finished
    journal = Journal(journal_path)
    crashed = journal.get(f"intent-{CRASH_INDEX}")
    assert crashed is not None
    expected_status = TxStatus.SIGNED if crash_point == "journalled" else TxStatus.SENT
    assert crashed.status is expected_status
    assert journal.get(f"intent-{CRASH_INDEX + 1}") is None

    restarted = TransactionManager(
        rpc_chain.chain, journal, [rpc_chain.account(0)], poll_interval=0.005
    )
    restarted.resume()
    sender = restarted.accounts[0]
    # the caller, not knowing what got through, asks again for everything it intended
    confirmed = [restarted.transact(sender, request) for request in intents()]

    assert sorted(c.nonce for c in confirmed) == list(range(INTENTS))
    assert mined_payloads(rpc_chain, sender) == Counter(
        {f"intent-{i}".encode(): 1 for i in range(INTENTS)}
    )
    assert journal.count(TxStatus.MINED) == INTENTS
    journal.close()


def test_journalled_but_unsent_transaction_is_sent_with_the_same_signed_bytes(
    rpc_chain: ChainUnderTest, tmp_path: Path
) -> None:
    journal_path = tmp_path / "journal.sqlite"
    run_child_until_killed(rpc_chain, journal_path, "journalled")
    journal = Journal(journal_path)
    journalled = journal.get(f"intent-{CRASH_INDEX}")
    assert journalled is not None
    assert rpc_chain.chain.request("eth_getTransactionReceipt", [journalled.tx_hash]) is None

    restarted = TransactionManager(
        rpc_chain.chain, journal, [rpc_chain.account(0)], poll_interval=0.005
    )
    (confirmed,) = restarted.resume()

    assert confirmed.tx_hash == journalled.tx_hash
    assert confirmed.nonce == journalled.nonce
    journal.close()
