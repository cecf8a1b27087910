"""OpenAttestation v2 (TradeTrust) documents: recognised and checked offline as OA's own
verifier checks them, plus issuer identity from a trusted list and issuance/revocation
against an OA DocumentStore read through :class:`DocumentStoreReader`.
"""

from adapters.formats.openattestation.checks import (
    OA_DNS_IDENTITY,
    OA_INTEGRITY,
    OA_ISSUANCE,
    OA_ISSUER_IDENTITY,
    OA_MERKLE_PROOF,
    OA_REVOCATION,
    OA_TARGET_HASH,
    OaIssuer,
    OaVerification,
    TrustedDocumentStore,
    verify_openattestation,
)
from adapters.formats.openattestation.document_store import (
    DocumentStoreCallError,
    DocumentStoreCalls,
    DocumentStoreReader,
    EthCall,
    document_store_abi,
)
from adapters.formats.openattestation.wrapped import (
    OA_V2_VERSION,
    OaWrappedDocument,
    is_openattestation_v2,
)

__all__ = [
    "OA_DNS_IDENTITY",
    "OA_INTEGRITY",
    "OA_ISSUANCE",
    "OA_ISSUER_IDENTITY",
    "OA_MERKLE_PROOF",
    "OA_REVOCATION",
    "OA_TARGET_HASH",
    "OA_V2_VERSION",
    "DocumentStoreCallError",
    "DocumentStoreCalls",
    "DocumentStoreReader",
    "EthCall",
    "OaIssuer",
    "OaVerification",
    "OaWrappedDocument",
    "TrustedDocumentStore",
    "document_store_abi",
    "is_openattestation_v2",
    "verify_openattestation",
]
