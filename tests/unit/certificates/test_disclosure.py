"""Salted field hashes: concealment keeps the target hash; concealed values cannot be guessed."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certificates.canonical import NotCanonicalisable
from certificates.disclosure import (
    SALT_SIZE,
    DisclosureError,
    SaltedDocument,
    field_hash,
    iter_fields,
    target_hash,
)
from certificates.json_types import JsonObject

DOCUMENT: JsonObject = {
    "documentType": "coo/1",
    "certificateNumber": "VN-2026-000001",
    "importer": {"name": "Busan Foods", "address": "12 Haeundae-ro", "country": "KR"},
    "items": [
        {"hsCode": "0901.11", "quantity": "1200.5", "fobValue": "18000.00"},
        {"hsCode": "0902.10", "quantity": "30", "fobValue": "900.00"},
    ],
    "remarks": None,
    "flags": {"backToBack": False, "retroactive": True},
    "attachments": [],
}


def counter_bytes() -> object:
    counter = itertools.count()
    return lambda size: bytes(next(counter) % 256 for _ in range(size))


def test_fields_are_the_leaves_with_json_pointer_paths() -> None:
    fields = dict(iter_fields({"a/b": {"c~d": [1, {}]}, "e": []}))
    assert fields == {"/a~1b/c~0d/0": 1, "/a~1b/c~0d/1": {}, "/e": []}


def test_every_field_gets_its_own_fresh_128_bit_salt() -> None:
    salted = SaltedDocument.salt(DOCUMENT)
    assert set(salted.salts) == {path for path, _ in iter_fields(DOCUMENT)}
    assert all(len(salt) == SALT_SIZE == 16 for salt in salted.salts.values())
    assert len(set(salted.salts.values())) == len(salted.salts)
    again = SaltedDocument.salt(DOCUMENT)
    assert again.target_hash() != salted.target_hash()


@pytest.mark.parametrize(
    "paths",
    [
        ["/importer/address"],
        ["/importer"],
        ["/items/0"],
        ["/items/1/fobValue", "/remarks"],
        ["/items"],
        ["/attachments", "/flags/retroactive"],
    ],
)
def test_concealed_field_keeps_target_hash(paths: list[str]) -> None:
    salted = SaltedDocument.salt(DOCUMENT)
    concealed = salted.conceal(paths)
    assert concealed.target_hash() == salted.target_hash()
    for path in paths:
        assert not any(shown == path or shown.startswith(path + "/") for shown in concealed.salts)


def test_concealed_array_element_leaves_a_placeholder_so_later_paths_hold() -> None:
    concealed = SaltedDocument.salt(DOCUMENT).conceal(["/items/0"])
    assert concealed.data["items"][0] is None  # type: ignore[index]
    assert concealed.data["items"][1]["hsCode"] == "0902.10"  # type: ignore[index]
    assert "/items/1/hsCode" in concealed.salts


def test_concealing_twice_is_harmless_and_the_original_is_untouched() -> None:
    salted = SaltedDocument.salt(DOCUMENT)
    once = salted.conceal(["/importer/address"])
    twice = once.conceal(["/importer"])
    assert twice.target_hash() == salted.target_hash()
    assert salted.data["importer"]["address"] == "12 Haeundae-ro"  # type: ignore[index]


def test_document_type_cannot_be_concealed() -> None:
    with pytest.raises(DisclosureError):
        SaltedDocument.salt(DOCUMENT).conceal(["/documentType"])
    with pytest.raises(DisclosureError):
        SaltedDocument.salt(DOCUMENT).conceal([""])


def test_concealing_a_missing_field_is_an_error_naming_it() -> None:
    with pytest.raises(DisclosureError) as caught:
        SaltedDocument.salt(DOCUMENT).conceal(["/importer/phone"])
    assert caught.value.path == "/importer/phone"


def test_a_value_without_a_salt_or_a_stray_salt_cannot_be_checked() -> None:
    salted = SaltedDocument.salt(DOCUMENT)
    unsalted = SaltedDocument({**salted.data, "extra": "x"}, salted.salts, salted.concealed)
    with pytest.raises(DisclosureError, match="no salt"):
        unsalted.target_hash()
    stray = SaltedDocument(salted.data, {**salted.salts, "/ghost": b"\0" * 16}, {})
    with pytest.raises(DisclosureError, match="does not have"):
        stray.target_hash()


def test_a_placeholder_is_only_accepted_where_something_was_concealed() -> None:
    salted = SaltedDocument.salt(DOCUMENT)
    forged = SaltedDocument({**salted.data, "injected": None}, salted.salts, salted.concealed)
    with pytest.raises(DisclosureError):
        forged.target_hash()


def test_concealed_value_cannot_be_recovered_by_guessing_without_the_salt() -> None:
    salted = SaltedDocument.salt(DOCUMENT)
    concealed = salted.conceal(["/flags/retroactive"])
    hidden = concealed.concealed["/flags/retroactive"]
    # A boolean has two candidate values; with the salt withheld, neither candidate
    # hashed with any salt the holder can see (or none) matches.
    visible_salts = [*concealed.salts.values(), b"\0" * 16]
    for guess in (True, False):
        assert all(
            field_hash("/flags/retroactive", salt, guess) != hidden for salt in visible_salts
        )
    # with the real salt the guess would succeed: the salt is what protects it
    assert field_hash("/flags/retroactive", salted.salts["/flags/retroactive"], True) == hidden


def test_target_hash_is_order_independent_over_fields_but_binds_paths() -> None:
    salt = b"\x01" * 16
    a = field_hash("/a", salt, "x")
    b = field_hash("/b", salt, "x")
    assert a != b
    assert target_hash([a, b]) == target_hash([b, a])


@given(
    st.dictionaries(
        st.sampled_from(["a", "b", "c", "d"]),
        st.one_of(st.text(max_size=5), st.integers(-5, 5), st.lists(st.booleans(), max_size=3)),
        min_size=1,
    ),
    st.data(),
)
def test_any_concealment_keeps_the_target_hash(data: JsonObject, draw: st.DataObject) -> None:
    document: JsonObject = {"documentType": "x/1", **data}
    salted = SaltedDocument.salt(document, counter_bytes())  # type: ignore[arg-type]
    paths = [path for path, _ in iter_fields(document) if path != "/documentType"]
    chosen = draw.draw(st.lists(st.sampled_from(paths), unique=True)) if paths else []
    assert salted.conceal(chosen).target_hash() == salted.target_hash()


def test_lone_surrogate_in_a_field_is_a_typed_error_naming_the_field() -> None:
    with pytest.raises(NotCanonicalisable) as caught:
        SaltedDocument.salt({"documentType": "x/1", "name": "\ud800"}).target_hash()
    assert caught.value.path == "/name"
