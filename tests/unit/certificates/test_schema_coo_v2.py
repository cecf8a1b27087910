"""``coo/2`` adds what ATIGA Form D and UN/CEFACT need; ``coo/1`` stays exactly as it was."""

from __future__ import annotations

import json

import pytest

from certificates import errors
from certificates.json_types import JsonObject
from certificates.offline_checks import verify_offline_json
from certificates.schemas import CertificateOfOrigin, CertificateOfOriginV2, validate_document
from certificates.schemas.samples import (
    sample_certificate_of_origin,
    sample_certificate_of_origin_v2,
)
from certificates.signing import Eip712Domain
from certificates.wrapping import wrap_batch

KEY = bytes(range(1, 33))
DOMAIN = Eip712Domain(
    chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3"
)


def test_coo_1_documents_still_validate_and_verify_as_coo_1() -> None:
    documents = [validate_document(sample_certificate_of_origin(i, items=2)) for i in range(3)]
    assert all(isinstance(document.model, CertificateOfOrigin) for document in documents)
    for wrapped in wrap_batch(documents, signing_key=KEY, domain=DOMAIN):
        verdict, _ = verify_offline_json(json.loads(json.dumps(wrapped.to_json())), DOMAIN)
        assert verdict.valid
        assert wrapped.document_type == "coo/1"


def test_coo_2_carries_origin_country_packages_and_box_13_marks() -> None:
    validated = validate_document(sample_certificate_of_origin_v2(3))
    assert isinstance(validated.model, CertificateOfOriginV2)
    item = validated.model.items[0]
    assert item.origin_country == "VN"
    assert item.packages is not None
    assert item.packages.kind_code == "CT"
    assert validated.model.third_party_operator is not None  # index 3 is third-party invoiced
    assert validated.data["deMinimis"] is False
    assert validated.addressee_countries() == (validated.data["importingCountry"],)


def test_coo_2_requires_the_origin_country_of_every_item() -> None:
    document = sample_certificate_of_origin_v2(1)
    items = document["items"]
    assert isinstance(items, list)
    assert isinstance(items[1], dict)
    del items[1]["originCountry"]
    with pytest.raises(errors.SchemaViolation) as caught:
        validate_document(document)
    assert caught.value.path == "/items/1/originCountry"


@pytest.mark.parametrize(
    ("invoicing", "operator", "words"),
    [
        (True, None, "thirdPartyOperator is required"),
        (False, {"name": "X Pte. Ltd.", "country": "SG"}, "thirdPartyInvoicing is false"),
    ],
)
def test_the_third_party_operator_goes_with_third_party_invoicing(
    invoicing: bool, operator: JsonObject | None, words: str
) -> None:
    document = sample_certificate_of_origin_v2(1)
    document.pop("thirdPartyOperator", None)
    document["thirdPartyInvoicing"] = invoicing
    if operator is not None:
        document["thirdPartyOperator"] = operator
    with pytest.raises(errors.SchemaViolation, match=words):
        validate_document(document)


def test_a_coo_1_document_is_not_a_coo_2_one() -> None:
    document = sample_certificate_of_origin(2)
    document["documentType"] = "coo/2"
    with pytest.raises(errors.SchemaViolation) as caught:
        validate_document(document)
    assert any(path.endswith("/originCountry") for path, _ in caught.value.errors)


def test_coo_2_signs_its_issuer_country_addressee_and_issue_date_like_coo_1() -> None:
    from datetime import date

    from certificates.schemas import DOCUMENT_TYPES
    from certificates.schemas.signed_facts import signed_addressees, signed_issuer_country

    document = sample_certificate_of_origin_v2(5)
    assert signed_issuer_country("coo/2", document) == "VN"
    assert signed_addressees("coo/2", document) == (document["importingCountry"],)
    assert signed_addressees("coo/2", document, concealed=["/importingCountry"]) is None
    del document["importingCountry"]
    assert signed_addressees("coo/2", document) is None  # required: absent is not "none"
    validated = validate_document(sample_certificate_of_origin_v2(5))
    assert validated.issued_on() == date.fromisoformat(str(validated.data["issueDate"]))
    for type_id in DOCUMENT_TYPES:  # every type states its issuer country
        assert signed_issuer_country(type_id, validate_document_sample(type_id)) is not None


def validate_document_sample(type_id: str) -> JsonObject:
    from certificates.schemas.samples import sample_document

    return validate_document(sample_document(type_id, 2)).data
