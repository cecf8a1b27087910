"""``GET /v1/batches/{root}/manifest``: what a receiving node reads to learn the CIDs of
an anchored batch this node issued (ADR 0041). For consortium members' nodes only, which
sign their requests (ADR 0023); each member sees a CID only for the documents it may
fetch (those it is an addressee of), and every target hash with its terms."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from certificates.hashes import HASH_PATTERN
from node.errors import BatchNotFound
from node.http.deps import Access, Member, Services
from node.receiving.manifests import manifest_json

router = APIRouter(prefix="/v1", tags=["batches"])

RootParameter = Annotated[str, Path(pattern=HASH_PATTERN, description="The anchored batch root.")]


@router.get(
    "/batches/{root}/manifest",
    summary="Manifest of an anchored batch issued by this node",
    responses={
        200: {
            "description": "docex-batch-manifest/1: target hashes and terms in batch order, "
            "the CID of each document the calling member may fetch (null for the others)."
        },
        401: {"description": "Not a request signed by a member account (ADR 0023)."},
        403: {"description": "Signed by an account that is not a current member's."},
        404: {"description": "No anchored batch of this node has this root."},
        422: {"description": "Not a batch root."},
    },
)
def batch_manifest(
    root: RootParameter, services: Services, access: Access, caller: Member
) -> JSONResponse:
    documents = services.outbox.anchored_batch_documents(bytes.fromhex(root[2:]))
    if documents is None:
        raise BatchNotFound(f"this node anchored no batch with root {root}")
    readable = access.manifest_reader(caller, services.settings.country)
    # one member's view: never cached for another
    return JSONResponse(
        manifest_json(documents, readable), headers={"Cache-Control": "private, no-store"}
    )
