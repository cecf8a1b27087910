"""The standards mapping covers every field of every type, and docs/standards.md shows it."""

from __future__ import annotations

from pathlib import Path

import pytest

from certificates.schemas import DOCUMENT_TYPES
from certificates.schemas.samples import sample_document
from certificates.schemas.standards import (
    FIELD_MAPPINGS,
    UnmappedField,
    credential_path,
    field_mapping,
    iter_leaves,
    mapping_table_markdown,
)

DOCS = Path(__file__).resolve().parents[3] / "docs" / "standards.md"


def test_every_document_type_has_a_mapping() -> None:
    assert set(FIELD_MAPPINGS) == set(DOCUMENT_TYPES)


@pytest.mark.parametrize("type_id", sorted(FIELD_MAPPINGS))
def test_every_field_of_the_samples_has_a_row_and_a_place_of_its_own(type_id: str) -> None:
    placed: dict[str, str] = {}
    for index in range(40):
        for path, _ in iter_leaves(sample_document(type_id, index, items=3)):
            row, indexes = field_mapping(type_id, path)
            target = credential_path(row, indexes)
            assert placed.setdefault(target, path) == path, (target, path)


@pytest.mark.parametrize("type_id", sorted(FIELD_MAPPINGS))
def test_rows_are_distinct(type_id: str) -> None:
    rows = FIELD_MAPPINGS[type_id]
    assert len({row.path for row in rows}) == len(rows)
    assert len({row.credential for row in rows}) == len(rows)


def test_an_unknown_field_is_reported() -> None:
    with pytest.raises(UnmappedField, match="/surprise"):
        field_mapping("coo/1", "/surprise")


def test_the_form_d_fields_coo_1_lacked_are_mapped_in_coo_2() -> None:
    coo_2 = {row.path: row for row in FIELD_MAPPINGS["coo/2"]}
    assert coo_2["/items/*/originCountry"].form_d == "Box 11: goods produced in"
    assert coo_2["/items/*/originCountry"].wco == "Origin.CountryCode"
    assert "/items/*/originCountry" not in {row.path for row in FIELD_MAPPINGS["coo/1"]}


@pytest.mark.parametrize("type_id", sorted(FIELD_MAPPINGS))
def test_docs_show_the_mapping_as_the_code_has_it(type_id: str) -> None:
    assert mapping_table_markdown(type_id) in DOCS.read_text(encoding="utf-8"), (
        f"docs/standards.md is out of date for {type_id}: regenerate its tables with "
        "certificates.schemas.standards.mapping_table_markdown"
    )
