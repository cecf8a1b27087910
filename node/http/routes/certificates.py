"""``GET /v1/documents/{id}/certificate.pdf``: the printable certificate of a document
(:mod:`node.documents.printing` finds and authorises it, :mod:`adapters.printing`
lays it out).

``{id}`` is a receipt id or a target hash; the PDF's QR code opens the public verifier
page for the document (``{base_url}/v/{target hash}``).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from adapters.languages import LANGUAGES, preferred_language
from node.http.deps import CertificatePrinter, Printing

router = APIRouter(prefix="/v1", tags=["documents"])


_PROBLEM: Final = {"application/problem+json": {"schema": {"type": "object"}}}
_RESPONSES: Final[dict[int | str, Any]] = {
    200: {
        "description": "The certificate as a PDF (A4).",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    },
    401: {"description": "No or revoked token.", "content": _PROBLEM},
    403: {
        "description": (
            "Another issuer's document, or a customs officer of a country the document is "
            "not addressed to."
        ),
        "content": _PROBLEM,
    },
    404: {"description": "This node holds no such document.", "content": _PROBLEM},
    409: {"description": "Not anchored yet.", "content": _PROBLEM},
    422: {"description": "A document type with no printed form.", "content": _PROBLEM},
}


@router.get(
    "/documents/{document_id}/certificate.pdf",
    summary="The printable certificate of a document (PDF with a verification QR code)",
    description=(
        "A certificate of origin or a permit in its familiar form layout (a declaration in "
        "a plain one), with a QR code of the document's public verification link and, in "
        "small type, the target hash, batch root, anchoring transaction and block. For the "
        "document's issuer, customs officers of an addressee country, auditors and admins. "
        "Its labels are in `lang` (en, vi, ko), else in the first of them `Accept-Language` "
        "asks for, else English; the document's field values are printed as issued."
    ),
    response_class=Response,
    responses=_RESPONSES,
)
def certificate_pdf(
    document_id: str,
    printing: Printing,
    principal: CertificatePrinter,
    lang: Annotated[str | None, Query(description="en, vi or ko")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> Response:
    language = lang if lang in LANGUAGES else preferred_language(accept_language)
    printed = printing.print_certificate(principal, document_id, language)
    filename = f"{printed.document_type.replace('/', '-')}-{printed.target_hash_hex[2:18]}.pdf"
    return Response(
        printed.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Content-Language": language,
            "Vary": "Accept-Language",
        },
    )
