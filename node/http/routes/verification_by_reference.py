"""``GET /v1/verify/{ref}``: the verdict on a document this node holds, named by its
receipt id, target hash or CID (public, rate-limited like ``POST /v1/verify``); the work
is in :mod:`node.verification.by_reference`."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from node.http.deps import References, VerificationAllowance
from node.http.routes.verification import VERDICT_SCHEMA

router = APIRouter(prefix="/v1", tags=["verification"])

_PROBLEM: Final = {"application/problem+json": {"schema": {"type": "object"}}}

_EXAMPLE: Final = {
    "valid": True,
    "checks": [
        {"name": "integrity", "status": "valid", "code": "intact", "reason": "...", "data": {}}
    ],
    "reference": {"kind": "targetHash", "value": "0x..."},
    "document": {
        "documentType": "coo/1",
        "issuerCountry": "VN",
        "issuerName": "...",
        "targetHash": "0x...",
        "batchRoot": "0x...",
        "cid": "bafy...",
        "addressees": ["KR"],
        "signer": "0x...",
        "origin": "issued",
        "confidential": False,
        "link": "http://127.0.0.1:8000/v/0x...",
        "anchoring": {"blockNumber": 12, "timestamp": 1767225600, "txHash": "0x..."},
        "data": {"documentType": "coo/1", "...": "..."},
        "concealedFields": [],
    },
    "history": [
        {
            "event": "BatchAnchored",
            "blockNumber": 12,
            "logIndex": 0,
            "timestamp": 1767225600,
            "txHash": "0x...",
            "arguments": {},
        }
    ],
    "historyStatus": "anchored",
}


@router.get(
    "/verify/{ref}",
    summary="Verify a document this node holds, by receipt id, target hash or CID",
    description=(
        "`ref` is a receipt id (32 hex digits) or a target hash (`0x` + 64 hex digits) of a "
        "document issued here, or a target hash or CID of a document issued here or "
        "received in this node's inbox. The answer is the verdict of `POST /v1/verify` "
        "(`valid`, `checks`, each with its stable `code`) plus `document` (type, issuer, "
        "hashes, anchoring block and time, addressees, and the data fields unless the "
        "document is confidential), "
        "`history` (its on-chain events in chain order) and `supersededBy` (the "
        "replacement and its link) when amended. Public; rate-limited per client address."
    ),
    responses={
        200: {
            "description": "The verdict, the document and its history.",
            "content": {"application/json": {"schema": VERDICT_SCHEMA, "example": _EXAMPLE}},
        },
        404: {"description": "This node holds no such document.", "content": _PROBLEM},
        409: {"description": "Issued here but not signed yet.", "content": _PROBLEM},
        422: {"description": "Not a receipt id, target hash or CID.", "content": _PROBLEM},
        429: {"description": "Too many requests from this address.", "content": _PROBLEM},
    },
    dependencies=[VerificationAllowance],
)
def verify_reference(ref: str, references: References) -> JSONResponse:
    return JSONResponse(references.verify(ref))
