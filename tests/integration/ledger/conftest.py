"""Real chains for the ledger's integration tests: eth-tester in process, anvil and ganache
as processes on free 127.0.0.1 ports, stopped by PID."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.chains import (
    DEV_MNEMONIC,
    Chain,
    EthTesterChain,
    JsonRpcChain,
    ManagedAnvil,
    dev_private_keys,
    find_free_port,
)
from ledger.journal import Journal
from ledger.rpc import RetryPolicy
from ledger.transactions import TransactionManager

REPO = Path(__file__).resolve().parents[3]
ANVIL = REPO / "node_modules" / ".bin" / "anvil"
GANACHE = REPO / "node_modules" / ".bin" / "ganache"

pytestmark = pytest.mark.integration


@dataclass
class ChainUnderTest:
    """A running chain, the keys it funds, and what the test may do to it."""

    name: str
    chain: Chain
    keys: list[bytes]
    url: str | None = None  # set when another process can reach it

    def account(self, index: int = 0) -> LocalAccount:
        return Account.from_key(self.keys[index])

    def pause_mining(self) -> None:
        self.chain.request("evm_setAutomine", [False])

    def mine(self) -> None:
        self.chain.request("evm_mine", [])


@pytest.fixture
def anvil_executable() -> Path:
    return ANVIL


@pytest.fixture
def anvil_process(tmp_path: Path) -> Iterator[ManagedAnvil]:
    anvil = ManagedAnvil(ANVIL, tmp_path / "anvil", port=find_free_port())
    yield anvil
    anvil.stop()


@pytest.fixture
def anvil(anvil_process: ManagedAnvil) -> Iterator[ChainUnderTest]:
    chain = anvil_process.start()
    yield ChainUnderTest("anvil", chain, dev_private_keys(), url=anvil_process.url)
    chain.close()


@pytest.fixture
def ganache() -> Iterator[ChainUnderTest]:
    port = find_free_port()
    # ganache 7 prints to stdout only unless --logging.quiet
    process = subprocess.Popen(
        [
            str(GANACHE),
            "--server.host",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--wallet.mnemonic",
            DEV_MNEMONIC,
            "--chain.chainId",
            "1337",
            "--logging.quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    chain = JsonRpcChain(url, retry=RetryPolicy(attempts=300, first_delay=0.05, max_delay=0.05))
    try:
        chain.chain_id  # noqa: B018 - wait until it answers
        yield ChainUnderTest("ganache", JsonRpcChain(url), dev_private_keys(), url=url)
    finally:
        chain.close()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def eth_tester() -> ChainUnderTest:
    return ChainUnderTest("eth-tester", EthTesterChain(), EthTesterChain.dev_private_keys())


@pytest.fixture(
    params=[
        "eth-tester",
        "anvil",
        pytest.param("ganache", marks=pytest.mark.ganache),
    ]
)
def any_chain(request: pytest.FixtureRequest) -> ChainUnderTest:
    """The same test on every backend the ledger supports."""
    fixture = {"eth-tester": "eth_tester", "anvil": "anvil", "ganache": "ganache"}[request.param]
    under_test: ChainUnderTest = request.getfixturevalue(fixture)
    return under_test


@pytest.fixture(params=["anvil", pytest.param("ganache", marks=pytest.mark.ganache)])
def rpc_chain(request: pytest.FixtureRequest) -> ChainUnderTest:
    """Backends reached over JSON-RPC (another process can share them)."""
    under_test: ChainUnderTest = request.getfixturevalue(request.param)
    return under_test


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    journal = Journal(tmp_path / "journal.sqlite")
    yield journal
    journal.close()


ManagerFactory = Callable[..., TransactionManager]


@pytest.fixture
def manager_for() -> ManagerFactory:
    """Build a transaction manager for a chain under test (its first three keys)."""

    def make(under_test: ChainUnderTest, journal: Journal, **options: object) -> TransactionManager:
        return TransactionManager(
            under_test.chain,
            journal,
            [under_test.account(i) for i in range(3)],
            poll_interval=0.005,
            **options,  # type: ignore[arg-type]
        )

    return make
