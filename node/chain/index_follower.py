"""Keeps the node's event index in step with the chain; reports the lag as a metric.

After each pass the :class:`~node.issuing.anchor_keeper.AnchorKeeper` (when given) checks
that every batch the node holds as anchored still is (a chain can lose blocks), and the
:class:`IndexWatch` wakes the requests waiting to read their own writes.
"""

from __future__ import annotations

import logging
import threading

from certificates import DocexError
from ledger import SyncReport
from node.chain.index_watch import IndexWatch
from node.chain.ledger_link import LedgerLink
from node.issuing.anchor_keeper import AnchorKeeper
from node.observability.metrics import NodeMetrics

_log = logging.getLogger("docex.node.indexer")


def sync_index(ledger: LedgerLink, metrics: NodeMetrics) -> int:
    """One indexer pass; returns the lag in blocks after it."""
    return index_pass(ledger, metrics)[1]


def index_pass(ledger: LedgerLink, metrics: NodeMetrics) -> tuple[SyncReport, int]:
    """One indexer pass: what it did (a rollback?) and the lag after it (also a metric)."""
    report = ledger.indexer.sync()
    lag = max(ledger.head_block() - ledger.indexer.checkpoint(), 0)
    metrics.indexer_lag.set(lag)
    return report, lag


def follow_chain(
    ledger: LedgerLink,
    metrics: NodeMetrics,
    stop: threading.Event,
    poll: float = 0.5,
    keeper: AnchorKeeper | None = None,
    watch: IndexWatch | None = None,
) -> None:
    """Sync every ``poll`` seconds until ``stop``; an unreachable chain is retried."""
    if watch is not None:
        watch.followed_here()
    try:
        while not stop.is_set():
            try:
                token = ledger.restarts.pass_started()
                report, _ = index_pass(ledger, metrics)
                # the verifier's memo key moves before the chain stops being in doubt: in
                # between, a verdict memoised before a chain reset would answer green
                if watch is not None:
                    watch.passed(ledger.indexer.checkpoint())
                ledger.restarts.checked(token)
                if keeper is not None:
                    keeper.check(rewound=report.reorged_to is not None)
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


def _refresh(watch: IndexWatch | None, ledger: LedgerLink) -> None:
    """After a failed pass: the pages it committed before failing are in the index, so
    the state the verifier's memo is keyed on is read again (if the index answers)."""
    if watch is None:
        return
    try:
        watch.passed(ledger.indexer.checkpoint())
    except Exception:  # the index itself fails: the next pass tries again
        _log.exception("could not read the index's checkpoint after a failed pass")
