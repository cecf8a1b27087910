"""Stable machine codes for check outcomes: what other administrations code against.

Every :class:`~certificates.verdict.CheckResult` carries one :class:`CheckCode` beside
its English ``reason``: the reason is for people and may be reworded, the code is for
programs and never changes. A published value is never renamed, reused for another
meaning or removed; new causes get new codes (``tests/unit/certificates/
published_check_codes.txt`` holds the published values and a test compares them).

A code names the cause, not the check: the checks a cause makes impossible are
``skipped`` with the same code (``batch-not-anchored`` on ``issuance`` is ``invalid``, on
``issuer``, ``status`` and ``recognition`` it is ``skipped``). Read a result as the pair
(``status``, ``code``). The list, with what a verifier should do on each, is
``docs/verification-codes.md``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class CheckCode(StrEnum):
    """The outcome of a check, in words that never change (see the module docstring)."""

    # --- integrity (offline) ---------------------------------------------------------
    #: the content hashes to the target hash, which the proof ties to the batch root
    INTACT = "intact"
    #: the input does not follow the docex-wrapped/1 format (integrity invalid; the
    #: other checks are skipped with this code)
    SCHEMA_INVALID = "schema-invalid"
    #: the salts do not line up with the fields (missing, stray or malformed salt)
    SALTS_INVALID = "salts-invalid"
    #: the content does not hash to the stated target hash: it was altered
    TARGET_HASH_MISMATCH = "target-hash-mismatch"
    #: the content's documentType is not the type its batch was signed as
    SIGNED_TYPE_MISMATCH = "signed-type-mismatch"
    #: the Merkle proof does not lead from the target hash to the batch root
    PROOF_INVALID = "proof-invalid"
    #: the document could not be read for a reason other than its form (an error)
    UNREADABLE = "unreadable"

    # --- signature (offline) ---------------------------------------------------------
    #: the batch root was signed by the stated signer for the stated (or trusted) domain
    SIGNED = "signed"
    #: signed for another chain or registry than the one trusted here
    DOMAIN_MISMATCH = "domain-mismatch"
    #: the signature value is malformed: no signer can be recovered from it
    SIGNATURE_INVALID = "signature-invalid"
    #: the signature was made by another key than the stated signer
    SIGNATURE_MISMATCH = "signature-mismatch"

    # --- issuance (on chain) ---------------------------------------------------------
    #: the batch root is anchored on chain (as far as the index knows)
    ANCHORED = "anchored"
    #: the batch root is not anchored on chain (as far as the index knows)
    BATCH_NOT_ANCHORED = "batch-not-anchored"

    # --- issuer (on chain) -----------------------------------------------------------
    #: the signer held a key for the type and country at the anchoring block
    AUTHORISED = "authorised"
    #: the batch was anchored for another account than its signer
    SIGNER_MISMATCH = "signer-mismatch"
    #: the signer held no key for the document type at the anchoring block
    ISSUER_NOT_AUTHORISED = "issuer-not-authorised"
    #: the signer's member belongs to another country than the batch's issuer country
    ISSUER_OTHER_COUNTRY = "issuer-other-country"
    #: the signer's member was not active (suspended, expelled) at the anchoring block
    MEMBER_NOT_ACTIVE = "member-not-active"

    # --- status (on chain) -----------------------------------------------------------
    #: neither revoked nor superseded
    IN_FORCE = "in-force"
    #: revoked by its issuer
    REVOKED = "revoked"
    #: replaced by an amendment (the result's data names the successor)
    SUPERSEDED = "superseded"

    # --- recognition (on chain) ------------------------------------------------------
    #: issued by this node's own administration
    OWN_COUNTRY = "own-country"
    #: recognised under an agreement in force
    RECOGNISED = "recognised"
    #: no agreement in force recognises this type from the issuer's country
    NO_AGREEMENT = "no-agreement"

    # --- every on-chain check --------------------------------------------------------
    #: this node has no chain: the on-chain checks are skipped
    NO_CHAIN = "no-chain"
    #: the chain restarted and the index is re-checking it: error, try again later
    INDEX_IN_DOUBT = "index-in-doubt"

    # --- what was signed against what was anchored (issuer), and status ---------------
    #: status: the validity the issuer signed has ended
    EXPIRED = "expired"
    #: status: the uses recorded on chain reach the allowance
    USED_UP = "used-up"
    #: issuer: the batch was signed as one document type and anchored as another
    TYPE_MISMATCH = "type-mismatch"
    #: issuer: the document's issuing country is not the anchoring member's
    COUNTRY_MISMATCH = "country-mismatch"
    #: issuer: the addressees signed (batch or document) are not those anchored
    ADDRESSEE_MISMATCH = "addressee-mismatch"

    # --- attachments (the node reads the files; certificates.attachments) ------------
    #: every attached file was found and hashes to the SHA-256 the document binds
    ATTACHMENTS_INTACT = "attachments-intact"
    #: an attached file was found but its bytes are not those the document binds
    ATTACHMENT_CHANGED = "attachment-changed"
    #: an attached file is not where the document says (not in the content store)
    ATTACHMENT_MISSING = "attachment-missing"
    #: skipped: an attached file is sealed for other recipients than this node's member
    ATTACHMENT_SEALED = "attachment-sealed"

    # --- OpenAttestation v2 documents (adapters.formats.openattestation) --------------
    #: oa-integrity: every visible value is salted, every obfuscated entry a hash
    OA_SALTED = "oa-salted"
    #: oa-integrity: a value is not salted (uuid:type:value) or an obfuscated entry is
    #: not a 32-byte hash
    OA_UNSALTED = "oa-unsalted"
    #: oa-integrity, oa-target-hash: the data cannot be digested at all (a key with '.',
    #: obfuscated entries that are not text); OA's own library fails on it too
    OA_NOT_DIGESTABLE = "oa-not-digestable"
    #: oa-target-hash: the visible values and obfuscated hashes digest to the target hash
    #: (its failure is target-hash-mismatch)
    OA_TARGET_HASH_MATCHES = "oa-target-hash-matches"
    #: oa-merkle-proof: the proof leads from the target hash to the Merkle root (its
    #: failure is proof-invalid)
    OA_PROOF_VALID = "oa-proof-valid"
    #: oa-issuer-identity: every issuer's document store is on this node's trusted list
    OA_TRUSTED_STORE = "oa-trusted-store"
    #: oa-issuer-identity: an issuer's document store is not on this node's trusted list
    OA_UNTRUSTED_STORE = "oa-untrusted-store"
    #: oa-issuer-identity (invalid), oa-issuance and oa-revocation (skipped): an issuer
    #: names no document store
    OA_NO_DOCUMENT_STORE = "oa-no-document-store"
    #: oa-dns-identity: DNS cannot be reached from this network; never passed
    DNS_UNREACHABLE = "dns-unreachable"
    #: oa-issuance, oa-revocation: DID-signed documents and token registries are not
    #: checked by this node
    OA_ISSUANCE_UNSUPPORTED = "oa-issuance-unsupported"
    #: oa-issuance, oa-revocation: the document store could not be read (error)
    OA_STORE_UNREADABLE = "oa-store-unreadable"


#: published but not emitted yet (none since attachments are checked)
RESERVED_CODES: Final[frozenset[CheckCode]] = frozenset()
