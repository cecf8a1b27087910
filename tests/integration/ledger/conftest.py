"""Real chains for the ledger's integration tests: eth-tester in process, anvil and ganache
as processes on free 127.0.0.1 ports, stopped by PID."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine

from ledger.chains import (
    DEV_MNEMONIC,
    Chain,
    EthTesterChain,
    JsonRpcChain,
    ManagedAnvil,
    anvil_binary,
    dev_private_keys,
    find_free_port,
)
from ledger.contracts import Artifact, ContractBinding, load_artifacts, revert_decoder
from ledger.deploy import ConsortiumConfig, Deployment, deploy_consortium
from ledger.index_store import open_index
from ledger.indexer import EventIndexer, WatchedContract
from ledger.journal import Journal
from ledger.reverts import RevertDecoder
from ledger.rpc import RetryPolicy
from ledger.transactions import TransactionManager

REPO = Path(__file__).resolve().parents[3]
ANVIL = anvil_binary(REPO / "node_modules")
GANACHE = REPO / "node_modules" / ".bin" / "ganache"


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
        if self.name == "ganache":
            self.chain.request("miner_stop", [])  # ganache 7 has no evm_setAutomine
        else:
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
    with _anvil_chain(anvil_process) as under_test:
        yield under_test


@contextmanager
def _anvil_chain(anvil: ManagedAnvil) -> Iterator[ChainUnderTest]:
    chain = anvil.start()
    try:
        yield ChainUnderTest("anvil", chain, dev_private_keys(), url=anvil.url)
    finally:
        chain.close()


@pytest.fixture
def ganache() -> Iterator[ChainUnderTest]:
    with _ganache_process() as under_test:
        yield under_test


@contextmanager
def _ganache_process() -> Iterator[ChainUnderTest]:
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
        # ganache 7 leaves some requests unanswered when several connections are busy at
        # once (seen as 30 s read timeouts under 16 writers): one connection, queued
        served = JsonRpcChain(url, max_connections=1)
        yield ChainUnderTest("ganache", served, dev_private_keys(), url=url)
        served.close()
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
    return _eth_tester_chain()


def _eth_tester_chain() -> ChainUnderTest:
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


@dataclass
class Consortium:
    """VN (member account key 1, coo/1 issuer key 2) and TH (member account key 3), quorum 2,
    TH recognising coo/1 from VN; deployed by key 0."""

    under_test: ChainUnderTest
    manager: TransactionManager
    deployment: Deployment
    consortium: ContractBinding
    documents: ContractBinding
    decoder: RevertDecoder

    @property
    def vn_member(self) -> str:
        return self.under_test.account(1).address

    @property
    def vn_issuer(self) -> str:
        return self.under_test.account(2).address

    @property
    def th_member(self) -> str:
        return self.under_test.account(3).address

    def watched(self) -> list[WatchedContract]:
        return [
            WatchedContract("ConsortiumRegistry", self.consortium.address, self.consortium.abi),
            WatchedContract("DocumentRegistry", self.documents.address, self.documents.abi),
        ]

    def indexer(self, engine: Engine, **options: Any) -> EventIndexer:
        return EventIndexer(
            self.under_test.chain,
            engine,
            self.watched(),
            start_block=self.deployment.deployed_block,
            **options,
        )


def consortium_config(under_test: ChainUnderTest) -> ConsortiumConfig:
    return ConsortiumConfig.model_validate(
        {
            "quorum": 2,
            "members": [
                {
                    "country": "VN",
                    "name": "Viet Nam Customs",
                    "account": under_test.account(1).address,
                    "issuer_keys": [
                        {"account": under_test.account(2).address, "document_type": "coo/1"}
                    ],
                },
                {"country": "TH", "name": "Thai Customs", "account": under_test.account(3).address},
            ],
            "agreements": [{"verifier": "TH", "issuer": "VN", "document_type": "coo/1"}],
        }
    )


@dataclass(frozen=True)
class DeployedChain:
    """A chain with the consortium deployed once, for a module's tests to revert to."""

    under_test: ChainUnderTest
    deployment: Deployment
    artifacts: dict[str, Artifact]
    decoder: RevertDecoder


@pytest.fixture(
    scope="module",
    params=["eth-tester", "anvil", pytest.param("ganache", marks=pytest.mark.ganache)],
)
def deployed_chain(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DeployedChain]:
    """One chain per backend for the module, the consortium deployed on it once (the
    deployment is most of such a test's time: ganache's start and a dozen transactions).
    Each test starts from that state and leaves it as it found it (``consortium``)."""
    workdir = tmp_path_factory.mktemp(f"deployed-{request.param}")
    with _module_chain(request.param, workdir) as under_test:
        artifacts = load_artifacts()
        decoder = revert_decoder(artifacts.values(), ["coo/1"])
        journal = Journal(workdir / "deployer-journal.sqlite")
        try:
            deployment = deploy_consortium(
                _consortium_manager(under_test, journal, decoder),
                under_test.account(0).address,
                consortium_config(under_test),
                artifacts,
            )
        finally:
            journal.close()
        yield DeployedChain(under_test, deployment, artifacts, decoder)


@contextmanager
def _module_chain(name: str, workdir: Path) -> Iterator[ChainUnderTest]:
    if name == "eth-tester":
        yield _eth_tester_chain()
    elif name == "anvil":
        anvil = ManagedAnvil(ANVIL, workdir / "anvil", port=find_free_port())
        try:
            with _anvil_chain(anvil) as under_test:
                yield under_test
        finally:
            anvil.stop()
    else:
        with _ganache_process() as under_test:
            yield under_test


@pytest.fixture
def consortium(deployed_chain: DeployedChain, journal: Journal) -> Iterator[Consortium]:
    """The module's deployed consortium, seen by a transaction manager of the test's own
    (a fresh journal, nonces from the chain); the chain is reverted to the deployment
    after the test (``evm_snapshot``/``evm_revert``, which all three backends answer)."""
    under_test, deployment = deployed_chain.under_test, deployed_chain.deployment
    artifacts, decoder = deployed_chain.artifacts, deployed_chain.decoder
    snapshot = under_test.chain.request("evm_snapshot", [])
    yield Consortium(
        under_test,
        _consortium_manager(under_test, journal, decoder),
        deployment,
        ContractBinding(artifacts["ConsortiumRegistry"], deployment.consortium_registry),
        ContractBinding(artifacts["DocumentRegistry"], deployment.document_registry),
        decoder,
    )
    assert under_test.chain.request("evm_revert", [snapshot]), "the chain did not revert"


def _consortium_manager(
    under_test: ChainUnderTest, journal: Journal, decoder: RevertDecoder
) -> TransactionManager:
    """The deployer's and the members' keys (0-4), reverts decoded."""
    return TransactionManager(
        under_test.chain,
        journal,
        [under_test.account(i) for i in range(5)],
        revert_decoder=decoder,
        poll_interval=0.005,
    )


@pytest.fixture
def index_engine(tmp_path: Path, database_url: str | None) -> Iterator[Engine]:
    """The event index: index.sqlite, or PostgreSQL for a test marked both_databases."""
    engine = open_index(database_url or tmp_path / "index.sqlite")
    yield engine
    engine.dispose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The index on PostgreSQL is tested on one chain backend (eth-tester): the chain
    does not change what the index stores, and every backend again would double the
    time for nothing."""
    elsewhere = [
        item
        for item in items
        if (callspec := getattr(item, "callspec", None)) is not None
        and callspec.params.get("database_url") == "postgres"
        and _chain_of(callspec.params) != "eth-tester"
    ]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if item not in elsewhere]


def _chain_of(params: dict[str, Any]) -> str:
    chain: str = params.get("any_chain", params.get("deployed_chain", "eth-tester"))
    return chain
