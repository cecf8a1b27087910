"""The busiest routes served without FastAPI's per-request machinery.

``POST /v1/verify`` is what every foreign customs calls, and ``POST /v1/documents`` what
every clerk's system calls. Through FastAPI each also pays for the router's match, the
route's request handler (dependency solving, parameter checks), the exception
middleware's wrapping and the exit stack: on the mixed-load bench's trivial endpoints, a
bare ASGI app answered 35 % more requests a second than the same routes through FastAPI
(2026-12-07, same clients, same uvicorn). An issue request of five documents took 2.05 ms
of the event loop's CPU through FastAPI and 1.76 ms directly (2026-12-08: in process,
blocks of 150 requests alternating between the two apps, medians of eight).

:class:`DirectRoutes` sits in the middleware stack inside the request log and metrics
(so those stay the same) and answers the routes it knows by calling their direct
handler. A handler may pass a request on (it returns None before reading the body): the
issuing route answers directly only a request FastAPI would admit as it stands (a live
issuer's bearer token, plain parameters), and leaves every other one to FastAPI, which
refuses it as before. An error raised in a handler is answered by the app's own
exception handler for its type, as Starlette's exception middleware would
(``node.http.problems``); an error with no such handler goes on up to the server-error
middleware, as before. The routes stay registered with FastAPI, which documents them
(OpenAPI) and serves whatever this class passes on (another method, a trailing slash).
``tests/integration/node/test_direct_routes.py`` checks that both paths answer the same.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

ExceptionHandler = Callable[[Request, Exception], Any]
#: answers a request of its route, or passes it on to FastAPI (None, its body unread)
DirectHandler = Callable[[Request], Awaitable[Response | None]]


class DirectRoutes:
    """ASGI middleware: each of ``routes`` (a registered FastAPI route and its direct
    handler) answered at the route's exact path and methods by calling the handler."""

    def __init__(
        self,
        app: ASGIApp,
        routes: Sequence[tuple[APIRoute, DirectHandler]],
        exception_handlers: Mapping[Any, ExceptionHandler],
    ) -> None:
        self.app = app
        self._routes = {
            (method, route.path): (route, handler)
            for route, handler in routes
            for method in route.methods or ()
        }
        # the handlers Starlette's exception middleware applies: not those for Exception
        # or 500, which belong to the server-error middleware outside this one
        self._handlers = {
            key: handler
            for key, handler in exception_handlers.items()
            if isinstance(key, type) and key is not Exception
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        direct = (
            self._routes.get((scope["method"], scope["path"])) if scope["type"] == "http" else None
        )
        if direct is None:
            await self.app(scope, receive, send)
            return
        route, answer = direct
        # as the router would: the request log and metrics name the route
        scope["route"] = route
        request = Request(scope, receive, send)
        response: Response | None
        try:
            response = await answer(request)
        except Exception as error:
            handler = self._handler_for(error)
            if handler is None:
                raise
            if inspect.iscoroutinefunction(handler):
                response = await handler(request, error)
            else:
                response = await run_in_threadpool(handler, request, error)
        if response is None:  # passed on, its body unread: FastAPI answers it
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)

    def _handler_for(self, error: Exception) -> ExceptionHandler | None:
        for kind in type(error).__mro__:
            handler = self._handlers.get(kind)
            if handler is not None:
                return handler
        return None
