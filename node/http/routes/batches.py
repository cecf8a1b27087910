"""``GET /v1/batches/{root}/manifest``: what a receiving node reads to learn the CIDs of
an anchored batch this node issued, or received (ADR 0041). For consortium members'
nodes only, which sign their requests (ADR 0023); each member sees a CID only for the
documents it may fetch (those it is an addressee of), and every target hash with its
terms. A batch this node received is served as kept, with the CIDs this node learnt:
another addressee reads it here when the issuer's host is gone."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from certificates.hashes import HASH_PATTERN
from certificates.json_types import JsonObject
from node.errors import BatchNotFound
from node.http.deps import Access, Member, Services
from node.receiving.manifests import manifest_json, parse_manifest, received_manifest_json

router = APIRouter(prefix="/v1", tags=["batches"])

RootParameter = Annotated[str, Path(pattern=HASH_PATTERN, description="The anchored batch root.")]


@router.get(
    "/batches/{root}/manifest",
    summary="Manifest of an anchored batch this node issued or received",
    responses={
        200: {
            "description": "docex-batch-manifest/1: target hashes and terms in batch order, "
            "the CID of each document the calling member may fetch (null for the others)."
        },
        401: {"description": "Not a request signed by a member account (ADR 0023)."},
        403: {"description": "Signed by an account that is not a current member's."},
        404: {"description": "This node issued or received no anchored batch with this root."},
        422: {"description": "Not a batch root."},
    },
)
def batch_manifest(
    root: RootParameter, services: Services, access: Access, caller: Member
) -> JSONResponse:
    batch_root = bytes.fromhex(root[2:])
    documents = services.outbox.anchored_batch_documents(batch_root)
    if documents is not None:
        readable = access.manifest_reader(caller, services.settings.country)
        body = manifest_json(documents, readable)
    else:
        body = _received_manifest(services, access, caller, batch_root, root)
    # one member's view: never cached for another
    return JSONResponse(body, headers={"Cache-Control": "private, no-store"})


def _received_manifest(
    services: Services, access: Access, caller: Member, batch_root: bytes, root: str
) -> JsonObject:
    kept = services.inbox.manifest(batch_root)
    if kept is None:
        raise BatchNotFound(f"this node issued or received no batch with root {root}")
    issuer_country, text = kept
    value = json.loads(text)
    manifest = parse_manifest(
        value,
        root=batch_root,
        document_type=str(value["documentType"]),
        document_count=len(value["documents"]),
    )
    return received_manifest_json(manifest, access.manifest_reader(caller, issuer_country))
