"""``GET /v1/inbox``: documents other members addressed to this node's country, received
(fetched, opened when sealed, verified) by the receiver before the goods arrive."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from certificates.hashes import HASH_PATTERN, to_hex
from certificates.json_types import JsonObject
from node.errors import InboxDocumentNotFound, InvalidRequestParameters
from node.http.deps import InboxReader, Services
from node.receiving.inbox import ReceivedDocument

router = APIRouter(prefix="/v1", tags=["inbox"])


def received_json(document: ReceivedDocument, *, full: bool) -> JsonObject:
    body: dict[str, Any] = {
        "targetHash": to_hex(document.target_hash),
        "batchRoot": to_hex(document.batch_root),
        "documentType": document.document_type,
        "issuerCountry": document.issuer_country,
        "issuer": document.issuer,
        "cid": document.cid,
        "confidential": document.confidential,
        "blockNumber": document.block_number,
        "receivedAt": document.received_at,
        "valid": document.valid,
    }
    if full:
        body["document"] = json.loads(document.wrapped_json)
        body["verdict"] = json.loads(document.verdict_json)
        # where the content came from, and each source tried before it and why it failed
        body["receivedFrom"] = document.received_from
        body["fallbacks"] = [fallback.to_json() for fallback in document.fallbacks]
    return body


@router.get(
    "/inbox",
    summary="Documents received from other members (pre-arrival)",
    responses={401: {"description": "No token."}, 403: {"description": "Not allowed."}},
)
def list_inbox(
    services: Services,
    principal: InboxReader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[float | None, Query(description="receivedAt of the last seen entry")] = None,
    after_hash: Annotated[
        str | None,
        Query(
            alias="afterHash",
            pattern=HASH_PATTERN,
            description="targetHash of the last seen entry (with `after`; see `next`)",
        ),
    ] = None,
    document_type: Annotated[
        str | None, Query(alias="documentType", pattern=r"^[a-z]+/[0-9]+$")
    ] = None,
    issuer_country: Annotated[
        str | None, Query(alias="issuerCountry", pattern=r"^[A-Z]{2}$")
    ] = None,
) -> JSONResponse:
    del principal
    if after_hash is not None and after is None:
        raise InvalidRequestParameters(
            "afterHash needs after (both come from the previous page's `next`)"
        )
    documents = services.inbox.documents(
        limit=limit,
        after=after,
        after_hash=None if after_hash is None else bytes.fromhex(after_hash[2:]),
        document_type=document_type,
        issuer_country=issuer_country,
    )
    body: dict[str, Any] = {"documents": [received_json(d, full=False) for d in documents]}
    # the next page's parameters, when this one is full
    body["next"] = (
        {"after": documents[-1].received_at, "afterHash": to_hex(documents[-1].target_hash)}
        if len(documents) == limit
        else None
    )
    return JSONResponse(body)


@router.get(
    "/inbox/{target_hash}",
    summary="One received document, opened, with its verdict at reception",
    responses={
        401: {"description": "No token."},
        403: {"description": "Not allowed."},
        404: {"description": "Not in the inbox."},
    },
)
def inbox_document(
    target_hash: Annotated[str, Path(pattern=HASH_PATTERN)],
    services: Services,
    principal: InboxReader,
) -> JSONResponse:
    del principal
    document = services.inbox.document(bytes.fromhex(target_hash[2:]))
    if document is None:
        raise InboxDocumentNotFound(f"no received document has target hash {target_hash}")
    return JSONResponse(received_json(document, full=True))
