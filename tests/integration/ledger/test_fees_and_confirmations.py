"""Stuck transactions are replaced at their nonce; receipts wait for their confirmations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.journal import Journal
from ledger.transactions import TxRequest

if TYPE_CHECKING:
    from conftest import ChainUnderTest, ManagerFactory

SINK = "0x000000000000000000000000000000000000dEaD"


# Replacement runs on anvil only: ganache 7, with its miner stopped, mines both the
# original and the replacement at one nonce into the same block (seen here).
def test_stuck_transaction_is_replaced_at_the_same_nonce_with_a_higher_fee(
    anvil: ChainUnderTest, journal: Journal, manager_for: ManagerFactory
) -> None:
    manager = manager_for(anvil, journal)
    sender = anvil.account().address
    anvil.pause_mining()
    first = manager.submit(sender, TxRequest("stuck", to=SINK, data=b"stuck"))

    replaced = manager.replace("stuck")
    anvil.mine()
    confirmed = manager.wait("stuck")

    assert len(replaced.attempts) == 2
    old, new = replaced.attempts
    assert new.max_fee_per_gas is not None
    assert old.max_fee_per_gas is not None
    assert new.max_fee_per_gas > old.max_fee_per_gas
    assert confirmed.nonce == first.nonce
    assert confirmed.tx_hash == new.tx_hash
    # the chain holds one transaction at that nonce: the replacement
    head = int(anvil.chain.request("eth_blockNumber"), 16)
    mined_at_nonce = [
        tx["hash"]
        for number in range(head + 1)
        for tx in anvil.chain.request("eth_getBlockByNumber", [hex(number), True])["transactions"]
        if tx["from"].lower() == sender.lower() and int(tx["nonce"], 16) == first.nonce
    ]
    assert mined_at_nonce == [new.tx_hash]


def test_waiting_replaces_a_transaction_that_stays_unmined(
    anvil: ChainUnderTest, journal: Journal, manager_for: ManagerFactory
) -> None:
    def mine_once_replaced(_: float) -> None:
        entry = journal.get("slow")
        if entry is not None and len(entry.attempts) > 1:
            anvil.mine()

    manager = manager_for(anvil, journal, stuck_after=0.0, sleep=mine_once_replaced)
    sender = anvil.account().address
    anvil.pause_mining()
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
