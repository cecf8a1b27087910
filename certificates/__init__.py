"""docex document core: schemas, canonical form, salted hashing, batches, signatures,
encryption envelopes and the verification verdict. Pure: no network, no disk, no clock.

This is the surface other layers use. Names resolve lazily (PEP 562) so that a command
that needs only the errors or keccak does not pay for pydantic and the crypto backends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from certificates.lazy_names import lazy_names

_EXPORTS = {
    # errors
    "DocexError": "certificates.errors",
    "InvalidInput": "certificates.errors",
    "InvalidDocument": "certificates.errors",
    "InvalidWrappedDocument": "certificates.errors",
    "InvalidSignature": "certificates.errors",
    "EnvelopeError": "certificates.errors",
    "KeystoreError": "certificates.errors",
    # input, schemas, canonical form
    "parse_strict_json": "certificates.strict_json",
    "DOCUMENT_TYPES": "certificates.schemas",
    "ValidatedDocument": "certificates.schemas",
    "validate_document": "certificates.schemas",
    "parse_document": "certificates.schemas",
    "document_json_schema": "certificates.schemas",
    "canonicalize": "certificates.canonical",
    "keccak256": "certificates.keccak",
    # hashing, batches, signatures
    "SaltedDocument": "certificates.disclosure",
    "MerkleTree": "certificates.merkle",
    "DocumentTerms": "certificates.merkle",
    "terms_leaf": "certificates.merkle",
    "verify_proof": "certificates.merkle",
    "BatchAnchor": "certificates.signing",
    "Eip712Domain": "certificates.signing",
    "sign_batch_anchor": "certificates.signing",
    "recover_batch_signer": "certificates.signing",
    "WrappedDocument": "certificates.wrapped",
    "BatchBuilder": "certificates.wrapping",
    "SignedBatch": "certificates.wrapping",
    "wrap_batch": "certificates.wrapping",
    # verification
    "CheckCode": "certificates.check_codes",
    "CheckResult": "certificates.verdict",
    "CheckStatus": "certificates.verdict",
    "Verdict": "certificates.verdict",
    "check_integrity": "certificates.offline_checks",
    "check_signature": "certificates.offline_checks",
    "verify_offline": "certificates.offline_checks",
    # keys and confidentiality
    "Envelope": "certificates.envelope",
    "Recipient": "certificates.envelope",
    "seal": "certificates.envelope",
    "open_envelope": "certificates.envelope",
    "encrypt_keystore": "certificates.keystore",
    "decrypt_keystore": "certificates.keystore",
    "encryption_public_key": "certificates.encryption_keys",
}

__all__ = [
    "DOCUMENT_TYPES",
    "BatchAnchor",
    "BatchBuilder",
    "CheckCode",
    "CheckResult",
    "CheckStatus",
    "DocexError",
    "DocumentTerms",
    "Eip712Domain",
    "Envelope",
    "EnvelopeError",
    "InvalidDocument",
    "InvalidInput",
    "InvalidSignature",
    "InvalidWrappedDocument",
    "KeystoreError",
    "MerkleTree",
    "Recipient",
    "SaltedDocument",
    "SignedBatch",
    "ValidatedDocument",
    "Verdict",
    "WrappedDocument",
    "canonicalize",
    "check_integrity",
    "check_signature",
    "decrypt_keystore",
    "document_json_schema",
    "encrypt_keystore",
    "encryption_public_key",
    "keccak256",
    "open_envelope",
    "parse_document",
    "parse_strict_json",
    "recover_batch_signer",
    "seal",
    "sign_batch_anchor",
    "terms_leaf",
    "validate_document",
    "verify_offline",
    "verify_proof",
    "wrap_batch",
]


__getattr__ = lazy_names(__name__, _EXPORTS)


if TYPE_CHECKING:
    from certificates.canonical import canonicalize
    from certificates.check_codes import CheckCode
    from certificates.disclosure import SaltedDocument
    from certificates.encryption_keys import encryption_public_key
    from certificates.envelope import Envelope, Recipient, open_envelope, seal
    from certificates.errors import (
        DocexError,
        EnvelopeError,
        InvalidDocument,
        InvalidInput,
        InvalidSignature,
        InvalidWrappedDocument,
        KeystoreError,
    )
    from certificates.keccak import keccak256
    from certificates.keystore import decrypt_keystore, encrypt_keystore
    from certificates.merkle import DocumentTerms, MerkleTree, terms_leaf, verify_proof
    from certificates.offline_checks import check_integrity, check_signature, verify_offline
    from certificates.schemas import (
        DOCUMENT_TYPES,
        ValidatedDocument,
        document_json_schema,
        parse_document,
        validate_document,
    )
    from certificates.signing import (
        BatchAnchor,
        Eip712Domain,
        recover_batch_signer,
        sign_batch_anchor,
    )
    from certificates.strict_json import parse_strict_json
    from certificates.verdict import CheckResult, CheckStatus, Verdict
    from certificates.wrapped import WrappedDocument
    from certificates.wrapping import BatchBuilder, SignedBatch, wrap_batch
