"""``POST /v1/verify``: the verdict on a presented wrapped document (public, rate-limited)."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.types import Message

from adapters.formats.openattestation import is_openattestation_v2
from adapters.printing import PrintedCertificateGiven, is_pdf, printed_target_hash
from certificates import CheckCode, CheckStatus, parse_strict_json
from certificates.errors import InputTooLarge, InvalidInput
from node.errors import UnsupportedMediaType
from node.http.bodies import is_json, media_type, read_body, read_json
from node.http.deps import services_of, take_verification_allowance
from node.verification.openattestation import (
    OPENATTESTATION_V2,
    verify_openattestation_document,
)

router = APIRouter(prefix="/v1", tags=["verification"])

#: room for the multipart boundaries and part headers around an uploaded file
_MULTIPART_OVERHEAD: Final = 16 * 1024

_REQUEST_BODY: Final[dict[str, Any]] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"type": "object", "description": "A docex-wrapped/1 document."}
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}

#: one check's outcome (``certificates.CheckResult.to_json``); programs switch on
#: ``code`` (docs/verification-codes.md), ``reason`` is for people
CHECK_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["name", "status", "code", "reason", "data"],
    "properties": {
        "name": {
            "type": "string",
            "description": "integrity, signature, issuance, issuer, status or recognition",
        },
        "status": {"type": "string", "enum": [status.value for status in CheckStatus]},
        "code": {
            "type": "string",
            "enum": [code.value for code in CheckCode],
            "description": (
                "The outcome's stable machine code (docs/verification-codes.md): a "
                "published code never changes meaning nor disappears; new ones may be added."
            ),
        },
        "reason": {"type": "string", "description": "The outcome in English, for people."},
        "data": {"type": "object", "description": "Facts the check established."},
    },
}
#: the verdict (``certificates.Verdict.to_json``)
VERDICT_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["valid", "checks"],
    "properties": {
        "valid": {"type": "boolean"},
        "checks": {"type": "array", "items": CHECK_SCHEMA},
    },
}

_VERDICT_EXAMPLE: Final = {
    "valid": True,
    "checks": [
        {"name": "integrity", "status": "valid", "code": "intact", "reason": "...", "data": {}},
        {"name": "signature", "status": "valid", "code": "signed", "reason": "...", "data": {}},
        {"name": "issuance", "status": "valid", "code": "anchored", "reason": "...", "data": {}},
        {"name": "issuer", "status": "valid", "code": "authorised", "reason": "...", "data": {}},
        {"name": "status", "status": "valid", "code": "in-force", "reason": "...", "data": {}},
        {
            "name": "recognition",
            "status": "valid",
            "code": "recognised",
            "reason": "...",
            "data": {},
        },
    ],
}


def _not_a_printed_certificate(content: bytes) -> bytes:
    """``content``, unless it is a PDF: then a clear error naming how to verify it."""
    if not is_pdf(content):
        return content
    target_hash = printed_target_hash(content)
    if target_hash is None:
        raise PrintedCertificateGiven(
            "this is a PDF, not a wrapped document (docex-wrapped/1): to verify a printed "
            "certificate, scan its QR code, or verify the target hash printed at its foot"
        )
    raise PrintedCertificateGiven(
        "this is a printed certificate (PDF), not a wrapped document: verify it by its "
        f"reference, GET /v1/verify/{target_hash} (what its QR code opens)"
    )


async def _uploaded_file(request: Request, limit: int) -> bytes:
    raw = await read_body(request, limit + _MULTIPART_OVERHEAD)

    async def replay() -> Message:
        return {"type": "http.request", "body": raw, "more_body": False}

    form = await Request(request.scope, replay).form(max_files=1, max_fields=1, max_part_size=limit)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput("the multipart body has no 'file' part")
    content = await upload.read(limit + 1)
    if len(content) > limit:
        raise InputTooLarge(f"the uploaded file is larger than {limit} bytes")
    return content


@router.post(
    "/verify",
    summary="Verify a wrapped document",
    description=(
        "Send a wrapped document (docex-wrapped/1) as a JSON body, an uploaded file "
        "(multipart field `file`) or raw bytes. The verdict has one entry per check "
        "(integrity, signature, issuance, issuer, status, recognition), each valid, "
        "invalid, skipped or error with a stable machine `code` and a reason, and a single "
        "`valid`. Public; "
        "rate-limited per client address (429 with Retry-After)."
    ),
    openapi_extra={"requestBody": _REQUEST_BODY},
    responses={
        200: {
            "description": "The verdict.",
            "content": {
                "application/json": {"schema": VERDICT_SCHEMA, "example": _VERDICT_EXAMPLE}
            },
        },
        400: {"description": "Not strict JSON."},
        413: {"description": "Body or file too large."},
        415: {"description": "Unsupported content type."},
        429: {"description": "Too many requests from this address."},
    },
)
async def verify(request: Request) -> JSONResponse:
    # no FastAPI dependency to solve: on the route every foreign customs calls, solving
    # the two it had took about 80 of the 540 µs a verification cost in the app
    services = services_of(request)
    take_verification_allowance(request, services)
    settings = services.settings
    content_type = media_type(request)
    if is_json(content_type):
        value = await read_json(request, settings.max_body_bytes)
    elif content_type == "multipart/form-data":
        value = parse_strict_json(
            _not_a_printed_certificate(await _uploaded_file(request, settings.max_upload_bytes)),
            max_bytes=settings.max_upload_bytes,
        )
    elif content_type == "application/octet-stream":
        value = parse_strict_json(
            _not_a_printed_certificate(await read_body(request, settings.max_upload_bytes)),
            max_bytes=settings.max_upload_bytes,
        )
    else:
        raise UnsupportedMediaType(
            "send the wrapped document as application/json, multipart/form-data (field "
            f"'file') or application/octet-stream, not {content_type or 'no content type'}"
        )
    if is_openattestation_v2(value):
        oa = await run_in_threadpool(
            verify_openattestation_document,
            value,
            services.ledger.chain,
            settings.oa_trusted_stores,
        )
        valid = oa.verdict.valid
        services.metrics.verifications.labels("valid" if valid else "invalid").inc()
        return JSONResponse({**oa.to_json(), "format": OPENATTESTATION_V2})
    verdict = services.verifier.verify(value)
    services.metrics.verifications.labels("valid" if verdict.valid else "invalid").inc()
    return JSONResponse(verdict.to_json())
