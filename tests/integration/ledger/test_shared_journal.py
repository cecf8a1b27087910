"""Two transaction managers on one journal file, as two docex processes run them
(``docex run --api-workers 2``): one account, no nonce taken twice, every intent once."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ledger.journal import Journal
from ledger.transactions import TransactionManager, TxRequest

if TYPE_CHECKING:
    from conftest import ChainUnderTest, ManagerFactory

SINK = "0x000000000000000000000000000000000000dEaD"


def request(key: str) -> TxRequest:
    return TxRequest(key, to=SINK, data=key.encode())


@pytest.fixture
def two_managers(
    anvil: ChainUnderTest, manager_for: ManagerFactory, tmp_path: Path
) -> list[TransactionManager]:
    # each with its own connection and lock-file descriptor, like two processes
    journals = [Journal(tmp_path / "journal.sqlite") for _ in range(2)]
    yield [manager_for(anvil, journal) for journal in journals]  # type: ignore[misc]
    for journal in journals:
        journal.close()


def test_managers_taking_turns_on_one_account_never_reuse_a_nonce(
    anvil: ChainUnderTest, two_managers: list[TransactionManager]
) -> None:
    first, second = two_managers
    account = anvil.account(0).address
    keys = [f"turn-{i}" for i in range(6)]
    for index, key in enumerate(keys):
        (first if index % 2 == 0 else second).submit(account, request(key))

    confirmed = [first.wait(key) for key in keys]

    assert sorted(c.nonce for c in confirmed) == list(range(6))
    assert len({c.tx_hash for c in confirmed}) == 6


def test_managers_sending_at_once_from_one_account_send_every_intent_once(
    anvil: ChainUnderTest, two_managers: list[TransactionManager]
) -> None:
    account = anvil.account(0).address
    failures: list[BaseException] = []

    def send(manager: TransactionManager, name: str) -> None:
        try:
            for i in range(8):
                manager.submit(account, request(f"{name}-{i}"))
        except BaseException as error:  # reported below, with the test's failure
            failures.append(error)

    threads = [
        threading.Thread(target=send, args=(manager, f"process-{n}"))
        for n, manager in enumerate(two_managers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    confirmed = [two_managers[0].wait(f"process-{n}-{i}") for n in range(2) for i in range(8)]
    assert sorted(c.nonce for c in confirmed) == list(range(16))
