"""The server-stack ceiling of the mixed-load benchmark: trivial endpoints, same stack.

The same FastAPI + uvicorn server ``docex run`` serves its API with
(``node.http.api_process.api_server``: uvloop, httptools, no access log), one process,
with two routes at the node's paths that do the least a real one must: read the whole
body and parse it as JSON, then answer what the node would (``{"valid": true}`` for a
verification, one receipt per document for an issue request). What ``bench.mixed_load``
measures against it is what this machine, this Python and this server stack allow with
the same clients; the node's figures are reported as fractions of it. As in the node,
``POST /v1/verify`` and ``POST /v1/documents`` are answered directly, without FastAPI's
per-request machinery (``node.http.direct_routes``): the ceiling's stack is the one the
node's routes run on.

Run: ``python -m bench.ceiling_server PORT`` (binds 127.0.0.1 only).
"""

from __future__ import annotations

import json
import sys

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute

from node.http.api_process import api_server
from node.http.direct_routes import DirectRoutes
from node.settings import load_settings


def trivial_app() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    router = APIRouter()

    @router.post("/v1/verify")
    async def verify(request: Request) -> Response:
        json.loads(await request.body())
        return Response(b'{"valid":true,"checks":[]}', media_type="application/json")

    @router.post("/v1/documents", status_code=202)
    async def issue(request: Request) -> Response:
        documents = json.loads(await request.body())
        receipts = [{"id": f"r{n}"} for n in range(len(documents))]
        return Response(
            json.dumps({"receipts": receipts}).encode(),
            status_code=202,
            media_type="application/json",
        )

    app.include_router(router)
    app.add_middleware(
        DirectRoutes,
        routes=[(route, route.endpoint) for route in router.routes if isinstance(route, APIRoute)],
        exception_handlers=app.exception_handlers,
    )

    return app


def main(argv: list[str] | None = None) -> int:
    (port,) = argv if argv is not None else sys.argv[1:]
    settings = load_settings(host="127.0.0.1", port=int(port), profile="test")
    api_server(trivial_app(), settings).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
