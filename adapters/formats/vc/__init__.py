"""W3C Verifiable Credentials 2.0 export: a docex document as a ``vc+jwt`` credential by
the member's ``did:web``, with Bitstring Status List revocation and suspension (ADR 0060).
"""

from adapters.formats.vc.credential import (
    CREDENTIAL_TYPES,
    MEDIA_TYPE,
    StatusLists,
    credential_status,
    export_credential,
    read_presented_credential,
    secure_credential,
    verify_credential_jwt,
)
from adapters.formats.vc.did_web import MemberKey, did_document, did_web, did_web_url
from adapters.formats.vc.jws import secp256k1_public_key
from adapters.formats.vc.status_list import (
    MIN_BITS,
    StatusPurpose,
    decode_status_list,
    encode_status_list,
    status_list_credential,
)

__all__ = [
    "CREDENTIAL_TYPES",
    "MEDIA_TYPE",
    "MIN_BITS",
    "MemberKey",
    "StatusLists",
    "StatusPurpose",
    "credential_status",
    "decode_status_list",
    "did_document",
    "did_web",
    "did_web_url",
    "encode_status_list",
    "export_credential",
    "read_presented_credential",
    "secp256k1_public_key",
    "secure_credential",
    "status_list_credential",
    "verify_credential_jwt",
]
