"""``/metrics``: the Prometheus text exposition of the node's own registry."""

from __future__ import annotations

from fastapi import APIRouter, Response

from node.http.deps import Services
from node.observability.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(services: Services) -> Response:
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE)
