"""``GET /v1/batches/{root}/manifest``: what a receiving node reads to learn the CIDs of
an anchored batch this node issued (ADR 0041). Public: it lists target hashes, CIDs
and addressee countries, never content (confidential content is sealed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from certificates.hashes import HASH_PATTERN
from node.errors import BatchNotFound
from node.http.deps import Services
from node.receiving.manifests import manifest_json

router = APIRouter(prefix="/v1", tags=["batches"])

RootParameter = Annotated[str, Path(pattern=HASH_PATTERN, description="The anchored batch root.")]


@router.get(
    "/batches/{root}/manifest",
    summary="Manifest of an anchored batch issued by this node",
    responses={
        200: {"description": "docex-batch-manifest/1: target hashes and CIDs, batch order."},
        404: {"description": "No anchored batch of this node has this root."},
        422: {"description": "Not a batch root."},
    },
)
def batch_manifest(root: RootParameter, services: Services) -> JSONResponse:
    documents = services.outbox.anchored_batch_documents(bytes.fromhex(root[2:]))
    if documents is None:
        raise BatchNotFound(f"this node anchored no batch with root {root}")
    return JSONResponse(
        manifest_json(documents), headers={"Cache-Control": "public, max-age=31536000, immutable"}
    )
