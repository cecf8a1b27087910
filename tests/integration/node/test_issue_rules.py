"""Nothing that could fail to anchor is accepted: refused before the 202, nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from certificates.schemas.samples import sample_document

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration


def _pending(node: NodeUnderTest) -> int:
    return node.services.outbox.pending_count()


def test_a_permit_without_addressees_is_refused_and_nothing_stored(node: NodeUnderTest) -> None:
    permit = sample_document("permit/1", 2)
    del permit["addresseeCountries"]
    before = _pending(node)

    response = node.issue(permit, user="permit-issuer")

    assert response.status_code == 422
    assert response.json()["code"] == "no-addressees"
    assert response.json()["path"] == "/addresseeCountries"
    assert _pending(node) == before


def test_a_future_issue_date_is_refused_naming_the_latest_accepted(node: NodeUnderTest) -> None:
    document = sample_document("coo/1", 1)
    document["issueDate"] = (datetime.now(UTC).date() + timedelta(days=400)).isoformat()

    response = node.issue([sample_document("coo/1", 2), document])

    assert response.status_code == 422
    assert response.json()["code"] == "issue-date-in-future"
    assert response.json()["path"] == "/1/issueDate"
    assert _pending(node) == 0


def test_the_samples_the_pages_offer_are_accepted(node: NodeUnderTest) -> None:
    samples = node.client.get("/web/samples.json").json()
    for type_id, user in (("coo/1", "issuer"), ("permit/1", "permit-issuer")):
        response = node.issue(samples[type_id], user=user)
        assert response.status_code == 202, (type_id, response.text)


@pytest.mark.both_databases  # document_numbers
def test_a_certificate_number_is_issued_once_and_the_second_names_the_first(
    node: NodeUnderTest,
) -> None:
    first = node.issue(sample_document("coo/1", 7))
    assert first.status_code == 202
    first_id = first.json()["receipts"][0]["id"]
    again = sample_document("coo/1", 8)
    again["certificateNumber"] = sample_document("coo/1", 7)["certificateNumber"]
    before = _pending(node)

    response = node.issue([sample_document("coo/1", 9), again])

    assert response.status_code == 409
    assert response.json()["code"] == "document-number-taken"
    assert response.json()["firstReceipt"] == first_id
    assert first_id in response.json()["detail"]
    assert _pending(node) == before  # the whole request stored nothing
    # the other document of the refused request keeps its number free
    assert node.issue(sample_document("coo/1", 9)).status_code == 202


@pytest.mark.both_databases  # document_numbers
def test_two_documents_with_one_number_in_one_request_are_refused(node: NodeUnderTest) -> None:
    response = node.issue([sample_document("coo/1", 11), sample_document("coo/1", 11)])
    assert response.status_code == 409
    assert response.json()["code"] == "document-number-taken"
    assert _pending(node) == 0
