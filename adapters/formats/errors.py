"""Errors of the outside-format adapters (OpenAttestation, Verifiable Credentials).

Each carries a stable ``code`` and derives from a kind of :mod:`certificates.errors`::

    Invalid
    ├── UnrecognisedDocumentFormat       neither docex nor a format docex reads
    ├── InvalidOpenAttestationDocument   OA v2 by its version, malformed inside
    ├── InvalidCredential                a VC docex cannot read (unknown securing, bad JWT)
    └── CredentialExportError            a docex document that cannot be exported as a VC
"""

from __future__ import annotations

from certificates.errors import Invalid


class UnrecognisedDocumentFormat(Invalid):
    """A JSON value that is neither a docex wrapped document nor an OpenAttestation v2 one."""

    code = "unrecognised-document-format"


class InvalidOpenAttestationDocument(Invalid):
    """An OpenAttestation v2 document (by its ``version``) whose structure is malformed."""

    code = "invalid-openattestation-document"


class InvalidCredential(Invalid):
    """A Verifiable Credential docex cannot read: unknown securing mechanism, malformed JWT."""

    code = "invalid-credential"


class CredentialExportError(Invalid):
    """A docex document that cannot be exported as a Verifiable Credential."""

    code = "credential-export-error"
