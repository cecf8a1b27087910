"""The busiest route served without FastAPI's per-request machinery.

``POST /v1/verify`` is what every foreign customs calls, and the one public route with
no dependency to solve. Through FastAPI it also pays for the router's match, the
route's request handler (dependency solving with nothing to solve, parameter checks),
the exception middleware's wrapping and the exit stack: on the mixed-load bench's
trivial endpoints, a bare ASGI app answered 35 % more requests a second than the same
routes through FastAPI (2026-12-07, same clients, same uvicorn).

:class:`DirectRoutes` sits in the middleware stack inside the request log and metrics
(so those stay the same) and answers the routes it knows by calling their endpoint
directly; an error raised there is answered by the app's own exception handler for its
type, as Starlette's exception middleware would (``node.http.problems``); an error with
no such handler goes on up to the server-error middleware, as before. The route stays
registered with FastAPI, which documents it (OpenAPI) and serves whatever this class
passes on (another method, a trailing slash). ``tests/integration/node/
test_direct_routes.py`` checks that both paths answer the same.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

ExceptionHandler = Callable[[Request, Exception], Any]


class DirectRoutes:
    """ASGI middleware: each of ``routes`` (registered FastAPI routes whose endpoint takes
    only the request) answered at its exact path and methods by calling its endpoint."""

    def __init__(
        self,
        app: ASGIApp,
        routes: Sequence[APIRoute],
        exception_handlers: Mapping[Any, ExceptionHandler],
    ) -> None:
        self.app = app
        self._routes = {
            (method, route.path): route for route in routes for method in route.methods or ()
        }
        # the handlers Starlette's exception middleware applies: not those for Exception
        # or 500, which belong to the server-error middleware outside this one
        self._handlers = {
            key: handler
            for key, handler in exception_handlers.items()
            if isinstance(key, type) and key is not Exception
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = (
            self._routes.get((scope["method"], scope["path"])) if scope["type"] == "http" else None
        )
        if route is None:
            await self.app(scope, receive, send)
            return
        # as the router would: the request log and metrics name the route
        scope["route"] = route
        request = Request(scope, receive, send)
        try:
            response = await route.endpoint(request)
        except Exception as error:
            handler = self._handler_for(error)
            if handler is None:
                raise
            if inspect.iscoroutinefunction(handler):
                response = await handler(request, error)
            else:
                response = await run_in_threadpool(handler, request, error)
        await response(scope, receive, send)

    def _handler_for(self, error: Exception) -> ExceptionHandler | None:
        for kind in type(error).__mro__:
            handler = self._handlers.get(kind)
            if handler is not None:
                return handler
        return None
