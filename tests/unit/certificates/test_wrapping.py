"""Issuing a batch: every document verifies, the batch is one type, nothing is kept twice."""

from __future__ import annotations

import json

import pytest

from certificates.check_codes import CheckCode
from certificates.errors import InvalidDocument
from certificates.offline_checks import verify_offline
from certificates.schemas import validate_document
from certificates.schemas.samples import (
    sample_certificate_of_origin,
    sample_declaration,
    sample_permit,
)
from certificates.signing import Eip712Domain, address_of
from certificates.verdict import CheckStatus
from certificates.wrapped import WrappedDocument
from certificates.wrapping import BATCH_MANIFEST_VERSION, BatchBuilder, MixedBatch, wrap_batch

KEY = bytes(range(1, 33))
DOMAIN = Eip712Domain(
    chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3"
)


def certificates(count: int, items: int = 2) -> list[object]:
    return [validate_document(sample_certificate_of_origin(i, items=items)) for i in range(count)]


def test_every_document_of_a_batch_verifies_offline() -> None:
    batch = wrap_batch(certificates(7), signing_key=KEY, domain=DOMAIN)  # type: ignore[arg-type]
    documents = list(batch)
    assert len(documents) == len(batch) == batch.anchor.document_count == 7
    for document in documents:
        verdict = verify_offline(document, DOMAIN)
        assert verdict.valid, verdict.to_json()
        assert document.signature.signer == address_of(KEY)
        assert document.batch.anchor.root == batch.anchor.root


def test_wrapped_documents_keep_input_order_and_data() -> None:
    inputs = certificates(5)
    batch = wrap_batch(inputs, signing_key=KEY, domain=DOMAIN)  # type: ignore[arg-type]
    for original, wrapped in zip(inputs, batch, strict=True):
        assert wrapped.salted.data == original.data  # type: ignore[attr-defined]


def test_json_form_round_trips() -> None:
    (document,) = wrap_batch(certificates(1), signing_key=KEY, domain=DOMAIN)  # type: ignore[arg-type]
    as_json = json.loads(json.dumps(document.to_json()))
    assert WrappedDocument.from_json(as_json) == document


def test_addressees_are_the_sorted_union_of_the_documents() -> None:
    inputs = certificates(4)
    expected = sorted({c for d in inputs for c in d.addressee_countries()})  # type: ignore[attr-defined]
    batch = wrap_batch(inputs, signing_key=KEY, domain=DOMAIN)  # type: ignore[arg-type]
    assert list(batch.anchor.addressees) == expected
    assert batch.anchor.document_type == "coo/1"


def test_a_batch_holds_one_document_type() -> None:
    builder = BatchBuilder()
    builder.add(validate_document(sample_certificate_of_origin(0)))
    with pytest.raises(MixedBatch, match="one document type"):
        builder.add(validate_document(sample_permit(0)))


def test_an_empty_batch_cannot_be_signed() -> None:
    with pytest.raises(InvalidDocument):
        BatchBuilder().sign(signing_key=KEY, domain=DOMAIN)


def test_salts_are_fresh_for_every_document_and_every_wrap() -> None:
    document = validate_document(sample_declaration(3))
    first = next(iter(wrap_batch([document], signing_key=KEY, domain=DOMAIN)))
    second = next(iter(wrap_batch([document], signing_key=KEY, domain=DOMAIN)))
    assert first.target_hash != second.target_hash
    assert set(first.salted.salts.values()).isdisjoint(second.salted.salts.values())


def test_same_random_source_gives_the_same_batch() -> None:
    def fixed(size: int) -> bytes:
        return b"\x07" * size

    one = wrap_batch(certificates(3), signing_key=KEY, domain=DOMAIN, random_bytes=fixed)  # type: ignore[arg-type]
    two = wrap_batch(certificates(3), signing_key=KEY, domain=DOMAIN, random_bytes=fixed)  # type: ignore[arg-type]
    assert one.anchor == two.anchor
    assert one.signature == two.signature


def test_manifest_lists_every_target_hash_with_its_file() -> None:
    batch = wrap_batch(certificates(3), signing_key=KEY, domain=DOMAIN)  # type: ignore[arg-type]
    manifest = batch.manifest(["a.wrapped.json", "b.wrapped.json", "c.wrapped.json"])
    assert manifest["version"] == BATCH_MANIFEST_VERSION
    assert manifest["root"] == "0x" + batch.anchor.root.hex()
    assert manifest["signer"] == address_of(KEY)
    assert [entry["targetHash"] for entry in manifest["documents"]] == [  # type: ignore[index,union-attr]
        "0x" + target.hex() for target in batch.target_hashes()
    ]
    assert manifest["documents"][2]["file"] == "c.wrapped.json"  # type: ignore[index,call-overload]


def test_each_document_carries_its_own_terms_and_they_cannot_be_swapped() -> None:
    """Per-document addressees: the terms committed beside a document's leaf are its own, and
    a wrapped document claiming other terms fails its integrity check (proof-invalid)."""
    first = sample_certificate_of_origin(1)
    second = {**sample_certificate_of_origin(2), "importingCountry": "SG"}
    builder = BatchBuilder()
    builder.add(validate_document(first))
    builder.add(validate_document(second), allowance=4)
    one, two = builder.sign(signing_key=KEY, domain=DOMAIN)
    assert one.batch.terms is not None
    assert two.batch.terms is not None
    assert (two.batch.terms.addressees, two.batch.terms.allowance) == (("SG",), 4)
    assert one.batch.terms.addressees != two.batch.terms.addressees
    as_json = json.loads(json.dumps(one.to_json()))
    assert WrappedDocument.from_json(as_json) == one
    as_json["batch"]["terms"] = {"addressees": ["SG"], "allowance": 4}
    swapped = WrappedDocument.from_json(as_json)
    integrity = verify_offline(swapped, DOMAIN).check("integrity")
    assert integrity.status is CheckStatus.INVALID
    assert integrity.code == CheckCode.PROOF_INVALID
