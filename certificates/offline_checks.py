"""The checks a verifier runs on a wrapped document alone, with no chain: integrity, signature.

Each check is one function from a wrapped document to a :class:`CheckResult`; the node
adds the on-chain checks (issuance, issuer, status, recognition) next to these.
"""

from __future__ import annotations

from certificates.check_codes import CheckCode
from certificates.disclosure import DisclosureError
from certificates.errors import DocexError, InvalidSignature, InvalidWrappedDocument
from certificates.json_types import JsonValue
from certificates.merkle import root_from_proof, terms_leaf
from certificates.signing import Eip712Domain, recover_batch_signer
from certificates.verdict import CheckResult, Verdict
from certificates.wrapped import WrappedDocument

INTEGRITY = "integrity"
SIGNATURE = "signature"


def check_integrity(document: WrappedDocument) -> CheckResult:
    """The fields hash to the target hash, and the proof ties it to the signed batch root."""
    target_hex = "0x" + document.target_hash.hex()
    try:
        computed = document.salted.target_hash()
    except DisclosureError as exc:
        return CheckResult.invalid(
            INTEGRITY, CheckCode.SALTS_INVALID, f"the fields cannot be checked: {exc}"
        )
    if computed != document.target_hash:
        return CheckResult.invalid(
            INTEGRITY,
            CheckCode.TARGET_HASH_MISMATCH,
            "the document's content does not match its target hash: it was altered",
            targetHash=target_hex,
            computedHash="0x" + computed.hex(),
        )
    shown_type = document.salted.data.get("documentType")
    if shown_type != document.document_type:
        return CheckResult.invalid(
            INTEGRITY,
            CheckCode.SIGNED_TYPE_MISMATCH,
            f"the document says it is {shown_type!r} but its batch was signed as "
            f"{document.document_type!r}",
        )
    anchor = document.batch.anchor
    terms = document.batch.terms
    if terms is not None and (
        not document.batch.proof
        or document.batch.proof[0] != terms_leaf(document.target_hash, terms)
    ):
        return CheckResult.invalid(
            INTEGRITY,
            CheckCode.PROOF_INVALID,
            "the document's terms (its own addressees and allowance) are not the ones "
            "committed beside its leaf",
            targetHash=target_hex,
        )
    if root_from_proof(document.target_hash, document.batch.proof) != anchor.root:
        return CheckResult.invalid(
            INTEGRITY,
            CheckCode.PROOF_INVALID,
            "the Merkle proof does not lead to the batch root: not a document of this batch",
            targetHash=target_hex,
        )
    concealed: list[JsonValue] = [*sorted(document.salted.concealed)]
    return CheckResult.valid(
        INTEGRITY,
        CheckCode.INTACT,
        "content matches the target hash, which belongs to the batch root",
        targetHash=target_hex,
        batchRoot="0x" + anchor.root.hex(),
        concealedFields=concealed,
    )


def check_signature(
    document: WrappedDocument, expected_domain: Eip712Domain | None = None
) -> CheckResult:
    """The batch root was signed by the stated signer, for the chain and registry trusted here.

    With no ``expected_domain`` the signature is checked against the domain the document
    states, and the result says so: only a node that knows its chain and registry can
    rule out a signature made for another deployment.
    """
    signature = document.signature
    domain = signature.domain
    if expected_domain is not None and domain != expected_domain:
        return CheckResult.invalid(
            SIGNATURE,
            CheckCode.DOMAIN_MISMATCH,
            f"signed for chain {domain.chain_id} registry {domain.verifying_contract}, "
            f"not for chain {expected_domain.chain_id} registry "
            f"{expected_domain.verifying_contract} trusted here",
        )
    try:
        recovered = recover_batch_signer(domain, document.batch.anchor, signature.value)
    except InvalidSignature as exc:
        return CheckResult.invalid(SIGNATURE, CheckCode.SIGNATURE_INVALID, exc.message)
    if recovered.lower() != signature.signer.lower():
        return CheckResult.invalid(
            SIGNATURE,
            CheckCode.SIGNATURE_MISMATCH,
            f"the batch signature was made by {recovered}, not by the stated signer "
            f"{signature.signer} (wrong key, or altered batch, chain or registry)",
        )
    scope = "trusted here" if expected_domain is not None else "stated in the document"
    return CheckResult.valid(
        SIGNATURE,
        CheckCode.SIGNED,
        f"batch root signed by {recovered} for chain {domain.chain_id} "
        f"registry {domain.verifying_contract} ({scope})",
        signer=recovered,
        chainId=domain.chain_id,
        verifyingContract=domain.verifying_contract,
    )


def verify_offline(
    document: WrappedDocument, expected_domain: Eip712Domain | None = None
) -> Verdict:
    """Integrity and signature of one wrapped document."""
    return Verdict((check_integrity(document), check_signature(document, expected_domain)))


def verify_offline_json(
    value: JsonValue, expected_domain: Eip712Domain | None = None
) -> tuple[Verdict, WrappedDocument | None]:
    """Like :func:`verify_offline` for a JSON value; a malformed one fails integrity."""
    try:
        document = WrappedDocument.from_json(value)
    except InvalidWrappedDocument as exc:
        invalid = CheckResult.invalid(
            INTEGRITY, CheckCode.SCHEMA_INVALID, f"not a wrapped document: {exc}"
        )
        return Verdict((invalid,)), None
    except DocexError as exc:  # pragma: no cover - from_json maps every domain error
        return Verdict((CheckResult.error(INTEGRITY, CheckCode.UNREADABLE, str(exc)),)), None
    return verify_offline(document, expected_domain), document
