"""A docex wrapped document as a W3C Verifiable Credential 2.0, secured as ``vc+jwt``.

The credential carries the document's visible fields, placed by the standards mapping
(``certificates.schemas.standards``: UN/CEFACT names where they exist), the member's
``did:web`` as issuer, a ``BitstringStatusListEntry`` per purpose, and, as evidence,
the docex anchor facts (target hash, batch root, signer, chain) so that a verifier can
also check the original on chain. Securing: VC-JOSE-COSE, a compact JWS with ES256K
(ADR 0060).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Final

from adapters.formats.errors import CredentialExportError, InvalidCredential
from adapters.formats.vc.did_web import verification_key
from adapters.formats.vc.jws import ALGORITHM, read_compact, sign_compact, verify_signature
from adapters.formats.vc.status_list import (
    VC_V2_CONTEXT,
    StatusPurpose,
    decode_status_list,
    status_bit,
    status_entry,
    timestamp,
)
from certificates.json_types import JsonObject, JsonValue
from certificates.schemas.standards import (
    UnmappedField,
    credential_path,
    field_mapping,
    iter_leaves,
)
from certificates.wrapped import WrappedDocument

MEDIA_TYPE: Final = "application/vc+jwt"
JWT_TYPE: Final = "vc+jwt"
CREDENTIAL_TYPES: Final = {
    "coo": "CertificateOfOriginCredential",
    "permit": "PermitCredential",
    "declaration": "CustomsDeclarationCredential",
}
_SUBJECT_TYPES: Final = {
    "coo": "CertificateOfOrigin",
    "permit": "Permit",
    "declaration": "CustomsDeclaration",
}


@dataclass(frozen=True, slots=True)
class StatusLists:
    """Where the document's status bits live: one list per purpose, one index in both."""

    revocation_url: str
    suspension_url: str
    index: int


def export_credential(
    wrapped: WrappedDocument,
    *,
    issuer_did: str,
    issuer_name: str | None = None,
    status: StatusLists | None = None,
    credential_id: str | None = None,
) -> JsonObject:
    """The unsecured credential for ``wrapped`` (its visible fields; concealed ones stay out)."""
    type_id = wrapped.document_type
    family = type_id.split("/")[0]
    if family not in CREDENTIAL_TYPES:
        raise CredentialExportError(f"document type {type_id!r} has no credential type")
    data = wrapped.salted.data
    subject: JsonObject = {"type": _SUBJECT_TYPES[family]}
    for path, value in iter_leaves(data):
        try:
            row, indexes = field_mapping(type_id, path)
        except UnmappedField as exc:
            raise CredentialExportError(str(exc), path=path) from None
        _put(subject, credential_path(row, indexes), value)
    issuer: JsonValue = {"id": issuer_did, "name": issuer_name} if issuer_name else issuer_did
    target_hash = "0x" + wrapped.target_hash.hex()
    credential: JsonObject = {
        "@context": [VC_V2_CONTEXT],
        "id": credential_id or f"urn:docex:document:{target_hash}",
        "type": ["VerifiableCredential", CREDENTIAL_TYPES[family]],
        "issuer": issuer,
        "validFrom": _day_start(data.get("issueDate")),
    }
    valid_until = _valid_until(data)
    if valid_until is not None:
        credential["validUntil"] = valid_until
    credential["credentialSubject"] = subject
    if status is not None:
        credential["credentialStatus"] = [
            status_entry(status.revocation_url, status.index, "revocation"),
            status_entry(status.suspension_url, status.index, "suspension"),
        ]
    anchor = wrapped.batch.anchor
    credential["evidence"] = [
        {
            "type": ["DocexAnchoredDocument"],
            "documentType": type_id,
            "targetHash": target_hash,
            "batchRoot": "0x" + anchor.root.hex(),
            "batchSigner": wrapped.signature.signer,
            "chainId": wrapped.signature.domain.chain_id,
            "registry": wrapped.signature.domain.verifying_contract,
            "concealedFields": [*sorted(wrapped.salted.concealed)],
        }
    ]
    return credential


def secure_credential(credential: JsonObject, *, private_key: bytes, kid: str) -> str:
    """The credential as ``application/vc+jwt``: a compact JWS, ES256K, by key ``kid``."""
    issuer = _issuer_id(credential)
    if not kid.startswith(f"{issuer}#"):
        raise CredentialExportError(f"key {kid!r} is not a key of the issuer {issuer!r}")
    header: JsonObject = {"alg": ALGORITHM, "kid": kid, "typ": JWT_TYPE, "cty": "vc"}
    return sign_compact(header, credential, private_key)


def verify_credential_jwt(token: str, did_document: JsonObject) -> JsonObject:
    """The credential of a ``vc+jwt`` whose signature holds under the issuer's DID document.

    Raises :class:`InvalidCredential` naming what is wrong: the securing mechanism, the
    key, the issuer or the signature. Status is a separate question (:func:`credential_status`).
    """
    header, credential, signature, signing_input = read_compact(token)
    if header.get("typ") not in (JWT_TYPE, MEDIA_TYPE):
        raise InvalidCredential(f"JWT typ {header.get('typ')!r}: expected {JWT_TYPE!r}")
    if header.get("alg") != ALGORITHM:
        raise InvalidCredential(
            f"securing algorithm {header.get('alg')!r} is not supported: expected {ALGORITHM}"
        )
    contexts = credential.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] != VC_V2_CONTEXT:
        raise InvalidCredential(f"not a VC 2.0 credential: @context must start {VC_V2_CONTEXT}")
    issuer = _issuer_id(credential)
    if issuer != did_document.get("id"):
        raise InvalidCredential(f"the credential's issuer {issuer} is not {did_document.get('id')}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid.startswith(f"{issuer}#"):
        raise InvalidCredential("the JWT's kid does not name a key of the issuer")
    try:
        public_jwk = verification_key(did_document, kid)
    except KeyError:
        raise InvalidCredential(f"key {kid} is not an assertion key of {issuer}") from None
    if not verify_signature(signing_input, signature, public_jwk):
        raise InvalidCredential("the credential's signature does not hold: it was altered")
    return credential


def read_presented_credential(value: JsonValue) -> str:
    """The ``vc+jwt`` token of a presented credential, or a clear error naming what is read."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        proof = value.get("proof")
        if proof is not None:
            kind = proof.get("type") if isinstance(proof, dict) else "several proofs"
            raise InvalidCredential(
                f"securing mechanism {kind!r} (an embedded proof) is not supported: "
                f"docex reads {MEDIA_TYPE} (VC-JOSE-COSE, {ALGORITHM})"
            )
        if "@context" in value:
            raise InvalidCredential(
                f"an unsecured credential cannot be verified: docex reads {MEDIA_TYPE}"
            )
    raise InvalidCredential(f"not a Verifiable Credential: docex reads {MEDIA_TYPE}")


def credential_status(
    credential: JsonObject, status_lists: Mapping[str, JsonObject]
) -> dict[StatusPurpose, bool]:
    """Purpose -> set? for each status entry, from already verified status list credentials."""
    entries = credential.get("credentialStatus", [])
    entries = entries if isinstance(entries, list) else [entries]
    answers: dict[StatusPurpose, bool] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
            raise InvalidCredential("credentialStatus must be BitstringStatusListEntry entries")
        url = entry.get("statusListCredential")
        if entry.get("statusPurpose") not in ("revocation", "suspension") or not isinstance(
            url, str
        ):
            raise InvalidCredential("a status entry needs a purpose and a list URL")
        purpose: StatusPurpose = (
            "revocation" if entry.get("statusPurpose") == "revocation" else "suspension"
        )
        listed = status_lists.get(url)
        if listed is None:
            raise InvalidCredential(f"the status list {url} was not given")
        list_subject = listed.get("credentialSubject")
        if not isinstance(list_subject, dict) or list_subject.get("statusPurpose") != purpose:
            raise InvalidCredential(f"the status list {url} is not a {purpose} list")
        if listed.get("issuer") != _issuer_id(credential):
            raise InvalidCredential(f"the status list {url} has another issuer")
        index = entry.get("statusListIndex")
        if not isinstance(index, str) or not index.isdigit():
            raise InvalidCredential("statusListIndex must be a decimal string")
        bits = decode_status_list(str(list_subject.get("encodedList", "")))
        answers[purpose] = status_bit(bits, int(index))
    return answers


def _issuer_id(credential: JsonObject) -> str:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    if not isinstance(issuer, str):
        raise InvalidCredential("the credential has no issuer id")
    return issuer


def _day_start(value: JsonValue) -> str:
    if not isinstance(value, str):
        raise CredentialExportError("the document has no visible issueDate", path="/issueDate")
    day = datetime.fromisoformat(value).date()
    return timestamp(datetime.combine(day, time(0, 0), tzinfo=UTC))


def _valid_until(data: JsonObject) -> str | None:
    validity = data.get("validity")
    if isinstance(validity, dict) and isinstance(validity.get("validUntil"), str):
        day = datetime.fromisoformat(str(validity["validUntil"])).date()
        return timestamp(datetime.combine(day, time(23, 59, 59), tzinfo=UTC))
    return None


def _put(subject: JsonObject, pointer: str, value: JsonValue) -> None:
    """Set ``value`` at a JSON Pointer below ``subject``, creating objects and arrays."""
    tokens = pointer.lstrip("/").split("/")
    node: JsonValue = subject
    for token, following in zip(tokens, [*tokens[1:], None], strict=True):
        child: JsonValue = value if following is None else ([] if following.isdigit() else {})
        if isinstance(node, dict):
            if following is None:
                node[token] = child
            node = node.setdefault(token, child)
        elif isinstance(node, list):
            index = int(token)
            while len(node) <= index:
                node.append(None)
            if following is None or node[index] is None:
                node[index] = child
            node = node[index]
