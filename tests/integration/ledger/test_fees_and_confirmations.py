"""Stuck transactions are replaced at their nonce; receipts wait for their confirmations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.journal import Journal
from ledger.transactions import TxRequest

if TYPE_CHECKING:
    from conftest import ChainUnderTest, ManagerFactory

SINK = "0x000000000000000000000000000000000000dEaD"


def test_stuck_transaction_is_replaced_at_the_same_nonce_with_a_higher_fee(
    rpc_chain: ChainUnderTest, journal: Journal, manager_for: ManagerFactory
) -> None:
    manager = manager_for(rpc_chain, journal)
    sender = rpc_chain.account().address
    rpc_chain.pause_mining()
    first = manager.submit(sender, TxRequest("stuck", to=SINK, data=b"stuck"))

    replaced = manager.replace("stuck")
    rpc_chain.mine()
    confirmed = manager.wait("stuck")

    assert len(replaced.attempts) == 2
    old, new = replaced.attempts
    assert new.max_fee_per_gas is not None
    assert old.max_fee_per_gas is not None
    assert new.max_fee_per_gas > old.max_fee_per_gas
    assert confirmed.nonce == first.nonce
    assert confirmed.tx_hash == new.tx_hash
    assert rpc_chain.chain.request("eth_getTransactionReceipt", [old.tx_hash]) is None


def test_waiting_replaces_a_transaction_that_stays_unmined(
    rpc_chain: ChainUnderTest, journal: Journal, manager_for: ManagerFactory
) -> None:
    def mine_once_replaced(_: float) -> None:
        entry = journal.get("slow")
        if entry is not None and len(entry.attempts) > 1:
            rpc_chain.mine()

    manager = manager_for(rpc_chain, journal, stuck_after=0.0, sleep=mine_once_replaced)
    sender = rpc_chain.account().address
    rpc_chain.pause_mining()
    manager.submit(sender, TxRequest("slow", to=SINK, data=b"slow"))

    confirmed = manager.wait("slow")

    entry = journal.get("slow")
    assert entry is not None
    assert len(entry.attempts) >= 2
    assert confirmed.tx_hash == entry.attempts[-1].tx_hash


def test_receipt_is_returned_only_after_the_configured_confirmations(
    any_chain: ChainUnderTest, journal: Journal, manager_for: ManagerFactory
) -> None:
    manager = manager_for(any_chain, journal, confirmations=3, sleep=lambda _: any_chain.mine())
    sender = any_chain.account().address

    confirmed = manager.transact(sender, TxRequest("deep", to=SINK, data=b"deep"))

    head = int(any_chain.chain.request("eth_blockNumber"), 16)
    assert head >= confirmed.block_number + 2
