"""The transaction manager on every backend: sends once, confirms, never reuses a nonce."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from typing import TYPE_CHECKING

import pytest

from ledger.errors import ContractReverted, TransactionRejected
from ledger.journal import Journal, TxStatus
from ledger.transactions import TxRequest

if TYPE_CHECKING:
    from conftest import ChainUnderTest, ManagerFactory

SINK = "0x000000000000000000000000000000000000dEaD"

# A contract whose every call reverts with the custom error Refused(uint256 7):
# runtime = PUSH4 sel PUSH1 0xe0 SHL PUSH1 0 MSTORE PUSH1 7 PUSH1 4 MSTORE PUSH1 0x24 PUSH1 0 REVERT
REFUSED_SELECTOR = bytes.fromhex("deadbeef")
_RUNTIME = bytes.fromhex("63deadbeef60e01b600052600760045260246000fd")
REVERTING_CONTRACT_INIT = (
    bytes.fromhex("60") + bytes([len(_RUNTIME)]) + bytes.fromhex("80600b6000396000f3") + _RUNTIME
)


def transfer(key: str) -> TxRequest:
    return TxRequest(key=key, to=SINK, data=key.encode(), value=1)


def mined_payloads(under_test: ChainUnderTest, sender: str) -> Counter[bytes]:
    """How many times each payload was mined from ``sender``, over the whole chain."""
    head = int(under_test.chain.request("eth_blockNumber"), 16)
    seen: Counter[bytes] = Counter()
    for number in range(head + 1):
        block = under_test.chain.request("eth_getBlockByNumber", [hex(number), True])
        for tx in block["transactions"]:
            if tx["from"].lower() == sender.lower():
                payload = tx.get("input") or tx.get("data") or "0x"
                seen[bytes.fromhex(payload[2:])] += 1
    return seen


def test_transaction_is_journalled_sent_and_confirmed(
    any_chain: ChainUnderTest, journal: Journal, manager_for: ManagerFactory
) -> None:
    manager = manager_for(any_chain, journal)
    sender = any_chain.account().address

    confirmed = manager.transact(sender, transfer("pay-1"))

    assert confirmed.nonce == 0
    assert confirmed.block_number >= 1
    assert journal.get("pay-1").status is TxStatus.MINED  # type: ignore[union-attr]
    assert mined_payloads(any_chain, sender) == Counter({b"pay-1": 1})


def test_same_key_twice_sends_once(
    any_chain: ChainUnderTest, journal: Journal, manager_for: ManagerFactory
) -> None:
    manager = manager_for(any_chain, journal)
    sender = any_chain.account().address

    first = manager.transact(sender, transfer("pay-once"))
    again = manager.transact(sender, transfer("pay-once"))

    assert again.tx_hash == first.tx_hash
    assert mined_payloads(any_chain, sender) == Counter({b"pay-once": 1})


def test_sixteen_concurrent_writers_on_one_account_send_every_transaction_exactly_once(
    any_chain: ChainUnderTest, journal: Journal, manager_for: ManagerFactory
) -> None:
    manager = manager_for(any_chain, journal)
    sender = any_chain.account().address
    failures: list[BaseException] = []
    nonces: list[int] = []
    lock = threading.Lock()

    def writer(index: int) -> None:
        try:
            for n in range(4):
                confirmed = manager.transact(sender, transfer(f"w{index}-{n}"))
                with lock:
                    nonces.append(confirmed.nonce)
        except BaseException as exc:
            with lock:
                failures.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert sorted(nonces) == list(range(64))
    assert journal.count(TxStatus.MINED) == 64
    assert journal.count(TxStatus.REJECTED) == 0
    payloads = mined_payloads(any_chain, sender)
    assert len(payloads) == 64
    assert set(payloads.values()) == {1}
    chain_nonce = int(any_chain.chain.request("eth_getTransactionCount", [sender, "latest"]), 16)
    assert chain_nonce == 64


def test_accounts_have_independent_nonce_sequences(
    any_chain: ChainUnderTest, journal: Journal, manager_for: ManagerFactory
) -> None:
    manager = manager_for(any_chain, journal)
    first, second = any_chain.account(0).address, any_chain.account(1).address

    a = manager.transact(first, transfer("a"))
    b = manager.transact(second, transfer("b"))
    c = manager.transact(first, transfer("c"))

    assert (a.nonce, b.nonce, c.nonce) == (0, 0, 1)


def test_call_that_would_revert_raises_typed_error_before_anything_is_journalled(
    any_chain: ChainUnderTest, journal: Journal, manager_for: ManagerFactory
) -> None:
    manager = manager_for(any_chain, journal)
    sender = any_chain.account().address
    deployed = manager.transact(sender, TxRequest("deploy", to=None, data=REVERTING_CONTRACT_INIT))
    assert deployed.contract_address is not None

    with pytest.raises(ContractReverted) as raised:
        manager.submit(sender, TxRequest("refused", to=deployed.contract_address, data=b"\x01"))

    assert raised.value.revert_data[:4] == REFUSED_SELECTOR
    assert raised.value.block_number is not None
    assert journal.get("refused") is None


def test_transaction_mined_with_a_revert_raises_typed_error_and_is_never_resent(
    any_chain: ChainUnderTest, journal: Journal, manager_for: ManagerFactory
) -> None:
    manager = manager_for(any_chain, journal)
    sender = any_chain.account().address
    deployed = manager.transact(sender, TxRequest("deploy", to=None, data=REVERTING_CONTRACT_INIT))
    request = TxRequest("forced", to=deployed.contract_address, data=b"\x01", gas=100_000)

    with pytest.raises(ContractReverted) as raised:
        manager.transact(sender, request)

    assert raised.value.revert_data[:4] == REFUSED_SELECTOR
    assert journal.get("forced").status is TxStatus.REVERTED  # type: ignore[union-attr]
    with pytest.raises(ContractReverted):
        manager.transact(sender, request)
    assert int(any_chain.chain.request("eth_getTransactionCount", [sender, "latest"]), 16) == 2


def test_node_refusal_releases_the_nonce_for_the_next_transaction(
    any_chain: ChainUnderTest, journal: Journal, manager_for: ManagerFactory
) -> None:
    manager = manager_for(any_chain, journal)
    sender = any_chain.account().address
    too_much = TxRequest("too-much", to=SINK, value=10**40, gas=21_000)

    with pytest.raises(TransactionRejected):
        manager.submit(sender, too_much)
    confirmed = manager.transact(sender, transfer("next"))

    assert journal.get("too-much").status is TxStatus.REJECTED  # type: ignore[union-attr]
    assert confirmed.nonce == 0


def test_a_transaction_the_journal_cannot_record_is_not_sent_and_leaves_no_nonce_gap(
    any_chain: ChainUnderTest, journal: Journal, manager_for: ManagerFactory
) -> None:
    """Invariant: what the journal could not record (its disk full) is never sent, and its
    nonce is free again: the account's next transaction is mined, not queued behind a gap
    (the soak's disk-full run anchored nothing after the disk filled up, once)."""
    manager = manager_for(any_chain, journal)
    sender = any_chain.account().address
    manager.transact(sender, transfer("before"))
    # SQLite's own size limit: the journal's next page is refused with SQLITE_FULL,
    # "database or disk is full", as on a full file system
    connection = journal._db
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")
    bulky = TxRequest(key="bulky", to=SINK, data=bytes(64 * 1024), value=1)

    with pytest.raises(sqlite3.OperationalError, match="full"):
        manager.submit(sender, bulky)
    connection.execute("PRAGMA max_page_count = 1073741823")
    after = manager.transact(sender, transfer("after"))

    assert journal.get("bulky") is None
    assert after.nonce == 1
    assert mined_payloads(any_chain, sender) == Counter({b"before": 1, b"after": 1})
