"""Errors of the outside-format adapters (OpenAttestation, Verifiable Credentials).

Each carries a stable ``code`` and derives from a kind of :mod:`certificates.errors`::

    InvalidInput
    ├── UnrecognisedDocumentFormat       neither docex nor a format docex reads
    ├── InvalidOpenAttestationDocument   OA v2 by its version, malformed inside
    └── InvalidCredential                a VC docex cannot read (unknown securing, bad JWT)
    DocexError
    └── CredentialExportError            a docex document that cannot be exported as a VC
"""

from __future__ import annotations

from certificates.errors import DocexError, InvalidInput


class UnrecognisedDocumentFormat(InvalidInput):
    """A JSON value that is neither a docex wrapped document nor an OpenAttestation v2 one."""

    code = "unrecognised-document-format"
    http_status = 422


class InvalidOpenAttestationDocument(InvalidInput):
    """An OpenAttestation v2 document (by its ``version``) whose structure is malformed."""

    code = "invalid-openattestation-document"
    http_status = 422


class InvalidCredential(InvalidInput):
    """A Verifiable Credential docex cannot read: unknown securing mechanism, malformed JWT."""

    code = "invalid-credential"
    http_status = 422


class CredentialExportError(DocexError):
    """A docex document that cannot be exported as a Verifiable Credential."""

    code = "credential-export-error"
    http_status = 422
