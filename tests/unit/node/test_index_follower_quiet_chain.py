"""The index follower's quiet looks: a look that finds the chain where the last complete
pass left it is one request. The rule attacked here: every other look (the tip moved, to
another number or only to another hash; a restart of the chain; a pass that failed or
did not catch up; too long since the last complete pass) is a complete pass."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from certificates import DocexError
from ledger import SyncReport
from node.chain.index_follower import QuietChain, look
from node.chain.restarts import ChainRestarts
from node.observability.metrics import NodeMetrics

TIP = (7, b"\x07" * 32)


@dataclass
class Indexer:
    """Indexes up to the chain's head when it syncs (``behind`` blocks short if set)."""

    chain: Chain
    confirmations: int = 0
    behind: int = 0
    indexed: int = -1
    passes: int = 0

    def sync(self) -> SyncReport:
        self.passes += 1
        head = self.chain.tip[0]
        first = self.indexed + 1
        self.indexed = max(head - self.confirmations - self.behind, self.indexed)
        return SyncReport(first, self.indexed, 0, None, head)

    def checkpoint(self) -> int:
        return self.indexed


@dataclass
class Chain:
    tip: tuple[int, bytes] = TIP
    reads: int = 0


@dataclass
class Keeper:
    fail: bool = False
    checks: list[bool] = field(default_factory=list)

    def check(self, *, rewound: bool = False) -> None:
        self.checks.append(rewound)
        if self.fail:
            raise DocexError("the chain refused the keeper's read")


@dataclass
class Ledger:
    chain: Chain = field(default_factory=Chain)
    restarts: ChainRestarts = field(default_factory=ChainRestarts)
    indexer: Indexer = field(init=False)

    def __post_init__(self) -> None:
        self.indexer = Indexer(self.chain)

    def chain_tip(self) -> tuple[int, bytes]:
        self.chain.reads += 1
        return self.chain.tip


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def follower(full_every: float = 5.0) -> tuple[Ledger, QuietChain, Clock, Keeper]:
    clock = Clock()
    return Ledger(), QuietChain(full_every=full_every, clock=clock), clock, Keeper()


def looks(ledger: Ledger, quiet: QuietChain, keeper: Keeper) -> bool:
    return look(ledger, NodeMetrics(), quiet, keeper=keeper)  # type: ignore[arg-type]


def test_the_same_tip_after_a_complete_pass_is_one_read_and_no_pass() -> None:
    ledger, quiet, _, keeper = follower()
    assert looks(ledger, quiet, keeper) is True
    assert (ledger.indexer.passes, len(keeper.checks)) == (1, 1)

    assert [looks(ledger, quiet, keeper) for _ in range(20)] == [False] * 20
    assert (ledger.indexer.passes, len(keeper.checks)) == (1, 1)
    assert ledger.chain.reads == 21


@pytest.mark.parametrize(
    "moved",
    [
        pytest.param((8, b"\x08" * 32), id="a new block"),
        pytest.param((7, b"\x70" * 32), id="another block at the same height"),
        pytest.param((6, b"\x06" * 32), id="a shorter chain"),
    ],
)
def test_a_tip_that_moved_in_any_way_is_a_complete_pass(moved: tuple[int, bytes]) -> None:
    ledger, quiet, _, keeper = follower()
    looks(ledger, quiet, keeper)
    ledger.chain.tip = moved
    assert looks(ledger, quiet, keeper) is True
    assert ledger.indexer.passes == 2


def test_a_restart_of_the_chain_is_a_complete_pass_even_at_the_same_tip() -> None:
    ledger, quiet, _, keeper = follower()
    looks(ledger, quiet, keeper)
    ledger.restarts.restarting()
    assert ledger.restarts.in_doubt()
    assert looks(ledger, quiet, keeper) is True
    assert not ledger.restarts.in_doubt()  # and that pass clears the doubt
    assert looks(ledger, quiet, keeper) is False


def test_a_complete_pass_runs_at_least_every_full_every_seconds() -> None:
    ledger, quiet, clock, keeper = follower(full_every=5.0)
    looks(ledger, quiet, keeper)
    clock.now += 4.9
    assert looks(ledger, quiet, keeper) is False
    clock.now += 0.1
    assert looks(ledger, quiet, keeper) is True
    assert looks(ledger, quiet, keeper) is False


def test_after_a_pass_that_failed_the_next_look_is_a_complete_pass() -> None:
    ledger, quiet, _, keeper = follower()
    looks(ledger, quiet, keeper)
    ledger.chain.tip = (8, b"\x08" * 32)
    keeper.fail = True
    with pytest.raises(DocexError):
        looks(ledger, quiet, keeper)
    keeper.fail = False
    # the index reached block 8, but the keeper never checked it: not quiet yet
    assert looks(ledger, quiet, keeper) is True
    assert keeper.checks == [False, False, False]
    assert looks(ledger, quiet, keeper) is False


def test_a_pass_that_left_the_index_behind_the_tip_is_not_quiet() -> None:
    ledger, quiet, _, keeper = follower()
    ledger.indexer.behind = 1  # a page the chain changed under, say
    looks(ledger, quiet, keeper)
    assert looks(ledger, quiet, keeper) is True
    ledger.indexer.behind = 0
    assert looks(ledger, quiet, keeper) is True  # caught up now
    assert looks(ledger, quiet, keeper) is False


def test_confirmations_held_back_do_not_count_as_behind() -> None:
    ledger, quiet, _, keeper = follower()
    ledger.indexer.confirmations = 2
    looks(ledger, quiet, keeper)
    assert ledger.indexer.checkpoint() == TIP[0] - 2
    assert looks(ledger, quiet, keeper) is False
