"""What happens to a document after issue: ``/v1/documents/{id}/revoke|amend|use|reject``,
and ``/v1/documents/{id}/history``; the work is in :mod:`node.documents.lifecycle`.

``{id}`` is the receipt id ``POST /v1/documents`` gave for a document this node issued,
or the target hash (``0x`` + 64 hex digits) of one another member issued.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from certificates import validate_document
from certificates.errors import InvalidDocument
from certificates.json_types import JsonObject
from node.access.users import Principal
from node.errors import NotAuthorised
from node.http.bodies import read_json
from node.http.deps import Addressee, HistoryReader, Issuer, Lifecycle, Services
from node.http.models import REJECT, REVOKE, USE, parse_body, request_body
from node.issuing.outbox import NewDocument

router = APIRouter(prefix="/v1", tags=["documents"])


_PROBLEM: Final = {"application/problem+json": {"schema": {"type": "object"}}}


def _responses(ok: int, ok_description: str, **problems: str) -> dict[int | str, Any]:
    responses: dict[int | str, Any] = {ok: {"description": ok_description}}
    for status, description in problems.items():
        responses[int(status.removeprefix("s"))] = {"description": description, "content": _PROBLEM}
    return responses


_WRITE_PROBLEMS: Final = {
    "s400": "Not strict JSON.",
    "s401": "No or revoked token.",
    "s413": "Body too large.",
    "s415": "Not application/json.",
    "s422": "The body does not match the schema.",
    "s502": "The chain answered with an error.",
    "s503": "No chain, or the chain is unreachable.",
    "s504": "The transaction was not mined in time.",
}


@router.post(
    "/documents/{document_id}/revoke",
    summary="Revoke a document (its issuer only)",
    description="Records the revocation on chain (final); answers once it is mined.",
    openapi_extra={"requestBody": request_body(REVOKE)},
    responses=_responses(
        200,
        "Revoked: the transaction and its block.",
        **_WRITE_PROBLEMS,
        s403="Not the issuer of this document.",
        s404="No such document.",
        s409="Not anchored yet, or already revoked/superseded (the contract's reason).",
    ),
)
async def revoke(
    document_id: str, request: Request, services: Services, lifecycle: Lifecycle, principal: Issuer
) -> JSONResponse:
    body = parse_body(REVOKE, await read_json(request, services.settings.max_body_bytes))
    result = await run_in_threadpool(lifecycle.revoke, principal, document_id, body.reason_code)
    return JSONResponse(result)


def _replacement(principal: Principal, country: str, value: object) -> NewDocument:
    if not isinstance(value, dict):
        raise InvalidDocument("an amendment is one document (a JSON object)", path="")
    validated = validate_document(value)
    if not principal.may_issue(validated.type_id):
        raise NotAuthorised(
            f"{principal.name} may not issue {validated.type_id} documents", path="/documentType"
        )
    if validated.issuer_country() != country:
        raise NotAuthorised(
            f"this node issues for {country}; the document is issued in "
            f"{validated.issuer_country()}"
        )
    return NewDocument.of(validated)


@router.post(
    "/documents/{document_id}/amend",
    status_code=202,
    summary="Amend a document: issue a replacement that supersedes it (its issuer only)",
    description=(
        "The body is the replacement document (same type). It is accepted into the outbox "
        "like any issued document (202, a receipt URL); once both documents are anchored "
        "the node sends `supersede(original -> replacement)`, after which verifying the "
        "original points to the replacement."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "description": "The replacement document."}
                }
            },
        }
    },
    responses=_responses(
        202,
        "Accepted; the replacement's receipt is pending.",
        **_WRITE_PROBLEMS,
        s403="Not the issuer of this document, or of the replacement's type or country.",
        s404="No such document.",
        s409="The document is revoked, superseded or already being amended.",
    ),
)
async def amend(
    document_id: str, request: Request, services: Services, lifecycle: Lifecycle, principal: Issuer
) -> Response:
    value = await read_json(request, services.settings.max_body_bytes)
    replacement = _replacement(principal, services.settings.country, value)
    stored, replacement_id = await run_in_threadpool(
        lifecycle.amend, principal, document_id, replacement
    )
    return Response(
        stored.body,
        status_code=stored.status,
        media_type="application/json",
        headers={"Location": f"/v1/receipts/{replacement_id}"},
    )


@router.post(
    "/documents/{document_id}/use",
    summary="Record a use of a document against a declaration (customs officer, addressee)",
    description=(
        "Records on chain that this node's administration accepted the document against "
        "an import declaration, using `quantity` of its allowance (`allowedQuantity`, "
        "given on the first use, 1 by default). Over-use is refused with the contract's "
        "reason (409). For a document another member issued, `{id}` is its target hash "
        "and `document` its wrapped form, taken from this node's inbox when omitted."
    ),
    openapi_extra={"requestBody": request_body(USE)},
    responses=_responses(
        200,
        "Used: the transaction and its block.",
        **_WRITE_PROBLEMS,
        s403="Not a customs officer, or this country is not an addressee.",
        s404="No such document.",
        s409="Not anchored, revoked, superseded or over-used (the contract's reason).",
    ),
)
async def use(
    document_id: str,
    request: Request,
    services: Services,
    lifecycle: Lifecycle,
    _principal: Addressee,
) -> JSONResponse:
    body = parse_body(USE, await read_json(request, services.settings.max_body_bytes))
    result = await run_in_threadpool(
        lifecycle.record_use,
        document_id,
        body.declaration_reference,
        body.quantity,
        body.allowed_quantity,
        body.document,
    )
    return JSONResponse(result)


@router.post(
    "/documents/{document_id}/reject",
    summary="Reject a document with a reason code (customs officer, addressee)",
    description=(
        "Records the rejection on chain; the reason flows back to the issuer as an event. "
        "For a document another member issued, `{id}` is its target hash and `document` "
        "its wrapped form, taken from this node's inbox when omitted."
    ),
    openapi_extra={"requestBody": request_body(REJECT)},
    responses=_responses(
        200,
        "Rejected: the transaction and its block.",
        **_WRITE_PROBLEMS,
        s403="Not a customs officer, or this country is not an addressee.",
        s404="No such document.",
        s409="Not anchored yet (the contract's reason otherwise).",
    ),
)
async def reject(
    document_id: str,
    request: Request,
    services: Services,
    lifecycle: Lifecycle,
    _principal: Addressee,
) -> JSONResponse:
    body = parse_body(REJECT, await read_json(request, services.settings.max_body_bytes))
    result = await run_in_threadpool(
        lifecycle.record_rejection, document_id, body.reason_code, body.document
    )
    return JSONResponse(result)


@router.get(
    "/documents/{document_id}/history",
    summary="A document's provenance: its on-chain events in order",
    description=(
        "Every event of the document on chain (its batch's anchoring, revocation, "
        "supersession, uses, rejections) with block, time and transaction, from this "
        "node's index. Issuers read their own documents' history only."
    ),
    responses=_responses(
        200,
        "The history.",
        s401="No or revoked token.",
        s403="Another issuer's document.",
        s404="No such document.",
        s503="No chain.",
    ),
)
def history(document_id: str, lifecycle: Lifecycle, principal: HistoryReader) -> JSONResponse:
    body: JsonObject = lifecycle.history(principal, document_id)
    return JSONResponse(body)
