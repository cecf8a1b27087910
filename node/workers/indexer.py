"""Keeps the node's event index in step with the chain; reports the lag as a metric."""

from __future__ import annotations

import logging
import threading

from certificates import DocexError
from node.ledger_link import LedgerLink
from node.metrics import NodeMetrics

_log = logging.getLogger("docex.node.indexer")


def sync_index(ledger: LedgerLink, metrics: NodeMetrics) -> int:
    """One indexer pass; returns the lag in blocks after it."""
    ledger.indexer.sync()
    lag = max(ledger.head_block() - ledger.indexer.checkpoint(), 0)
    metrics.indexer_lag.set(lag)
    return lag


def follow_chain(
    ledger: LedgerLink, metrics: NodeMetrics, stop: threading.Event, poll: float = 0.5
) -> None:
    """Sync every ``poll`` seconds until ``stop``; an unreachable chain is retried."""
    while not stop.is_set():
        try:
            sync_index(ledger, metrics)
        except DocexError as error:
            _log.warning("indexer will retry", extra={"error": str(error)})
        except Exception:
            _log.exception("indexer failed; retrying")
        stop.wait(poll)
