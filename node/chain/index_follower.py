"""Keeps the node's event index in step with the chain; reports the lag as a metric.

After each pass the :class:`~node.issuing.anchor_keeper.AnchorKeeper` (when given) checks
that every batch the node holds as anchored still is (a chain can lose blocks), and the
:class:`IndexWatch` wakes the requests waiting to read their own writes.

A member's node looks for blocks every 100 ms and its chain makes one a second, so most
looks find nothing new. A look that finds the chain's tip (its newest block's number and
hash) where the last complete pass left it, with no restart of the chain since, is one
request and nothing more (:class:`QuietChain`): a block's hash commits to every block
below it, so the same tip is the same chain, and the index, its checkpoint and the
anchors the keeper checks are where that pass left them. A complete pass still runs at
least every :data:`FULL_PASS_EVERY` seconds: what it finds without a new block (a
transaction the chain's pool lost) waits at most that long.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from certificates import DocexError
from ledger import SyncReport
from node.chain.index_watch import IndexWatch
from node.chain.ledger_link import LedgerLink
from node.issuing.anchor_keeper import AnchorKeeper
from node.observability.metrics import NodeMetrics

_log = logging.getLogger("docex.node.indexer")

#: seconds: a complete pass at least this often, even when the chain's tip has not moved
FULL_PASS_EVERY: Final = 5.0

#: the chain's newest block: (number, hash)
Tip = tuple[int, bytes]


def sync_index(ledger: LedgerLink, metrics: NodeMetrics) -> int:
    """One indexer pass; returns the lag in blocks after it."""
    return index_pass(ledger, metrics)[1]


def index_pass(ledger: LedgerLink, metrics: NodeMetrics) -> tuple[SyncReport, int]:
    """One indexer pass: what it did (a rollback?) and the lag after it, against the head
    the pass read (also a metric)."""
    report = ledger.indexer.sync()
    lag = max(report.head - ledger.indexer.checkpoint(), 0)
    metrics.indexer_lag.set(lag)
    return report, lag


@dataclass
class QuietChain:
    """Where the last complete pass left the chain: whether a look can stop at the tip.

    :meth:`settled` records a pass only when it completed (the keeper's check too) and
    left the index caught up with the tip read before it; anything else (a failed pass, a
    page the chain changed under, a restart of the managed chain) leaves the next look a
    complete pass.
    """

    full_every: float = FULL_PASS_EVERY
    clock: Callable[[], float] = time.monotonic
    _tip: Tip | None = None
    _restarts: int = -1
    _at: float = 0.0

    def unchanged(self, tip: Tip, restarts: int) -> bool:
        """Is the chain where the last complete pass left it (and that pass recent)?"""
        return (
            self._tip == tip
            and self._restarts == restarts
            and self.clock() - self._at < self.full_every
        )

    def settled(self, tip: Tip, restarts: int, caught_up: bool, *, started: float) -> None:
        """A complete pass that started at ``started``, with the chain at ``tip``."""
        if caught_up:
            self._tip, self._restarts, self._at = tip, restarts, started
        else:
            self.forget()

    def forget(self) -> None:
        self._tip = None


def follow_chain(
    ledger: LedgerLink,
    metrics: NodeMetrics,
    stop: threading.Event,
    poll: float = 0.5,
    keeper: AnchorKeeper | None = None,
    watch: IndexWatch | None = None,
    quiet: QuietChain | None = None,
) -> None:
    """Look at the chain every ``poll`` seconds until ``stop``, with a complete pass when
    it moved (:class:`QuietChain`); an unreachable chain is retried."""
    quiet = quiet or QuietChain()
    if watch is not None:
        watch.followed_here()
    try:
        while not stop.is_set():
            try:
                look(ledger, metrics, quiet, keeper=keeper, watch=watch)
            except DocexError as error:
                _log.warning("indexer will retry", extra={"error": str(error)})
                _refresh(watch, ledger)
            except Exception:
                _log.exception("indexer failed; retrying")
                _refresh(watch, ledger)
            stop.wait(poll)
    finally:
        if watch is not None:
            watch.not_followed()


def look(
    ledger: LedgerLink,
    metrics: NodeMetrics,
    quiet: QuietChain,
    *,
    keeper: AnchorKeeper | None = None,
    watch: IndexWatch | None = None,
) -> bool:
    """One look at the chain: a complete pass unless the chain is where the last one left
    it; True when a complete pass ran. Errors propagate (the follower retries)."""
    token = ledger.restarts.pass_started()
    started = quiet.clock()
    tip = ledger.chain_tip()
    if quiet.unchanged(tip, token):
        return False
    quiet.forget()
    _complete_pass(ledger, metrics, token, keeper, watch)
    caught_up = tip[0] - ledger.indexer.checkpoint() <= ledger.indexer.confirmations
    quiet.settled(tip, token, caught_up, started=started)
    return True


def _complete_pass(
    ledger: LedgerLink,
    metrics: NodeMetrics,
    token: int,
    keeper: AnchorKeeper | None,
    watch: IndexWatch | None,
) -> None:
    report, _ = index_pass(ledger, metrics)
    # the verifier's memo key moves before the chain stops being in doubt: in between, a
    # verdict memoised before a chain reset would answer green
    if watch is not None:
        watch.passed(ledger.indexer.checkpoint())
    ledger.restarts.checked(token)
    if keeper is not None:
        keeper.check(rewound=report.reorged_to is not None)


def _refresh(watch: IndexWatch | None, ledger: LedgerLink) -> None:
    """After a failed pass: the pages it committed before failing are in the index, so
    the state the verifier's memo is keyed on is read again (if the index answers)."""
    if watch is None:
        return
    try:
        watch.passed(ledger.indexer.checkpoint())
    except Exception:  # the index itself fails: the next pass tries again
        _log.exception("could not read the index's checkpoint after a failed pass")
