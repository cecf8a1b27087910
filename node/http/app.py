"""The FastAPI application: ``create_app(settings, services)``, nothing built at import.

Routers (``node/http/routes/``) are thin and delegate to :class:`node.services.NodeServices`;
every error becomes problem+json in :mod:`node.http.problems`; every request is logged as one
JSON line and counted in the node's metrics.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import time

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from node.http.api_docs import api_docs_router
from node.http.direct_routes import DirectRoutes
from node.http.problems import install_problem_handlers
from node.http.routes import (
    audit,
    batches,
    certificates,
    consortium,
    credentials,
    documents,
    health,
    inbox,
    lifecycle,
    metrics,
    receipts,
    share_links,
    verification,
    verification_by_reference,
)
from node.http.routes.content import content_router
from node.http.web import pages_router
from node.observability.metrics import NodeMetrics
from node.services import NodeServices
from node.settings import NodeSettings

_log = logging.getLogger("docex.node.http")

API_DESCRIPTION = """
A docex node: issue documents of the consortium's types (anchored on chain in batches),
verify any wrapped document (public, rate-limited), follow receipts. Stored content
(`/ipfs/{cid}`, the IPFS trustless-gateway protocol) and batch manifests are served only
to consortium members' nodes entitled to them, which sign their requests, and to holders
of a share link for one document (ADR 0023).

Authenticate with a bearer token from `docex users add NAME --role ...` (the
**Authorize** button). Errors are RFC 9457 `application/problem+json`.
"""


def _route_of(scope: Scope) -> str:
    """The matched route's path template (set in the scope by the router)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path is not None else "unmatched"


def _logged_path(path: str) -> str:
    """The path as logged: a share token is a credential, never written to a log."""
    if path.startswith(SHARED_PREFIX):
        return SHARED_PREFIX + "..."
    return path


SHARED_PREFIX = "/v1/shared/"


class RequestLogAndMetrics:
    """Every HTTP request counted, timed, tagged with ``X-Request-Id`` and logged as one
    JSON line: a plain ASGI middleware (``BaseHTTPMiddleware`` costs a task group and
    memory streams per request)."""

    def __init__(self, app: ASGIApp, metrics: NodeMetrics) -> None:
        self.app = app
        self.metrics = metrics
        # a request without an X-Request-Id gets this process's random prefix and a
        # counter (32 hex characters, as a UUID's): no system call per request, each of
        # which gave the event loop's GIL away under load (uuid4 reads os.urandom)
        self._id_prefix = secrets.token_hex(8)
        self._ids = itertools.count()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value.decode("latin-1")
                break
        if not request_id:
            request_id = f"{self._id_prefix}{next(self._ids):016x}"
        status = 500

        async def send_tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-Id"] = request_id
            await send(message)

        await self.app(scope, receive, send_tagged)
        elapsed = time.perf_counter() - started
        route = _route_of(scope)
        self.metrics.http_requests.labels(scope["method"], route, str(status)).inc()
        self.metrics.http_duration.labels(route).observe(elapsed)
        if _log.isEnabledFor(logging.INFO):
            client = scope.get("client")
            _log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": _logged_path(scope["path"]),
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 3),
                    "client": client[0] if client else None,
                },
            )


def create_app(
    settings: NodeSettings, services: NodeServices, *, direct_routes: bool = True
) -> FastAPI:
    """The node's ASGI app over ``services`` (built by :mod:`node.runtime` or a test).

    ``direct_routes``: ``POST /v1/verify`` and ``POST /v1/documents`` answered without
    FastAPI's per-request machinery (:mod:`node.http.direct_routes`); False sends them
    through FastAPI like every other route (the test that compares the two)."""
    app = FastAPI(
        title=f"docex node ({settings.country})",
        version="1",
        description=API_DESCRIPTION,
        docs_url=None,  # served from the node itself: node/http/api_docs.py
        redoc_url=None,
    )
    app.state.services = services
    install_problem_handlers(app)
    for module in (
        verification,
        verification_by_reference,
        documents,
        receipts,
        batches,
        inbox,
        health,
        metrics,
        lifecycle,
        consortium,
        certificates,
        credentials,
        audit,
        share_links,
    ):
        app.include_router(module.router)
    app.include_router(credentials.did_router(services.credentials.did_path))
    app.include_router(api_docs_router(app.openapi_url or "/openapi.json", app.title))
    # the verifier and issuer pages (node/http/web/): static files, read once here
    app.include_router(pages_router())
    if services.gateway_store is not None:
        # /ipfs/{cid}: the trustless gateway, for entitled members and share links only
        app.include_router(content_router(services.gateway_store))

    if direct_routes:
        app.add_middleware(
            DirectRoutes,
            routes=[
                (_route(verification.router, "/v1/verify"), verification.verify),
                (_route(documents.router, "/v1/documents"), documents.issue_documents_directly),
            ],
            exception_handlers=app.exception_handlers,
        )
    # added last, so outermost: it logs and counts the direct routes' requests too
    app.add_middleware(RequestLogAndMetrics, metrics=services.metrics)
    return app


def _route(router: APIRouter, path: str) -> APIRoute:
    """``router``'s route at ``path`` (its full path)."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.path == path:
            return route
    raise LookupError(f"no route {path}")
