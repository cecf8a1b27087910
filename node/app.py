"""The FastAPI application: ``create_app(settings, services)``, nothing built at import.

Routers (``node/api/``) are thin and delegate to :class:`node.services.NodeServices`;
every error becomes problem+json in :mod:`node.errors`; every request is logged as one
JSON line and counted in the node's metrics.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from starlette.routing import Match

from adapters import gateway_router
from node.api import (
    batches,
    consortium,
    documents,
    health,
    inbox,
    lifecycle,
    metrics,
    receipts,
    verification,
)
from node.errors import install_problem_handlers
from node.services import NodeServices
from node.settings import NodeSettings

_log = logging.getLogger("docex.node.http")

API_DESCRIPTION = """
A docex node: issue documents of the consortium's types (anchored on chain in batches),
verify any wrapped document (public, rate-limited), follow receipts, fetch content over
the IPFS trustless-gateway protocol at `/ipfs/{cid}`.

Authenticate with a bearer token from `docex users add NAME --role ...` (the
**Authorize** button). Errors are RFC 9457 `application/problem+json`.
"""


def _route_of(request: Request) -> str:
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is Match.FULL:
            return str(getattr(route, "path", "other"))
    return "unmatched"


def create_app(settings: NodeSettings, services: NodeServices) -> FastAPI:
    """The node's ASGI app over ``services`` (built by :mod:`node.runtime` or a test)."""
    app = FastAPI(
        title=f"docex node ({settings.country})",
        version="1",
        description=API_DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.services = services
    install_problem_handlers(app)
    for module in (
        verification,
        documents,
        receipts,
        batches,
        inbox,
        health,
        metrics,
        lifecycle,
        consortium,
    ):
        app.include_router(module.router)
    if services.gateway_store is not None:
        # the gateway's own router serves /ipfs/{cid}: its routes join the app's
        app.router.routes.extend(gateway_router(services.gateway_store).routes)

    @app.middleware("http")
    async def log_and_count(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        response = await call_next(request)
        elapsed = time.perf_counter() - started
        route = _route_of(request)
        services.metrics.http_requests.labels(
            request.method, route, str(response.status_code)
        ).inc()
        services.metrics.http_duration.labels(route).observe(elapsed)
        response.headers["X-Request-Id"] = request_id
        _log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 3),
                "client": request.client.host if request.client else None,
            },
        )
        return response

    return app
