"""Facts the issuer signed, read from a document's revealed data."""

from __future__ import annotations

from datetime import date

from certificates.schemas.samples import sample_document
from certificates.schemas.signed_facts import (
    signed_addressees,
    signed_issuer_country,
    signed_valid_until,
)


def test_each_type_states_its_issuing_country_and_addressees() -> None:
    coo = sample_document("coo/1", 1)
    permit = sample_document("permit/1", 1)
    declaration = sample_document("declaration/1", 2)
    assert signed_issuer_country("coo/1", coo) == "VN"
    assert signed_addressees("coo/1", coo) == (coo["importingCountry"],)
    assert signed_addressees("permit/1", permit) == tuple(permit["addresseeCountries"])  # type: ignore[arg-type]
    assert (
        signed_issuer_country("declaration/1", declaration)
        == declaration["customsOffice"][  # type: ignore[index]
            "country"
        ]
    )


def test_a_concealed_fact_is_unknown_not_empty() -> None:
    permit = sample_document("permit/1", 1)
    shown = {key: value for key, value in permit.items() if key != "addresseeCountries"}
    assert signed_addressees("permit/1", shown) == ()
    assert signed_addressees("permit/1", shown, ["/addresseeCountries/0"]) is None
    assert signed_issuer_country("permit/1", permit, ["/issuingMinistry"]) is None
    assert signed_valid_until("permit/1", permit, ["/validity/validUntil"]) is None


def test_only_a_permit_signs_an_end_of_validity() -> None:
    permit = sample_document("permit/1", 1)
    assert signed_valid_until("permit/1", permit) == date.fromisoformat(
        permit["validity"]["validUntil"]  # type: ignore[index, call-overload]
    )
    assert signed_valid_until("coo/1", sample_document("coo/1", 1)) is None
    assert signed_issuer_country("unknown/1", {}) is None
