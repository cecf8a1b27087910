"""A starting Clique chain that stalls is told as soon as no signer's head moves, not
after the whole start-up timeout; a chain that makes blocks, even slowly and on branches
that do not agree yet, is waited for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from node.network.sealing import stall_seconds, wait_for_agreed_block


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Signer:
    """A geth whose head at each moment is ``head(now)``: (number, branch)."""

    def __init__(self, clock: Clock, head: Callable[[float], tuple[int, str]]) -> None:
        self.clock, self.head = clock, head

    def block_number(self) -> int:
        return self.head(self.clock.now)[0]

    def rpc(self, method: str, params: list[Any]) -> dict[str, str] | None:
        assert method == "eth_getBlockByNumber"
        number, branch = self.head(self.clock.now)
        wanted = int(params[0], 16)
        return None if wanted > number else {"hash": f"{branch}-{wanted}"}


def wait(signers: list[Signer], clock: Clock, stalled_after: float | None) -> tuple[bool, float]:
    agreed = wait_for_agreed_block(
        signers,  # type: ignore[arg-type]
        3,
        33.0,
        stalled_after=stalled_after,
        clock=clock,
        sleep=clock.sleep,
    )
    return agreed, clock.now


def test_a_start_where_no_head_moves_is_given_up_after_the_stall_time() -> None:
    clock = Clock()
    # two branches of block 2, every signer "signed recently" on its own: nothing moves
    signers = [Signer(clock, lambda _t, b=b: (2, b)) for b in "aabb"]
    agreed, at = wait(signers, clock, stalled_after=10.0)
    assert not agreed
    assert 10.0 < at < 11.0


def test_without_a_stall_time_the_whole_timeout_is_waited() -> None:
    clock = Clock()
    signers = [Signer(clock, lambda _t, b=b: (2, b)) for b in "aabb"]
    agreed, at = wait(signers, clock, stalled_after=None)
    assert not agreed
    assert at > 33.0


def test_a_slow_chain_whose_heads_move_is_waited_for_until_they_agree() -> None:
    clock = Clock()

    def head(t: float, mine: str) -> tuple[int, str]:
        number = int(t // 8)  # a block every 8 s: slower than none in 10 s, but moving
        return number, ("x" if number >= 3 else mine)  # the branches join at block 3

    signers = [Signer(clock, lambda t, b=b: head(t, b)) for b in "abcd"]
    agreed, at = wait(signers, clock, stalled_after=10.0)
    assert agreed
    assert 24.0 <= at < 25.0


def test_the_stall_time_grows_with_the_block_period() -> None:
    assert stall_seconds(1) == 10.0
    assert stall_seconds(5) == 25.0
