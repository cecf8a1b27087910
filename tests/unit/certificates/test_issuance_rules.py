"""Rules checked before a node accepts a document: addressees, issue date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from certificates import validate_document
from certificates.issuance_rules import (
    ISSUE_DATE_TOLERANCE,
    IssueDateInFuture,
    NoAddressees,
    check_anchorable,
)
from certificates.schemas.samples import sample_document

TYPES = ("coo/1", "permit/1", "declaration/1")


@pytest.mark.parametrize("type_id", TYPES)
@pytest.mark.parametrize("index", [1, 2, 3, 4])
def test_every_sample_is_anchorable(type_id: str, index: int) -> None:
    document = validate_document(sample_document(type_id, index))
    check_anchorable(document, document.issued_on())


@pytest.mark.parametrize("type_id", ["permit/1", "declaration/1"])
def test_a_document_without_addressees_is_refused(type_id: str) -> None:
    value = sample_document(type_id, 2)
    del value["addresseeCountries"]
    document = validate_document(value)

    with pytest.raises(NoAddressees) as raised:
        check_anchorable(document, document.issued_on())
    assert raised.value.path == "/addresseeCountries"


@pytest.mark.parametrize("type_id", TYPES)
def test_an_issue_date_past_the_tolerance_is_refused(type_id: str) -> None:
    document = validate_document(sample_document(type_id, 1))
    issued = document.issued_on()

    check_anchorable(document, issued - ISSUE_DATE_TOLERANCE)  # tomorrow in UTC+14
    with pytest.raises(IssueDateInFuture) as raised:
        check_anchorable(document, issued - ISSUE_DATE_TOLERANCE - timedelta(days=1))
    assert raised.value.path == "/issueDate"
    assert raised.value.code == "issue-date-in-future"


def test_a_permit_signs_its_validity_and_a_certificate_none() -> None:
    permit = validate_document(sample_document("permit/1", 1))
    assert isinstance(permit.valid_until(), date)
    assert validate_document(sample_document("coo/1", 1)).valid_until() is None
