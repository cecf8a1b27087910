"""The node's Prometheus metrics, in a registry of its own (one per app, no global state)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


class NodeMetrics:
    """Documents issued and verified, anchoring latency, batch sizes, indexer lag, HTTP."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.documents_accepted = Counter(
            "docex_documents_accepted",
            "Documents accepted into the outbox (202).",
            registry=self.registry,
        )
        self.documents_anchored = Counter(
            "docex_documents_anchored",
            "Documents whose batch root was mined.",
            registry=self.registry,
        )
        self.verifications = Counter(
            "docex_verifications",
            "Verifications answered, by verdict.",
            ["verdict"],
            registry=self.registry,
        )
        self.anchoring_latency = Histogram(
            "docex_anchoring_latency_seconds",
            "From the oldest document's acceptance to its batch's anchor being mined.",
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "docex_batch_size_documents",
            "Documents per anchored batch.",
            buckets=(1, 2, 5, 10, 50, 100, 500, 1000, 5000, 10000, 100000),
            registry=self.registry,
        )
        self.indexer_lag = Gauge(
            "docex_indexer_lag_blocks",
            "Chain head minus the event index's checkpoint.",
            registry=self.registry,
        )
        self.http_requests = Counter(
            "docex_http_requests",
            "HTTP requests answered, by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "docex_http_request_duration_seconds",
            "HTTP request handling time, by route.",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.acceptance_group_size = Histogram(
            "docex_acceptance_group_size_requests",
            "Issue requests stored in one transaction (one sync to disk) by the acceptance "
            "writer: above 1 under concurrent issuing.",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "docex_outbox_pending_documents",
            "Accepted documents not in a batch yet.",
            registry=self.registry,
        )

    def watch_outbox(self, pending: Callable[[], int]) -> None:
        self.outbox_pending.set_function(lambda: float(pending()))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
