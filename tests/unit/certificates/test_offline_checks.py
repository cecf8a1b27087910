"""Offline verification: integrity and signature, and every kind of tampering caught."""

from __future__ import annotations

import copy
import json
import multiprocessing
import os

import pytest

from certificates.json_types import JsonObject
from certificates.offline_checks import INTEGRITY, SIGNATURE, verify_offline, verify_offline_json
from certificates.schemas import validate_document
from certificates.schemas.samples import (
    sample_certificate_of_origin,
    sample_declaration,
    sample_permit,
)
from certificates.signing import Eip712Domain
from certificates.strict_json import parse_strict_json
from certificates.verdict import CheckStatus
from certificates.wrapped import WrappedDocument
from certificates.wrapping import wrap_batch

KEY = bytes(range(1, 33))
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DOMAIN = Eip712Domain(chain_id=31337, verifying_contract=REGISTRY)


def wrapped_certificates(count: int = 3) -> list[JsonObject]:
    inputs = [validate_document(sample_certificate_of_origin(i, items=2)) for i in range(count)]
    return [
        json.loads(json.dumps(document.to_json()))
        for document in wrap_batch(inputs, signing_key=KEY, domain=DOMAIN)
    ]


def status(document: JsonObject, check: str, domain: Eip712Domain | None = DOMAIN) -> str:
    verdict, _ = verify_offline_json(document, domain)
    return verdict.check(check).status.value


def test_a_freshly_wrapped_document_is_valid() -> None:
    verdict, parsed = verify_offline_json(wrapped_certificates(1)[0], DOMAIN)
    assert verdict.valid
    assert parsed is not None
    assert [check.name for check in verdict.checks] == [INTEGRITY, SIGNATURE]


def test_one_changed_character_fails_integrity() -> None:
    document = wrapped_certificates(1)[0]
    number = document["data"]["certificateNumber"]  # type: ignore[index]
    document["data"]["certificateNumber"] = number[:-1] + ("1" if number[-1] != "1" else "2")  # type: ignore[index]
    assert status(document, INTEGRITY) == "invalid"


def test_a_document_moved_to_another_batch_fails_integrity() -> None:
    first, second = wrapped_certificates(1)[0], wrapped_certificates(1)[0]
    first["batch"] = copy.deepcopy(second["batch"])
    assert status(first, INTEGRITY) == "invalid"


def test_a_concealed_copy_is_still_valid_and_lacks_the_value() -> None:
    document = WrappedDocument.from_json(wrapped_certificates(1)[0])
    concealed = document.conceal(["/importer", "/items/0/fobValue"])
    verdict = verify_offline(concealed, DOMAIN)
    assert verdict.valid
    assert "importer" not in concealed.salted.data
    assert verdict.check(INTEGRITY).data["concealedFields"]


@pytest.mark.parametrize("member", ["chainId", "verifyingContract"])
def test_signature_replayed_for_another_chain_or_registry_is_rejected(member: str) -> None:
    document = wrapped_certificates(1)[0]
    replayed = copy.deepcopy(document)
    replacement = 1 if member == "chainId" else "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
    replayed["signature"]["domain"][member] = replacement  # type: ignore[index]
    # checked against the domain the document now states: the signer no longer recovers
    assert status(replayed, SIGNATURE, domain=None) == "invalid"
    # checked by a verifier that trusts the other deployment: the original is refused too
    other = Eip712Domain(
        chain_id=replayed["signature"]["domain"]["chainId"],  # type: ignore[index,call-overload]
        verifying_contract=replayed["signature"]["domain"]["verifyingContract"],  # type: ignore[index,call-overload]
    )
    assert status(document, SIGNATURE, domain=other) == "invalid"


def test_another_signer_claimed_is_rejected() -> None:
    document = wrapped_certificates(1)[0]
    document["signature"]["signer"] = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # type: ignore[index]
    assert status(document, SIGNATURE) == "invalid"


def test_an_address_in_another_spelling_is_not_accepted() -> None:
    document = wrapped_certificates(1)[0]
    document["signature"]["signer"] = document["signature"]["signer"].lower()  # type: ignore[index,union-attr]
    verdict, parsed = verify_offline_json(document, DOMAIN)
    assert parsed is None
    assert not verdict.valid


def test_not_a_wrapped_document_fails_integrity_with_the_path() -> None:
    document = wrapped_certificates(1)[0]
    del document["targetHash"]
    verdict, _ = verify_offline_json(document, DOMAIN)
    assert verdict.check(INTEGRITY).status is CheckStatus.INVALID
    assert "/targetHash" in verdict.check(INTEGRITY).reason


# --- every single-bit flip anywhere in 50 wrapped documents -----------------------------


def fifty_wrapped_documents() -> list[bytes]:
    kinds = [
        (sample_certificate_of_origin, 17),
        (sample_permit, 17),
        (sample_declaration, 16),
    ]
    serialised: list[bytes] = []
    for sample, count in kinds:
        inputs = [validate_document(sample(i, items=1)) for i in range(count)]
        for document in wrap_batch(inputs, signing_key=KEY, domain=DOMAIN):
            serialised.append(
                json.dumps(document.to_json(), ensure_ascii=False, separators=(",", ":")).encode()
            )
    return serialised


def undetected_flips(raw: bytes) -> list[int]:
    """Bit positions whose flip yields a document that still passes every check."""
    undetected = []
    for position in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[position // 8] ^= 1 << (position % 8)
        try:
            value = parse_strict_json(bytes(flipped), max_bytes=len(raw) + 1)
        except Exception:
            continue
        verdict, _ = verify_offline_json(value, DOMAIN)
        if verdict.valid:
            undetected.append(position)
    return undetected


def _assert_every_flip_detected(
    documents: list[bytes], minimum_flips: int, *, in_parallel: bool
) -> None:
    for raw in documents:  # the unflipped documents are valid: the test can fail
        verdict, _ = verify_offline_json(parse_strict_json(raw), DOMAIN)
        assert verdict.valid
    if in_parallel:
        # forked workers: only from a process without other threads (the soak's plain
        # pytest); forked from an xdist worker whose earlier tests left threads holding
        # locks, a child can hang on one
        with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
            results = pool.map(undetected_flips, documents)
    else:
        results = [undetected_flips(raw) for raw in documents]
    flips = sum(len(raw) * 8 for raw in documents)
    missed = {index: positions for index, positions in enumerate(results) if positions}
    assert flips > minimum_flips
    assert missed == {}, f"{sum(map(len, missed.values()))} of {flips} flips went undetected"


def test_every_single_bit_flip_in_4_wrapped_documents_is_detected() -> None:
    """The short form for ``make test`` (the 50-document run is in ``make soak``)."""
    documents = fifty_wrapped_documents()[::13]
    assert len(documents) == 4
    _assert_every_flip_detected(documents, 40_000, in_parallel=False)


@pytest.mark.soak
def test_every_single_bit_flip_in_50_wrapped_documents_is_detected() -> None:
    documents = fifty_wrapped_documents()
    assert len(documents) == 50
    _assert_every_flip_detected(documents, 500_000, in_parallel=True)
