"""Outside formats docex reads and writes: OpenAttestation v2 (read, verify) and
W3C Verifiable Credentials 2.0 (export). Imports only ``certificates``.
"""

from adapters.formats.detect import DocumentFormat, detect_document_format
from adapters.formats.errors import (
    CredentialExportError,
    InvalidCredential,
    InvalidOpenAttestationDocument,
    UnrecognisedDocumentFormat,
)

__all__ = [
    "CredentialExportError",
    "DocumentFormat",
    "InvalidCredential",
    "InvalidOpenAttestationDocument",
    "UnrecognisedDocumentFormat",
    "detect_document_format",
]
