"""Document schemas: what a valid document is, and where an invalid one is wrong."""

from __future__ import annotations

import copy
import dataclasses
import json
import unicodedata
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certificates import errors
from certificates.json_types import JsonObject, JsonValue
from certificates.schemas import (
    DOCUMENT_TYPES,
    CertificateOfOrigin,
    Declaration,
    Permit,
    document_json_schema,
    parse_document,
    validate_document,
)
from certificates.schemas.samples import (
    MAX_SAMPLE_ITEMS,
    sample_certificate_of_origin,
    sample_certificate_of_origin_v2,
    sample_declaration,
    sample_document,
    sample_permit,
    sample_permit_in_force,
)
from certificates.strict_json import json_pointer

TYPE_IDS = ("coo/1", "permit/1", "declaration/1", "coo/2")
SAMPLERS: dict[str, Callable[..., JsonObject]] = {
    "coo/1": sample_certificate_of_origin,
    "coo/2": sample_certificate_of_origin_v2,
    "permit/1": sample_permit,
    "declaration/1": sample_declaration,
}
#: Fields a document may omit (the rest are required wherever their object appears).
OPTIONAL_FIELDS = frozenset(
    {
        "producer",
        "remarks",
        "backToBack",
        "thirdPartyInvoicing",
        "issuedRetroactively",
        "marksAndPackages",
        "grossWeight",
        "identifier",
        "unLocode",
        "conditions",
        "addresseeCountries",
        "references",
        "targetHash",
        # coo/2
        "consignee",
        "modeCode",
        "packages",
        "thirdPartyOperator",
        "exhibition",
        "deMinimis",
        "accumulation",
        "partialCumulation",
    }
)


def rich_sample(type_id: str) -> JsonObject:
    """A sample that has every optional field, so that every field can be removed."""
    document = SAMPLERS[type_id](12, items=2)  # index 12: producer, remarks-free, ...
    if type_id in ("coo/1", "coo/2"):
        document["remarks"] = "Consolidated shipment."
    if type_id == "coo/2":
        document["consignee"] = {
            "name": "Consignee Co.",
            "address": "1 Harbour Rd",
            "country": "SG",
        }
    if type_id == "declaration/1":
        document["addresseeCountries"] = ["VN"]
        document = replaced(document, "/references/0/targetHash", "0x" + "ab" * 32)
    if type_id == "permit/1":
        document["addresseeCountries"] = ["SG", "TH"]
    return document


def object_fields(value: JsonValue, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Paths of every object member in ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from object_fields(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from object_fields(item, (*path, str(index)))


def without(document: JsonObject, path: tuple[str, ...]) -> JsonObject:
    changed = copy.deepcopy(document)
    parent: Any = changed
    for segment in path[:-1]:
        parent = parent[int(segment)] if isinstance(parent, list) else parent[segment]
    del parent[path[-1]]
    return changed


def replaced(document: JsonObject, pointer: str, value: Any) -> Any:
    """A deep copy of ``document`` with the value at ``pointer`` set (typed loosely)."""
    changed = copy.deepcopy(document)
    segments = pointer.split("/")[1:]
    parent: Any = changed
    for segment in segments[:-1]:
        parent = parent[int(segment)] if isinstance(parent, list) else parent[segment]
    if isinstance(parent, list):
        parent[int(segments[-1])] = value
    else:
        parent[segments[-1]] = value
    return changed


def violation(document: JsonObject) -> errors.SchemaViolation:
    with pytest.raises(errors.SchemaViolation) as caught:
        validate_document(document)
    return caught.value


# --- valid documents --------------------------------------------------------------------
@pytest.mark.parametrize("type_id", TYPE_IDS)
@pytest.mark.parametrize("items", [1, 5, 20])
def test_samples_are_valid_and_already_in_their_hashed_form(type_id: str, items: int) -> None:
    for index in range(12):
        sample = sample_document(type_id, index, items=items)
        validated = validate_document(sample)
        assert validated.type_id == type_id
        assert isinstance(validated.model, DOCUMENT_TYPES[type_id])
        assert validated.data == sample


@given(
    type_id=st.sampled_from(TYPE_IDS),
    index=st.integers(min_value=0, max_value=10**7),
    items=st.integers(min_value=1, max_value=25),
)
def test_any_sample_is_valid_and_round_trips(type_id: str, index: int, items: int) -> None:
    sample = sample_document(type_id, index, items=items)
    validated = validate_document(sample)
    assert validated.data == sample
    assert validate_document(validated.data).data == validated.data
    assert parse_document(json.dumps(sample, ensure_ascii=False)).data == sample


@given(
    type_id=st.sampled_from(TYPE_IDS),
    indices=st.lists(
        st.integers(min_value=0, max_value=10**6), min_size=2, max_size=2, unique=True
    ),
)
def test_samples_are_deterministic_and_numbered_by_index(type_id: str, indices: list[int]) -> None:
    first, second = (sample_document(type_id, index) for index in indices)
    assert sample_document(type_id, indices[0]) == first
    first_number = validate_document(first).model.document_number()
    assert first_number != validate_document(second).model.document_number()


@pytest.mark.parametrize("items", [0, MAX_SAMPLE_ITEMS + 1])
def test_samples_refuse_item_counts_the_schemas_would_reject(items: int) -> None:
    with pytest.raises(ValueError, match="items"):
        sample_certificate_of_origin(0, items=items)


def test_samples_contain_non_ascii_nfc_text() -> None:
    text = json.dumps(sample_certificate_of_origin(0), ensure_ascii=False)
    assert not text.isascii()
    assert unicodedata.is_normalized("NFC", text)


def test_omitted_defaults_are_filled_in_the_hashed_data() -> None:
    document = sample_certificate_of_origin(1)
    for flag in ("backToBack", "thirdPartyInvoicing", "issuedRetroactively"):
        del document[flag]
    data = validate_document(document).data
    assert data["backToBack"] is False
    assert data["issuedRetroactively"] is False


def test_validated_document_is_frozen() -> None:
    validated = validate_document(sample_permit(1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        validated.type_id = "coo/1"  # type: ignore[misc]


# --- the model's answers ----------------------------------------------------------------
def test_certificate_of_origin_is_addressed_to_its_importing_country() -> None:
    document = sample_certificate_of_origin(2)
    model = validate_document(document).model
    assert isinstance(model, CertificateOfOrigin)
    assert model.document_number() == document["certificateNumber"]
    assert model.issuer_country() == "VN"
    assert model.addressee_countries() == (document["importingCountry"],)


def test_validated_document_answers_for_its_model() -> None:
    validated = validate_document(sample_permit(5))
    assert validated.addressee_countries() == validated.model.addressee_countries() == ("MY",)
    assert validated.issuer_country() == "VN"
    assert validated.document_number() == "000005/GP-BNNMT"


def test_permit_addressees_are_sorted_and_optional() -> None:
    document = sample_permit(4)
    document["addresseeCountries"] = ["TH", "SG", "KR"]
    model = validate_document(document).model
    assert isinstance(model, Permit)
    assert model.addressee_countries() == ("KR", "SG", "TH")
    assert model.issuer_country() == "VN"
    del document["addresseeCountries"]
    assert validate_document(document).model.addressee_countries() == ()


def test_declaration_issuer_is_its_customs_office_country() -> None:
    document = sample_declaration(4)  # an import declaration shared back with VN
    model = validate_document(document).model
    assert isinstance(model, Declaration)
    office: Any = document["customsOffice"]
    assert model.issuer_country() == office["country"] == "JP"
    assert model.document_number() == document["declarationNumber"]
    assert model.addressee_countries() == ("VN",)


# --- missing, extra and mistyped fields -------------------------------------------------
@pytest.mark.parametrize("type_id", TYPE_IDS)
def test_every_required_field_missing_is_reported_at_its_path(type_id: str) -> None:
    document = rich_sample(type_id)
    validate_document(document)
    for path in object_fields(document):
        if path == ("documentType",):
            continue
        changed = without(document, path)
        if path[-1] in OPTIONAL_FIELDS:
            validate_document(changed)
        else:
            error = violation(changed)
            assert error.path == json_pointer(path), path
            assert error.errors[0] == (json_pointer(path), "Field required")


def test_missing_document_type_is_an_unknown_document_type() -> None:
    document = sample_permit(0)
    del document["documentType"]
    with pytest.raises(errors.UnknownDocumentType) as caught:
        validate_document(document)
    assert caught.value.path == "/documentType"
    assert all(type_id in caught.value.message for type_id in TYPE_IDS)


@pytest.mark.parametrize("type_value", ["coo/99", "COO/1", "", 1, None, ["coo/1"]])
def test_unknown_document_type_lists_the_known_types(type_value: JsonValue) -> None:
    document = sample_certificate_of_origin(0)
    document["documentType"] = type_value
    with pytest.raises(errors.UnknownDocumentType) as caught:
        validate_document(document)
    assert caught.value.path == "/documentType"
    assert "coo/1, permit/1, declaration/1" in caught.value.message


@pytest.mark.parametrize("value", [[], "coo/1", None, 1])
def test_a_document_is_a_json_object(value: JsonValue) -> None:
    with pytest.raises(errors.InvalidDocument) as caught:
        validate_document(value)
    assert caught.value.path == ""


@pytest.mark.parametrize(
    ("type_id", "pointer"),
    [
        ("coo/1", "/comment"),
        ("coo/1", "/exporter/email"),
        ("coo/1", "/items/1/hsCodeNational"),
        ("permit/1", "/validity/graceDays"),
        ("declaration/1", "/references/0/url"),
    ],
)
def test_extra_fields_are_rejected_at_their_path(type_id: str, pointer: str) -> None:
    error = violation(replaced(SAMPLERS[type_id](0, items=2), pointer, "x"))
    assert error.path == pointer
    assert error.code == "invalid-document"


@pytest.mark.parametrize(
    ("type_id", "pointer", "value"),
    [
        ("coo/1", "/items/0/itemNumber", "1"),
        ("coo/1", "/items/0/itemNumber", True),
        ("coo/1", "/items/0/itemNumber", 0),
        ("coo/1", "/backToBack", 1),
        ("coo/1", "/backToBack", "true"),
        ("coo/1", "/items/0/quantity/value", 100),
        ("coo/1", "/items/0/fobValue/amount", 12),
        ("coo/1", "/issueDate", 20240105),
        ("coo/1", "/exporter", "Công ty TNHH"),
        ("coo/1", "/items", {"0": {}}),
        ("permit/1", "/conditions", "none"),
        ("permit/1", "/kind", "transit"),
        ("declaration/1", "/kind", "IMPORT"),
        ("declaration/1", "/references", {}),
    ],
)
def test_wrong_types_are_not_coerced(type_id: str, pointer: str, value: JsonValue) -> None:
    assert violation(replaced(SAMPLERS[type_id](0), pointer, value)).path == pointer


@pytest.mark.parametrize(
    ("type_id", "pointer"),
    [
        ("coo/1", "/producer"),
        ("coo/1", "/remarks"),
        ("coo/1", "/exporter/identifier"),
        ("coo/1", "/items/0/grossWeight"),
        ("permit/1", "/addresseeCountries"),
        ("declaration/1", "/references/0/targetHash"),
    ],
)
def test_optional_fields_are_omitted_never_null(type_id: str, pointer: str) -> None:
    error = violation(replaced(SAMPLERS[type_id](0), pointer, None))
    assert error.path == pointer
    assert "omit the field" in error.message


def test_every_violation_is_listed() -> None:
    document = sample_certificate_of_origin(0)
    document["importingCountry"] = "vn"
    del document["exporter"]
    error = violation(document)
    assert {path for path, _ in error.errors} == {"/exporter", "/importingCountry"}
    assert "1 more" in error.message


# --- value types ------------------------------------------------------------------------
HS_CODES_VALID = [
    "090111",
    "0901.11",
    "0901.11.10",
    "09011110",
    "0901.11.1",
    "0901111000",
    "9999.99",
]
HS_CODES_INVALID = [
    "0901",
    "09011",
    "0001.11",
    "0901.11.10.123",
    "09011110001",
    "ABCD.EF",
    "0901..11",
    "0901.11.",
    " 0901.11",
    "0901-11",
    "",
]


@pytest.mark.parametrize("hs_code", HS_CODES_VALID)
def test_hs_codes_of_six_to_ten_digits_are_accepted(hs_code: str) -> None:
    validate_document(replaced(sample_certificate_of_origin(0), "/items/0/hsCode", hs_code))


@pytest.mark.parametrize("hs_code", HS_CODES_INVALID)
def test_malformed_hs_codes_are_rejected(hs_code: str) -> None:
    document = replaced(sample_declaration(1), "/items/0/hsCode", hs_code)
    assert violation(document).path == "/items/0/hsCode"


@pytest.mark.parametrize("country", ["vn", "XX", "UK", "VNM", "V", "", "ZZ"])
def test_unassigned_or_malformed_country_codes_are_rejected(country: str) -> None:
    document = replaced(sample_certificate_of_origin(0), "/exporter/country", country)
    assert violation(document).path == "/exporter/country"


@pytest.mark.parametrize("currency", ["usd", "XXX", "ABC", "US", "USDT", "XAU"])
def test_unknown_or_non_circulating_currencies_are_rejected(currency: str) -> None:
    document = replaced(sample_certificate_of_origin(0), "/items/0/fobValue/currency", currency)
    assert violation(document).path == "/items/0/fobValue/currency"


@pytest.mark.parametrize("amount", ["0", "0.5", "12500.50", "1.2345", "999999999999999.9999"])
def test_money_amounts_are_plain_decimal_strings(amount: str) -> None:
    validate_document(replaced(sample_certificate_of_origin(0), "/items/0/fobValue/amount", amount))


@pytest.mark.parametrize(
    "amount",
    ["1,000", "1e3", "01", "-5", "+5", " 5", "5 ", "1.", ".5", "1.23456", "1" * 16, "NaN", ""],
)
def test_malformed_money_amounts_are_rejected(amount: str) -> None:
    document = replaced(sample_certificate_of_origin(0), "/items/0/fobValue/amount", amount)
    assert violation(document).path == "/items/0/fobValue/amount"


@pytest.mark.parametrize("quantity", ["1", "0.000001", "0.5", "19.2", "100000.123456"])
def test_positive_quantities_are_accepted(quantity: str) -> None:
    validate_document(replaced(sample_permit(0), "/goods/0/quantity/value", quantity))


@pytest.mark.parametrize("quantity", ["0", "0.0", "0.000000", "0.0000001", "1.1234567", "-1"])
def test_zero_negative_or_too_precise_quantities_are_rejected(quantity: str) -> None:
    document = replaced(sample_permit(0), "/goods/0/quantity/value", quantity)
    assert violation(document).path == "/goods/0/quantity/value"


@pytest.mark.parametrize("value", ["2024-02-30", "2024-1-05", "20240105", "2024-01-05T00:00:00"])
def test_dates_are_calendar_dates_in_iso_form(value: str) -> None:
    document = replaced(sample_permit(0), "/issueDate", value)
    assert violation(document).path == "/issueDate"


@pytest.mark.parametrize(
    ("pointer", "text"),
    [
        ("/holder/name", " leading space"),
        ("/holder/name", "trailing space "),
        ("/holder/name", "two\nlines"),
        ("/holder/name", ""),
        ("/holder/name", "x" * 201),
        ("/holder/address", "carriage\r\nreturn"),
        ("/holder/address", "nul\u0000byte"),
        ("/holder/address", "C1\u0085control"),
        ("/conditions/0", "x" * 2001),
        ("/permitNumber", "no#hash"),
    ],
)
def test_text_without_controls_or_edge_spaces_within_limits(pointer: str, text: str) -> None:
    assert violation(replaced(sample_permit(2), pointer, text)).path == pointer


def test_multi_line_text_keeps_its_line_feeds() -> None:
    document = replaced(sample_permit(2), "/holder/address", "Line 1\nLine 2")
    data: Any = validate_document(document).data
    assert data["holder"]["address"] == "Line 1\nLine 2"


@pytest.mark.parametrize(
    "target_hash",
    ["0x" + "AB" * 32, "ab" * 32, "0x" + "ab" * 31, "0x" + "ab" * 33, "0x" + "gg" * 32],
)
def test_target_hash_references_are_lower_case_0x_and_64_hex(target_hash: str) -> None:
    document = replaced(sample_declaration(1), "/references/0/targetHash", target_hash)
    assert violation(document).path == "/references/0/targetHash"


def test_lists_are_bounded() -> None:
    document = sample_permit(0, items=1)
    document["goods"] = document["goods"] * 201  # type: ignore[operator]
    assert violation(document).path == "/goods"


# --- cross-field rules ------------------------------------------------------------------
def test_permit_validity_may_not_end_before_it_starts() -> None:
    document = sample_permit(0)
    document["validity"] = {"validFrom": "2024-03-01", "validUntil": "2024-02-29"}
    assert violation(document).path == "/validity/validUntil"
    document["validity"] = {"validFrom": "2024-03-01", "validUntil": "2024-03-01"}
    validate_document(document)


def test_certificate_of_origin_importing_country_differs_from_issuer() -> None:
    document = replaced(sample_certificate_of_origin(0), "/importingCountry", "VN")
    assert violation(document).path == "/importingCountry"


@pytest.mark.parametrize("sampler", [sample_certificate_of_origin, sample_declaration])
def test_item_numbers_are_distinct(sampler: Callable[..., JsonObject]) -> None:
    document = replaced(sampler(0, items=3), "/items/2/itemNumber", 1)
    assert violation(document).path == "/items"


def test_addressee_countries_are_distinct() -> None:
    document = replaced(sample_permit(1), "/addresseeCountries", ["SG", "TH", "SG"])
    assert violation(document).path == "/addresseeCountries"


# --- strict parsing + validation --------------------------------------------------------
def test_parse_document_rejects_non_nfc_text_at_its_path() -> None:
    document = sample_certificate_of_origin(0)
    document = replaced(document, "/exporter/name", unicodedata.normalize("NFD", "Cà phê Tây"))
    with pytest.raises(errors.NotNfc) as caught:
        parse_document(json.dumps(document, ensure_ascii=False))
    assert caught.value.path == "/exporter/name"


def test_parse_document_rejects_numbers_where_decimal_strings_belong() -> None:
    raw = json.dumps(sample_certificate_of_origin(0)).replace('"unit": "KGM"', '"unit": 1.5', 1)
    with pytest.raises(errors.NonIntegerNumber):
        parse_document(raw)


def test_parse_document_honours_its_size_limit() -> None:
    raw = json.dumps(sample_certificate_of_origin(0, items=20)).encode()
    with pytest.raises(errors.InputTooLarge):
        parse_document(raw, max_bytes=len(raw) - 1)
    assert parse_document(raw, max_bytes=len(raw)).type_id == "coo/1"


# --- JSON Schema ------------------------------------------------------------------------
def all_objects(schema: JsonValue) -> Iterator[dict[str, JsonValue]]:
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            yield schema
        for value in schema.values():
            yield from all_objects(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from all_objects(value)


@pytest.mark.parametrize("type_id", TYPE_IDS)
def test_json_schema_is_json_naming_its_type_and_closed(type_id: str) -> None:
    schema = document_json_schema(type_id)
    assert json.loads(json.dumps(schema)) == schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    properties = schema["properties"]
    assert isinstance(properties, dict)
    assert properties["documentType"] == {
        "const": type_id,
        "title": "Document type",
        "type": "string",
    }
    objects = list(all_objects(schema))
    assert len(objects) > 3
    assert all(obj.get("additionalProperties") is False for obj in objects)


@pytest.mark.parametrize("type_id", TYPE_IDS)
def test_json_schema_says_optional_fields_are_never_null(type_id: str) -> None:
    text = json.dumps(document_json_schema(type_id))
    assert '"null"' not in text
    assert '"default": null' not in text


def test_json_schema_is_a_fresh_object_per_call() -> None:
    schema = document_json_schema("permit/1")
    schema["properties"] = {}
    assert document_json_schema("permit/1")["properties"] != {}


def test_json_schema_covers_every_document_type() -> None:
    assert set(DOCUMENT_TYPES) == set(TYPE_IDS)
    with pytest.raises(errors.UnknownDocumentType, match="coo/1, permit/1, declaration/1"):
        document_json_schema("invoice/1")


def test_a_permit_in_force_is_valid_from_yesterday_for_ninety_days() -> None:
    today = date(2026, 12, 5)
    permit = validate_document(sample_permit_in_force(3, today, ["KR", "SG"]))
    data = permit.data
    assert data["issueDate"] == "2026-12-04"
    assert data["validity"] == {"validFrom": "2026-12-04", "validUntil": "2027-03-05"}
    assert data["addresseeCountries"] == ["KR", "SG"]
