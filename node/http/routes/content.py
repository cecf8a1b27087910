"""``GET``/``HEAD /ipfs/{cid}``: the trustless gateway over the node's store (embedded, or
its Kubo read offline), for those entitled only (ADR 0023): an entitled member's node (a
signed request by a current member account; the document's issuer or one of its own
addressees) or the holder of a live share link for that one document
(``Docex-Share-Token``). The gateway itself is
:mod:`adapters.content.gateway_server`; who may read is decided before it runs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from adapters import DagStore
from adapters.content.gateway_server import gateway_endpoint
from node.http.deps import ContentReader


def content_router(store: DagStore) -> APIRouter:
    """The guarded gateway over ``store``."""
    router = APIRouter(tags=["content"])
    serve = gateway_endpoint(store)

    @router.api_route(
        "/ipfs/{cid}",
        methods=["GET", "HEAD"],
        include_in_schema=False,
        dependencies=[ContentReader],
    )
    def content(request: Request) -> Response:
        # {cid} is read by the ContentReader dependency, then by the gateway
        return serve(request)

    return router
