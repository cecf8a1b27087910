"""A managed anvil killed with ``kill -9`` comes back on its state, and the transactions it
lost (mined after its last state write) are replayed from the journal: the same signed
bytes, so the same transactions, never second ones."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from eth_account import Account

from ledger import ManagedAnvil, TxRequest
from ledger.chains import anvil_binary, dev_private_keys, find_free_port
from ledger.errors import ChainProcessError
from ledger.journal import Journal, TxStatus
from ledger.transactions import TransactionManager

pytestmark = pytest.mark.integration

RECIPIENT = "0x000000000000000000000000000000000000dEaD"
ANVIL = anvil_binary(Path(__file__).resolve().parents[3] / "node_modules")


def test_a_killed_anvil_restarts_and_the_lost_transactions_replay_as_themselves(
    tmp_path: Path,
) -> None:
    # no state write within the test: everything mined before the kill is lost
    anvil = ManagedAnvil(ANVIL, tmp_path / "anvil", port=find_free_port(), state_interval=3600)
    chain = anvil.start()
    journal = Journal(tmp_path / "transactions.sqlite")
    sender = Account.from_key(dev_private_keys(1)[0])
    manager = TransactionManager(chain, journal, [sender])
    try:
        first = manager.transact(sender.address, TxRequest("pay/1", RECIPIENT, value=1))
        second = manager.transact(sender.address, TxRequest("pay/2", RECIPIENT, value=2))
        assert not anvil.restart_if_exited(), "a running anvil is left alone"
        assert manager.replay_lost().replayed == ()

        assert anvil.pid is not None
        os.kill(anvil.pid, signal.SIGKILL)
        while not anvil.exited:
            time.sleep(0.01)
        assert anvil.restart_if_exited()
        assert chain.request("eth_getTransactionReceipt", [first.tx_hash]) is None

        report = manager.replay_lost()

        assert report.replayed == ("pay/1", "pay/2")
        assert report.refused == {}
        again = [manager.wait("pay/1"), manager.wait("pay/2")]
        assert [t.tx_hash for t in again] == [first.tx_hash, second.tx_hash]
        assert journal.get("pay/2") is not None
        assert journal.count(TxStatus.MINED) == 2
        balance = int(chain.request("eth_getBalance", [RECIPIENT, "latest"]), 16)
        assert balance == 3, "each payment landed exactly once"
        assert manager.replay_lost().replayed == ()
    finally:
        chain.close()
        journal.close()
        anvil.stop()


def test_a_restart_that_fails_is_tried_again(tmp_path: Path) -> None:
    anvil = ManagedAnvil(ANVIL, tmp_path / "anvil", port=find_free_port())
    anvil.start().close()
    try:
        assert anvil.pid is not None
        os.kill(anvil.pid, signal.SIGKILL)
        while not anvil.exited:
            time.sleep(0.01)
        # someone else takes the port meanwhile: the restart fails, and is retried later
        blocker = ManagedAnvil(ANVIL, tmp_path / "other", port=anvil.port)
        blocker.start().close()
        try:
            with pytest.raises(ChainProcessError):
                anvil.restart_if_exited()
            assert anvil.exited
        finally:
            blocker.stop()
        assert anvil.restart_if_exited()
        assert not anvil.exited
    finally:
        anvil.stop()


def test_a_block_waited_for_until_persisted_survives_a_kill_9(tmp_path: Path) -> None:
    """What the journal cannot replay (a first start's deployment) is made durable by
    waiting until anvil's state file holds its block (the soak's chain-killed scenario
    kills anvil within its first second: without the wait the deployment was lost)."""
    anvil = ManagedAnvil(ANVIL, tmp_path / "anvil", port=find_free_port(), state_interval=1)
    chain = anvil.start()
    sender = Account.from_key(dev_private_keys(1)[0])
    manager = TransactionManager(chain, Journal(tmp_path / "transactions.sqlite"), [sender])
    try:
        kept = manager.transact(sender.address, TxRequest("pay/1", RECIPIENT, value=1))
        head = int(chain.request("eth_blockNumber"), 16)
        anvil.wait_persisted(head)
        assert (anvil.persisted_block() or -1) >= head

        assert anvil.pid is not None
        os.kill(anvil.pid, signal.SIGKILL)
        while not anvil.exited:
            time.sleep(0.01)
        with pytest.raises(ChainProcessError, match="anvil exited"):
            anvil.wait_persisted(head + 100, timeout=5)
        assert anvil.restart_if_exited()

        assert chain.request("eth_getTransactionReceipt", [kept.tx_hash]) is not None
        assert int(chain.request("eth_blockNumber"), 16) >= head
    finally:
        chain.close()
        anvil.stop()
