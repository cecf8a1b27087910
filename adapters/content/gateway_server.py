"""The IPFS trustless gateway (``GET``/``HEAD /ipfs/{cid}``) over a DagStore (embedded, Kubo).

Only verifiable responses are served: a raw block (``?format=raw`` or
``Accept: application/vnd.ipld.raw``) or a CARv1 of the DAG (``?format=car`` or
``Accept: application/vnd.ipld.car``), ``order=dfs``, ``dups=n``, with
``dag-scope`` ``all`` (default), ``entity`` (the same for a file) or ``block``.
Anything else (deserialised responses, paths under the CID) is not served: a peer
must verify what it gets. ``?format=`` wins over ``Accept``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, Router

from adapters.content.car import car_stream
from adapters.content.cid import Cid
from adapters.content.gateway_media import CAR_CONTENT_TYPE, CAR_MEDIA_TYPE, RAW_MEDIA_TYPE
from adapters.content.store import DagStore
from adapters.errors import InvalidCid

_IMMUTABLE: Final = "public, max-age=29030400, immutable"


def _accepted_format(accept: str) -> str | None:
    """The first trustless format in an Accept header (q-values ignored), if any."""
    for entry in accept.split(","):
        media_type, *parameters = (part.strip() for part in entry.split(";"))
        media_type = media_type.lower()
        if media_type == RAW_MEDIA_TYPE:
            return "raw"
        if media_type == CAR_MEDIA_TYPE:
            versions = [p.split("=", 1)[1] for p in parameters if p.startswith("version=")]
            if not versions or versions[0].strip('"') == "1":
                return "car"
    return None


def _problem(status: int, message: str) -> Response:
    return PlainTextResponse(message, status_code=status, headers={"Cache-Control": "no-store"})


def gateway_router(store: DagStore) -> Router:
    """An ASGI router serving ``store``'s content as a trustless gateway, to anyone."""
    return Router(routes=[Route("/ipfs/{cid}", gateway_endpoint(store), methods=["GET", "HEAD"])])


def gateway_endpoint(store: DagStore) -> Callable[[Request], Response]:
    """The handler of ``GET``/``HEAD /ipfs/{cid}`` over ``store``, for a server that
    decides first who may read (a docex node: ADR 0023)."""

    def serve(request: Request) -> Response:
        try:
            cid = Cid.parse(request.path_params["cid"])
        except InvalidCid as error:
            return _problem(400, f"invalid CID: {error.message}")
        requested = request.query_params.get("format")
        if requested is not None:
            if requested not in ("raw", "car"):
                return _problem(400, f"unsupported format {requested!r}: use raw or car")
            response_format: str | None = requested
        else:
            response_format = _accepted_format(request.headers.get("accept", ""))
        if response_format is None:
            return _problem(
                406, f"trustless gateway: ask for {RAW_MEDIA_TYPE} or {CAR_MEDIA_TYPE}; version=1"
            )
        if response_format == "raw":
            return _raw_response(store, cid, request)
        scope = request.query_params.get("dag-scope", "all")
        if scope not in ("all", "entity", "block"):
            return _problem(400, f"unsupported dag-scope {scope!r}")
        return _car_response(store, cid, scope, request)

    return serve


def _common_headers(cid: Cid, etag: str, filename: str, content_type: str) -> dict[str, str]:
    return {
        "Content-Type": content_type,
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": _IMMUTABLE,
        "Etag": etag,
        "X-Ipfs-Path": f"/ipfs/{cid}",
        "X-Ipfs-Roots": str(cid),
        "Vary": "Accept",
    }


def _raw_response(store: DagStore, cid: Cid, request: Request) -> Response:
    if not store.has_block(cid):
        return _problem(404, f"{cid} is not held here")
    etag = f'"{cid}.raw"'
    headers = _common_headers(cid, etag, f"{cid}.bin", RAW_MEDIA_TYPE)
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    block = store.get_block(cid)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(block))
        return Response(status_code=200, headers=headers)
    return Response(block, status_code=200, headers=headers)


def _car_response(store: DagStore, cid: Cid, scope: str, request: Request) -> Response:
    # Checked before the status line: a CAR cannot report a missing block mid-stream.
    if scope == "block":
        if not store.has_block(cid):
            return _problem(404, f"{cid} is not held here")
    elif not store.has(cid):
        return _problem(404, f"{cid} is not (completely) held here")
    etag = f'"{cid}.car.dfs.n.{scope}"'
    headers = _common_headers(cid, etag, f"{cid}.car", CAR_CONTENT_TYPE)
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        # streamed, so no Content-Length: the CAR's length is not known before writing it
        return StreamingResponse(iter(()), status_code=200, headers=headers)

    def blocks() -> Iterator[tuple[Cid, bytes]]:
        if scope == "block":
            yield cid, store.get_block(cid)
        else:
            yield from store.dag_blocks(cid)

    return StreamingResponse(car_stream([cid], blocks()), status_code=200, headers=headers)
