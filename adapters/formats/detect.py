"""Which format a presented JSON document is in, or a clear error naming what was expected."""

from __future__ import annotations

from enum import StrEnum

from adapters.formats.errors import UnrecognisedDocumentFormat
from adapters.formats.openattestation.wrapped import (
    OA_V2_VERSION,
    is_openattestation_v2,
    is_openattestation_v3,
)
from certificates.json_types import JsonValue
from certificates.wrapped import FORMAT_VERSION as DOCEX_WRAPPED_VERSION


class DocumentFormat(StrEnum):
    DOCEX_WRAPPED = "docex-wrapped/1"
    OPENATTESTATION_V2 = "openattestation/2"


_EXPECTED = (
    f'expected a docex wrapped document ("version": "{DOCEX_WRAPPED_VERSION}") or an '
    f'OpenAttestation v2 wrapped document ("version": "{OA_V2_VERSION}")'
)


def detect_document_format(value: JsonValue) -> DocumentFormat:
    """The format of ``value``; :class:`UnrecognisedDocumentFormat` says what was expected."""
    if not isinstance(value, dict):
        raise UnrecognisedDocumentFormat(f"not a JSON object: {_EXPECTED}", path="")
    version = value.get("version")
    if version == DOCEX_WRAPPED_VERSION:
        return DocumentFormat.DOCEX_WRAPPED
    if is_openattestation_v2(value):
        return DocumentFormat.OPENATTESTATION_V2
    if is_openattestation_v3(value):
        raise UnrecognisedDocumentFormat(
            f"OpenAttestation v3 documents are not supported: {_EXPECTED}", path="/@context"
        )
    if "documentType" in value and "version" not in value:
        raise UnrecognisedDocumentFormat(
            "this is a document before issuing (no salts, proof or signature): " + _EXPECTED,
            path="",
        )
    if isinstance(version, str):
        shown = version if len(version) <= 80 else version[:77] + "..."
        raise UnrecognisedDocumentFormat(f"unknown version {shown!r}: {_EXPECTED}", path="/version")
    raise UnrecognisedDocumentFormat(f"no version member: {_EXPECTED}", path="")
