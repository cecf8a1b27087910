"""The VC export (ADR 0060, :mod:`node.credentials`): the member's DID document, a
document's credential (``application/vc+jwt``) and the Bitstring Status Lists the
credentials point at. The DID document and the status lists are public (a verifier
anywhere fetches them); a credential is for the document's issuer, auditors and admins."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse, Response

from adapters.formats.vc import MEDIA_TYPE
from node.http.deps import CredentialExporter, Credentials

router = APIRouter(tags=["credentials"])

_PROBLEM: Final = {"application/problem+json": {"schema": {"type": "object"}}}
_JWT: Final = {MEDIA_TYPE: {"schema": {"type": "string"}}}
_CREDENTIAL_RESPONSES: Final[dict[int | str, Any]] = {
    200: {"description": "The credential, a compact JWS (ES256K).", "content": _JWT},
    401: {"description": "No or revoked token.", "content": _PROBLEM},
    403: {
        "description": "Another issuer's document, or a role that may not export.",
        "content": _PROBLEM,
    },
    404: {"description": "This node issued no such document.", "content": _PROBLEM},
    409: {"description": "Not anchored yet.", "content": _PROBLEM},
    422: {"description": "Not a receipt id or a target hash.", "content": _PROBLEM},
}


@router.get(
    "/v1/documents/{document_id}/credential",
    summary="The document as a W3C Verifiable Credential 2.0 (application/vc+jwt)",
    description=(
        "A document this node issued, named by its receipt id or target hash, exported as a "
        "VC 2.0 whose issuer is the member's did:web, secured as a compact JWS (ES256K, "
        "VC-JOSE-COSE), with a revocation and a suspension Bitstring Status List entry; its "
        "`evidence` ties it to the anchored original. For the document's issuer, auditors "
        "and admins."
    ),
    response_class=Response,
    responses=_CREDENTIAL_RESPONSES,
)
def document_credential(
    document_id: str, credentials: Credentials, principal: CredentialExporter
) -> Response:
    issued = credentials.credential(principal, document_id)
    filename = f"{issued.document_type.replace('/', '-')}-{issued.target_hash_hex[2:18]}.jwt"
    return Response(
        issued.token,
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.get(
    "/v1/credentials/status/{purpose}/{list_number}",
    summary="A Bitstring Status List credential (revocation or suspension)",
    description=(
        "Public. The list as the node's event index has it now: a revocation list with the "
        "bit of each exported document revoked or superseded on chain, a suspension list "
        "with every bit set while the consortium suspends this member."
    ),
    response_class=Response,
    responses={
        200: {"description": "The status list credential, application/vc+jwt.", "content": _JWT},
        404: {"description": "No such list.", "content": _PROBLEM},
    },
)
def status_list(
    purpose: str,
    list_number: Annotated[int, Path(ge=1, le=1_000_000)],
    credentials: Credentials,
) -> Response:
    return Response(
        credentials.status_list(purpose, list_number),
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": "no-cache"},
    )


def did_router(did_path: str) -> APIRouter:
    """The route of the member's DID document, at the path its did:web resolves to."""
    served = APIRouter(tags=["credentials"])

    @served.get(
        did_path,
        summary="The member's DID document (did:web): its current and past issuer keys",
        responses={404: {"description": "No key known yet.", "content": _PROBLEM}},
    )
    def member_did_document(credentials: Credentials) -> JSONResponse:
        return JSONResponse(credentials.did_document(), media_type="application/did+json")

    return served
