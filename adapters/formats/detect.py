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
    if _is_verifiable_credential(value):
        raise UnrecognisedDocumentFormat(
            f"a W3C Verifiable Credential secured by {_securing(value)}, which docex does not "
            f"check (its own exported credentials are vc+jwt, ES256K); {_EXPECTED}",
            path="/proof" if "proof" in value else "",
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


_VC_CONTEXTS = ("https://www.w3.org/ns/credentials/v2", "https://www.w3.org/2018/credentials/v1")


def _is_verifiable_credential(value: dict[str, JsonValue]) -> bool:
    context = value.get("@context")
    contexts = context if isinstance(context, list) else [context]
    kinds = value.get("type")
    types = kinds if isinstance(kinds, list) else [kinds]
    return any(c in _VC_CONTEXTS for c in contexts) or "VerifiableCredential" in types


def _securing(value: dict[str, JsonValue]) -> str:
    """What secures a presented credential, as its embedded proof names it (shortened)."""
    proof = value.get("proof")
    proofs = proof if isinstance(proof, list) else [proof]
    names = [
        str(p.get("cryptosuite") or p.get("type"))[:60]
        for p in proofs
        if isinstance(p, dict) and (p.get("cryptosuite") or p.get("type"))
    ]
    return " and ".join(f"an embedded proof ({name})" for name in names[:2]) or "no embedded proof"
