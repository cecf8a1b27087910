"""The checks of an OpenAttestation v2 document, each independent, each with a stable code.

=====================  ===================================================================
code                   what it establishes
=====================  ===================================================================
``oa-integrity``       every visible value is salted (``<uuid v4>:<type>:<value>``) and
                       every obfuscated entry is a 32-byte hash: the data can be read
``oa-target-hash``     the visible values and obfuscated hashes digest to the target hash
``oa-merkle-proof``    the proof leads from the target hash to the Merkle root
``oa-issuer-identity`` each issuer's document store is on this node's trusted list
``oa-dns-identity``    always skipped: DNS-TXT identity needs the Internet
``oa-issuance``        each issuer's DocumentStore says ``isIssued(merkleRoot)``
``oa-revocation``      no DocumentStore says ``isRevoked`` of the target hash, the root or
                       any node between them
=====================  ===================================================================

``oa-target-hash`` and ``oa-merkle-proof`` together are what OA's own ``verifySignature``
answers; ``oa-integrity`` is stricter than OA (which hashes whatever strings it finds).
Codes never change meaning; a new check gets a new code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from adapters.formats.openattestation.digest import (
    NotDigestable,
    digest_document,
    flatten,
    intermediate_hashes,
    is_hex_hash,
    root_from_proof,
)
from adapters.formats.openattestation.document_store import DocumentStoreReader
from adapters.formats.openattestation.wrapped import (
    OaWrappedDocument,
    salted_value_problem,
    unsalt,
)
from certificates.check_codes import CheckCode
from certificates.json_types import JsonObject, JsonValue
from certificates.verdict import CheckResult, CheckStatus, Verdict

OA_INTEGRITY = "oa-integrity"
OA_TARGET_HASH = "oa-target-hash"
OA_MERKLE_PROOF = "oa-merkle-proof"
OA_ISSUER_IDENTITY = "oa-issuer-identity"
OA_DNS_IDENTITY = "oa-dns-identity"
OA_ISSUANCE = "oa-issuance"
OA_REVOCATION = "oa-revocation"

_MAX_REPORTED = 10


@dataclass(frozen=True, slots=True)
class TrustedDocumentStore:
    """A document store this node trusts as an issuer's (from the node's settings)."""

    address: str
    name: str


@dataclass(frozen=True, slots=True)
class OaIssuer:
    """An issuer as the document's visible data names it (values unsalted)."""

    name: str | None
    store: str | None
    store_kind: str | None
    """``documentStore``, ``certificateStore`` (its old name) or ``tokenRegistry``."""
    identity_type: str | None
    identity_location: str | None


@dataclass(frozen=True, slots=True)
class OaVerification:
    """The verdict on an OA v2 document and what it says (visible values, unsalted)."""

    verdict: Verdict
    data: JsonObject
    issuers: tuple[OaIssuer, ...]

    def to_json(self) -> JsonObject:
        """The verdict as ``POST /v1/verify`` and ``docex check --json`` can show it."""
        issuers: list[JsonValue] = [
            {
                "name": issuer.name,
                "store": issuer.store,
                "storeKind": issuer.store_kind,
                "identityProof": {
                    "type": issuer.identity_type,
                    "location": issuer.identity_location,
                },
            }
            for issuer in self.issuers
        ]
        return {
            "format": "openattestation/2",
            **self.verdict.to_json(),
            "signatureValid": self.signature_valid,
            "issuers": issuers,
            "data": self.data,
        }

    @property
    def signature_valid(self) -> bool:
        """What OA's own ``verifySignature`` answers: target hash and Merkle proof hold."""
        return all(
            self.verdict.check(name).status is CheckStatus.VALID
            for name in (OA_TARGET_HASH, OA_MERKLE_PROOF)
        )


def check_integrity(document: OaWrappedDocument) -> CheckResult:
    try:
        leaves = flatten(document.data)
    except NotDigestable as exc:
        return CheckResult.invalid(OA_INTEGRITY, CheckCode.OA_NOT_DIGESTABLE, str(exc))
    unsalted = [
        f"data.{key}: {problem}"
        for key, value in leaves
        if (problem := salted_value_problem(value)) is not None
    ]
    bad_hashes = [
        f"privacy.obfuscatedData.{index}"
        for index, entry in enumerate(document.obfuscated_data)
        if not (is_hex_hash(entry) and entry == str(entry).lower())
    ]
    problems = unsalted + [f"{where}: is not a 32-byte hex hash" for where in bad_hashes]
    if problems:
        return CheckResult.invalid(
            OA_INTEGRITY,
            CheckCode.OA_UNSALTED,
            f"{len(problems)} value(s) are not as OpenAttestation writes them: "
            + "; ".join(problems[:_MAX_REPORTED]),
            problems=list(problems[:_MAX_REPORTED]),
        )
    return CheckResult.valid(
        OA_INTEGRITY,
        CheckCode.OA_SALTED,
        f"{len(leaves)} salted value(s) and {len(document.obfuscated_data)} obfuscated "
        "field(s) are well formed",
        visibleFields=len(leaves),
        obfuscatedFields=len(document.obfuscated_data),
    )


def check_target_hash(document: OaWrappedDocument) -> CheckResult:
    claimed = document.signature.target_hash
    if not all(isinstance(entry, str) for entry in document.obfuscated_data):
        return CheckResult.invalid(
            OA_TARGET_HASH,
            CheckCode.OA_NOT_DIGESTABLE,
            "privacy.obfuscatedData holds non-text entries",
        )
    try:
        digest = digest_document(document.data, [str(e) for e in document.obfuscated_data])
    except NotDigestable as exc:
        return CheckResult.invalid(
            OA_TARGET_HASH, CheckCode.OA_NOT_DIGESTABLE, f"the data cannot be digested: {exc}"
        )
    if claimed != digest:  # OA compares the strings exactly
        return CheckResult.invalid(
            OA_TARGET_HASH,
            CheckCode.TARGET_HASH_MISMATCH,
            "the document's data does not match its target hash: a value, a salt or the "
            "target hash was changed",
            targetHash=claimed if isinstance(claimed, str) else None,
            computedHash=digest,
        )
    return CheckResult.valid(
        OA_TARGET_HASH,
        CheckCode.OA_TARGET_HASH_MATCHES,
        "the data matches the target hash",
        targetHash=digest,
    )


def check_merkle_proof(document: OaWrappedDocument) -> CheckResult:
    signature = document.signature
    named = [("signature.targetHash", signature.target_hash)]
    named += [(f"signature.proof.{i}", step) for i, step in enumerate(signature.proof)]
    named += [("signature.merkleRoot", signature.merkle_root)]
    malformed = [where for where, value in named if not is_hex_hash(value)]
    if malformed:
        return CheckResult.invalid(
            OA_MERKLE_PROOF,
            CheckCode.PROOF_INVALID,
            f"{malformed[0]} is not a 32-byte hex hash",
            field=malformed[0],
        )
    target, root = _hash(signature.target_hash), _hash(signature.merkle_root)
    if root_from_proof(target, [_hash(step) for step in signature.proof]) != root:
        return CheckResult.invalid(
            OA_MERKLE_PROOF,
            CheckCode.PROOF_INVALID,
            "the Merkle proof does not lead from the target hash to the Merkle root",
            merkleRoot=root.hex(),
        )
    return CheckResult.valid(
        OA_MERKLE_PROOF,
        CheckCode.OA_PROOF_VALID,
        "the Merkle proof leads from the target hash to the Merkle root",
        merkleRoot=root.hex(),
        proofLength=len(signature.proof),
    )


def read_issuers(document: OaWrappedDocument) -> tuple[OaIssuer, ...]:
    """The issuers the visible data names (an obfuscated field reads as missing)."""
    listed = unsalt(document.data.get("issuers", []))
    if not isinstance(listed, list):
        return ()
    issuers: list[OaIssuer] = []
    for entry in listed:
        if not isinstance(entry, dict):
            continue
        kind = next(
            (k for k in ("documentStore", "certificateStore", "tokenRegistry") if k in entry),
            None,
        )
        proof = entry.get("identityProof")
        proof = proof if isinstance(proof, dict) else {}
        issuers.append(
            OaIssuer(
                name=_text(entry.get("name")),
                store=_text(entry.get(kind)) if kind else None,
                store_kind=kind,
                identity_type=_text(proof.get("type")),
                identity_location=_text(proof.get("location")),
            )
        )
    return tuple(issuers)


def check_issuer_identity(
    issuers: Sequence[OaIssuer], trusted: Sequence[TrustedDocumentStore]
) -> CheckResult:
    if not issuers:
        return CheckResult.invalid(
            OA_ISSUER_IDENTITY, CheckCode.OA_NO_DOCUMENT_STORE, "the document names no issuer"
        )
    by_address = {store.address.lower(): store for store in trusted}
    known: list[JsonValue] = []
    for issuer in issuers:
        if issuer.store is None:
            return CheckResult.invalid(
                OA_ISSUER_IDENTITY,
                CheckCode.OA_NO_DOCUMENT_STORE,
                f"issuer {issuer.name or '(unnamed)'} names no document store "
                "(DID-signed documents are not checked by this node)",
            )
        found = by_address.get(issuer.store.lower())
        if found is None:
            return CheckResult.invalid(
                OA_ISSUER_IDENTITY,
                CheckCode.OA_UNTRUSTED_STORE,
                f"document store {issuer.store} (issuer {issuer.name or '(unnamed)'}) is not "
                "on this node's list of trusted OpenAttestation document stores",
                store=issuer.store,
            )
        known.append({"store": issuer.store, "trustedAs": found.name})
    names = ", ".join(str(entry["trustedAs"]) for entry in known if isinstance(entry, dict))
    return CheckResult.valid(
        OA_ISSUER_IDENTITY,
        CheckCode.OA_TRUSTED_STORE,
        f"issued from document store(s) this node trusts: {names}",
        stores=known,
    )


def check_dns_identity(issuers: Sequence[OaIssuer]) -> CheckResult:
    locations = sorted({i.identity_location for i in issuers if i.identity_location})
    kinds = sorted({i.identity_type for i in issuers if i.identity_type})
    where = ", ".join(locations) or "(none given)"
    return CheckResult.skipped(
        OA_DNS_IDENTITY,
        CheckCode.DNS_UNREACHABLE,
        f"the issuer's identity proof ({', '.join(kinds) or 'none'} at {where}) needs a DNS "
        "lookup, which cannot be made from this closed network: it was not checked",
        locations=[*locations],
    )


def check_issuance(
    document: OaWrappedDocument, issuers: Sequence[OaIssuer], reader: DocumentStoreReader | None
) -> CheckResult:
    stores = _stores(issuers)
    skip = _cannot_ask(OA_ISSUANCE, document, issuers, stores, reader)
    if skip is not None:
        return skip
    assert reader is not None
    root = _hash(document.signature.merkle_root)
    for store in stores:
        try:
            issued = reader.is_issued(store, root)
        except Exception as exc:  # any chain failure is an error, never a pass
            return CheckResult.error(
                OA_ISSUANCE,
                CheckCode.OA_STORE_UNREADABLE,
                f"document store {store} could not be read: {exc}",
            )
        if not issued:
            return CheckResult.invalid(
                OA_ISSUANCE,
                CheckCode.BATCH_NOT_ANCHORED,
                f"document store {store} has not issued Merkle root {root.hex()}",
                store=store,
            )
    return CheckResult.valid(
        OA_ISSUANCE,
        CheckCode.ANCHORED,
        f"issued by document store(s) {', '.join(stores)}",
        merkleRoot=root.hex(),
    )


def check_revocation(
    document: OaWrappedDocument, issuers: Sequence[OaIssuer], reader: DocumentStoreReader | None
) -> CheckResult:
    stores = _stores(issuers)
    skip = _cannot_ask(OA_REVOCATION, document, issuers, stores, reader)
    if skip is not None:
        return skip
    if not is_hex_hash(document.signature.target_hash) or not all(
        is_hex_hash(step) for step in document.signature.proof
    ):
        return CheckResult.skipped(
            OA_REVOCATION, CheckCode.PROOF_INVALID, "the target hash or the proof is malformed"
        )
    assert reader is not None
    path = intermediate_hashes(
        _hash(document.signature.target_hash), [_hash(s) for s in document.signature.proof]
    )
    for store in stores:
        for document_hash in path:
            try:
                revoked = reader.is_revoked(store, document_hash)
            except Exception as exc:  # any chain failure is an error, never a pass
                return CheckResult.error(
                    OA_REVOCATION,
                    CheckCode.OA_STORE_UNREADABLE,
                    f"document store {store} could not be read: {exc}",
                )
            if revoked:
                return CheckResult.invalid(
                    OA_REVOCATION,
                    CheckCode.REVOKED,
                    f"document store {store} has revoked {document_hash.hex()}",
                    store=store,
                    revokedHash=document_hash.hex(),
                )
    return CheckResult.valid(
        OA_REVOCATION, CheckCode.IN_FORCE, "not revoked", checkedHashes=len(path)
    )


def verify_openattestation(
    value: JsonValue,
    *,
    trusted_stores: Sequence[TrustedDocumentStore] = (),
    document_store: DocumentStoreReader | None = None,
) -> OaVerification:
    """Run every OA check on a parsed JSON value (raises if it is not OA v2 at all)."""
    document = OaWrappedDocument.from_json(value)
    issuers = read_issuers(document)
    offline: tuple[Callable[[OaWrappedDocument], CheckResult], ...] = (
        check_integrity,
        check_target_hash,
        check_merkle_proof,
    )
    checks = [check(document) for check in offline]
    checks += [
        check_issuer_identity(issuers, trusted_stores),
        check_dns_identity(issuers),
        check_issuance(document, issuers, document_store),
        check_revocation(document, issuers, document_store),
    ]
    data = unsalt(document.data)
    assert isinstance(data, dict)
    return OaVerification(verdict=Verdict(tuple(checks)), data=data, issuers=issuers)


def _stores(issuers: Sequence[OaIssuer]) -> list[str]:
    return [
        issuer.store
        for issuer in issuers
        if issuer.store is not None and issuer.store_kind in ("documentStore", "certificateStore")
    ]


def _cannot_ask(
    name: str,
    document: OaWrappedDocument,
    issuers: Sequence[OaIssuer],
    stores: Sequence[str],
    reader: DocumentStoreReader | None,
) -> CheckResult | None:
    if document.did_signed or any(i.store_kind == "tokenRegistry" for i in issuers):
        return CheckResult.skipped(
            name,
            CheckCode.OA_ISSUANCE_UNSUPPORTED,
            "DID-signed documents and transferable records (token registries) are not "
            "checked by this node",
        )
    if not stores or len(stores) != len(issuers):
        return CheckResult.skipped(
            name, CheckCode.OA_NO_DOCUMENT_STORE, "an issuer names no document store"
        )
    if reader is None:
        return CheckResult.skipped(
            name, CheckCode.NO_CHAIN, "no chain is configured to read OA document stores"
        )
    if not is_hex_hash(document.signature.merkle_root):
        return CheckResult.skipped(name, CheckCode.PROOF_INVALID, "the Merkle root is malformed")
    return None


def _hash(value: JsonValue) -> bytes:
    return bytes.fromhex(str(value))


def _text(value: JsonValue) -> str | None:
    return value if isinstance(value, str) else None
