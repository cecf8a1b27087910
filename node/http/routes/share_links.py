"""Share links (ADR 0023): one document's content for whoever holds the link, until it
expires or is revoked; the rules are in :mod:`node.documents.content_access`.

- ``POST /v1/documents/{id}/share-links`` ``{"expiresInDays": n}``: the document's issuer,
  or a customs officer of one of its addressees; 201 with the token, shown this once;
- ``GET /v1/documents/{id}/share-links``: the same and auditors, admins; never a token;
- ``DELETE /v1/share-links/{link_id}``: the same as creating, and admins;
- ``GET /v1/shared/{token}``: the holder of a live link: the wrapped document (opened,
  when it was sent sealed), public and rate-limited like verification.
"""

from __future__ import annotations

import time
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from certificates.hashes import to_hex
from node.access.share_links import ShareLink
from node.http.bodies import read_json
from node.http.deps import (
    Access,
    Services,
    ShareLinkCreator,
    ShareLinkReader,
    ShareLinkRevoker,
    VerificationAllowance,
)
from node.http.models import SHARE_LINK, parse_body, request_body

router = APIRouter(prefix="/v1", tags=["share links"])

_PROBLEM: Final = {"application/problem+json": {"schema": {"type": "object"}}}
_PRIVATE: Final = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _problems(**described: str) -> dict[int | str, Any]:
    return {
        int(status.removeprefix("s")): {"description": text, "content": _PROBLEM}
        for status, text in described.items()
    }


def shared_url(base_url: str, token: str) -> str:
    """Where a share link's holder reads the document."""
    return f"{base_url}/v1/shared/{token}"


def _link_json(link: ShareLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "targetHash": to_hex(link.target_hash),
        "createdBy": link.created_by,
        "createdAt": link.created_at,
        "expiresAt": link.expires_at,
        "revokedAt": link.revoked_at,
        "revokedBy": link.revoked_by,
        "state": link.state(time.time()),
    }


@router.post(
    "/documents/{document_id}/share-links",
    summary="Create a share link for one document",
    description=(
        "The document's issuer (its own documents) or a customs officer of one of its "
        "addressees creates a link that lets whoever holds it read this one document "
        "(`GET /v1/shared/{token}`) until `expiresInDays` have passed or it is revoked. "
        "The token is in this answer only; the node keeps its SHA-256."
    ),
    status_code=201,
    openapi_extra={"requestBody": request_body(SHARE_LINK)},
    responses={
        201: {"description": "The link, with its token and URL (shown this once)."},
        **_problems(
            s400="Not strict JSON.",
            s401="No or revoked token.",
            s403="Neither the document's issuer nor an addressee's customs officer.",
            s404="No such document on this node.",
            s409="Not signed and anchored yet.",
            s413="Body too large.",
            s415="Not application/json.",
            s422="The body does not match the schema, or a lifetime over the node's maximum.",
        ),
    },
)
async def create_share_link(
    document_id: str,
    request: Request,
    services: Services,
    access: Access,
    principal: ShareLinkCreator,
) -> JSONResponse:
    body = parse_body(SHARE_LINK, await read_json(request, services.settings.max_body_bytes))
    created = await run_in_threadpool(
        access.create_link, principal, document_id, body.expires_in_days
    )
    url = shared_url(services.settings.base_url, created.token)
    return JSONResponse(
        {**_link_json(created.link), "token": created.token, "url": url},
        status_code=201,
        headers={**_PRIVATE, "Location": f"/v1/share-links/{created.link.id}"},
    )


@router.get(
    "/documents/{document_id}/share-links",
    summary="The share links of one document (never their tokens)",
    responses={
        200: {"description": "`links`, oldest first, each `active`, `expired` or `revoked`."},
        **_problems(
            s401="No or revoked token.",
            s403="Not the document's issuer, an addressee's officer, an auditor or admin.",
            s404="No such document on this node.",
            s409="Not signed and anchored yet.",
            s422="Not a receipt id, target hash or CID.",
        ),
    },
)
def list_share_links(document_id: str, access: Access, principal: ShareLinkReader) -> JSONResponse:
    links = access.links_of(principal, document_id)
    return JSONResponse({"links": [_link_json(link) for link in links]}, headers=_PRIVATE)


@router.delete(
    "/share-links/{link_id}",
    summary="Revoke a share link (at once, for good)",
    responses={
        200: {"description": "The link, now `revoked` (revoking again changes nothing)."},
        **_problems(
            s401="No or revoked token.",
            s403="Not the document's issuer, an addressee's officer or an admin.",
            s404="No such link on this node.",
        ),
    },
)
def revoke_share_link(link_id: str, access: Access, principal: ShareLinkRevoker) -> JSONResponse:
    return JSONResponse(_link_json(access.revoke_link(principal, link_id)), headers=_PRIVATE)


@router.get(
    "/shared/{token}",
    summary="Read the one document a share link opens",
    description=(
        "The wrapped document (`docex-wrapped/1`, opened when it was sent sealed) the link "
        "was created for; verify it with `POST /v1/verify`. Public for the link's holder; "
        "rate-limited per client address like verification."
    ),
    responses={
        200: {"description": "The wrapped document."},
        **_problems(
            s403="Not a share token of this node (`share-link-invalid`), or revoked "
            "(`share-link-revoked`), or expired (`share-link-expired`).",
            s404="The document is no longer held here.",
            s429="Too many requests from this address.",
        ),
    },
    dependencies=[VerificationAllowance],
)
def read_shared(token: str, access: Access) -> JSONResponse:
    held = access.shared_document(token)
    return JSONResponse(held.wrapped, headers=_PRIVATE)
