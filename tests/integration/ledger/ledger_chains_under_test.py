"""What the ledger's integration tests know about a chain under test."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.chains import Chain
from ledger.journal import Journal
from ledger.transactions import TransactionManager


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


def make_manager(
    under_test: ChainUnderTest, journal: Journal, **options: object
) -> TransactionManager:
    return TransactionManager(
        under_test.chain,
        journal,
        [under_test.account(i) for i in range(3)],
        poll_interval=0.005,
        **options,  # type: ignore[arg-type]
    )
