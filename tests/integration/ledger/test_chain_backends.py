"""Chain backends: the managed anvil keeps its chain across restarts; a dead endpoint is
retried, then reported."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from certificates.errors import Unavailable
from ledger.chains import JsonRpcChain, ManagedAnvil, find_free_port
from ledger.errors import ChainProcessError, RpcUnreachable
from ledger.journal import Journal
from ledger.rpc import RetryPolicy
from ledger.transactions import TxRequest

if TYPE_CHECKING:
    from conftest import ChainUnderTest, ManagerFactory


def test_managed_anvil_keeps_its_chain_across_a_clean_restart(
    anvil_process: ManagedAnvil, anvil: ChainUnderTest, tmp_path: Path, manager_for: ManagerFactory
) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    confirmed = manager_for(anvil, journal).transact(
        anvil.account().address, TxRequest("persisted", to=None, data=b"\x00")
    )
    anvil_process.stop()
    assert anvil_process.pid is None

    chain = anvil_process.start()

    assert int(chain.request("eth_blockNumber"), 16) >= confirmed.block_number
    assert chain.request("eth_getTransactionReceipt", [confirmed.tx_hash]) is not None
    assert anvil_process.state_file.exists()
    chain.close()
    journal.close()


def test_managed_anvil_binds_to_loopback_only(anvil_process: ManagedAnvil) -> None:
    command = anvil_process.command()
    assert command[command.index("--host") + 1] == "127.0.0.1"


def test_missing_anvil_executable_is_reported(tmp_path: Path) -> None:
    missing = ManagedAnvil(tmp_path / "no-anvil", tmp_path, port=find_free_port())
    with pytest.raises(ChainProcessError):
        missing.start()


def test_unreachable_endpoint_is_retried_with_backoff_then_reported() -> None:
    waits: list[float] = []
    chain = JsonRpcChain(
        f"http://127.0.0.1:{find_free_port()}",
        retry=RetryPolicy(attempts=4, first_delay=0.01, max_delay=0.03),
        sleep=waits.append,
    )

    with pytest.raises(RpcUnreachable) as raised:
        chain.request("eth_blockNumber")

    assert raised.value.attempts == 4
    assert waits == [0.01, 0.02, 0.03]
    assert raised.value.code == "rpc-unreachable"
    assert isinstance(raised.value, Unavailable)


def test_endpoint_that_comes_up_during_the_retries_is_used(
    tmp_path: Path, anvil_executable: Path
) -> None:
    port = find_free_port()
    anvil = ManagedAnvil(anvil_executable, tmp_path, port=port)

    def start_anvil_on_first_wait(_: float) -> None:
        if anvil.pid is None:
            anvil.start().close()

    chain = JsonRpcChain(
        f"http://127.0.0.1:{port}",
        retry=RetryPolicy(attempts=3, first_delay=0.01),
        sleep=start_anvil_on_first_wait,
    )
    try:
        assert int(chain.request("eth_blockNumber"), 16) == 0
    finally:
        chain.close()
        anvil.stop()


def test_managed_anvil_refuses_a_port_another_chain_already_serves(
    anvil_process: ManagedAnvil, anvil: ChainUnderTest, tmp_path: Path, anvil_executable: Path
) -> None:
    intruder = ManagedAnvil(anvil_executable, tmp_path / "second", port=anvil_process.port)

    with pytest.raises(ChainProcessError):
        intruder.start()

    assert intruder.pid is None
