"""Public verification's rate limit: a token bucket per client, refilled by the clock."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from node.access.rate_limit import TokenBuckets
from node.errors import RateLimited

if TYPE_CHECKING:
    from conftest import Clock


def _allowed(buckets: TokenBuckets, client: str, requests: int) -> int:
    """How many of ``requests`` requests at this instant ``client`` may make."""
    allowed = 0
    for _ in range(requests):
        try:
            buckets.take(client)
        except RateLimited:
            continue
        allowed += 1
    return allowed


def test_a_new_client_may_send_a_burst_and_no_more(clock: Clock) -> None:
    buckets = TokenBuckets(rate=1.0, burst=5, clock=clock)
    assert _allowed(buckets, "10.0.0.1", 8) == 5


def test_tokens_come_back_at_the_rate(clock: Clock) -> None:
    buckets = TokenBuckets(rate=2.0, burst=4, clock=clock)
    _allowed(buckets, "10.0.0.1", 4)
    clock.advance(0.5)
    assert _allowed(buckets, "10.0.0.1", 4) == 1
    clock.advance(1.0)
    assert _allowed(buckets, "10.0.0.1", 4) == 2


def test_an_idle_client_saves_up_no_more_than_the_burst(clock: Clock) -> None:
    buckets = TokenBuckets(rate=10.0, burst=3, clock=clock)
    _allowed(buckets, "10.0.0.1", 3)
    clock.advance(3600)
    assert _allowed(buckets, "10.0.0.1", 10) == 3


def test_a_refused_request_spends_nothing(clock: Clock) -> None:
    buckets = TokenBuckets(rate=1.0, burst=1, clock=clock)
    buckets.take("10.0.0.1")
    assert _allowed(buckets, "10.0.0.1", 5) == 0
    clock.advance(1.0)
    assert _allowed(buckets, "10.0.0.1", 1) == 1


def test_each_client_has_its_own_bucket(clock: Clock) -> None:
    buckets = TokenBuckets(rate=1.0, burst=2, clock=clock)
    assert _allowed(buckets, "10.0.0.1", 3) == 2
    assert _allowed(buckets, "10.0.0.2", 3) == 2


def test_a_refusal_says_when_to_retry_in_whole_seconds(clock: Clock) -> None:
    buckets = TokenBuckets(rate=0.25, burst=1, clock=clock)
    buckets.take("10.0.0.1")
    clock.advance(1.0)  # a quarter of a token back: three quarters at 0.25/s is 3 s
    with pytest.raises(RateLimited) as refused:
        buckets.take("10.0.0.1")
    assert refused.value.retry_after == 3
    assert "10.0.0.1" in str(refused.value)


def test_retry_after_is_at_least_one_second(clock: Clock) -> None:
    buckets = TokenBuckets(rate=1000.0, burst=1, clock=clock)
    buckets.take("10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        buckets.take("10.0.0.1")
    assert refused.value.retry_after == 1


def test_forgetting_clients_never_forgives_one_that_is_still_limited(clock: Clock) -> None:
    buckets = TokenBuckets(rate=1.0, burst=2, clock=clock)
    for client in range(10_000):  # as many clients as are remembered
        buckets.take(f"10.0.{client}")
    clock.advance(10)  # their buckets are full again: forgetting them loses nothing
    buckets.take("drained")
    buckets.take("drained")  # one client too many: the full buckets are forgotten
    with pytest.raises(RateLimited):
        buckets.take("drained")
