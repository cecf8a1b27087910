"""The C fast path (certificates/_speedups.c) against the Python reference.

The rule: for every input, the C code either returns exactly what the Python code of
certificates/disclosure.py and keccak-256 of safe-pysha3 return, or None (the caller then
runs the Python code). It never returns a hash where the Python code raises.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sha3 import keccak_256

from certificates.canonical import NotCanonicalisable
from certificates.disclosure import (
    SALT_SIZE,
    DisclosureError,
    SaltedDocument,
    python_iter_fields,
    python_pool_target,
)
from certificates.json_types import JsonObject, JsonValue
from certificates.native import speedups


def native() -> Any:
    assert speedups is not None
    return speedups


def test_the_c_module_is_built() -> None:
    # `pip install -e .` (make's setup) builds it; without it every benchmark would measure
    # the pure-Python path without saying so
    assert speedups is not None, (
        "certificates._speedups is not built: reinstall with `pip install -e .` "
        "(needs gcc and Python's headers)"
    )


# --- keccak-256 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "digest"),
    [
        (b"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
        (b"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
    ],
)
def test_keccak256_known_digests(message: bytes, digest: str) -> None:
    assert native().keccak256(message).hex() == digest


def test_keccak256_matches_pysha3_at_every_length_across_three_blocks() -> None:
    # the rate is 136 bytes: every padding position, one and two absorbed blocks
    for size in range(0, 3 * 136 + 2):
        message = os.urandom(size)
        assert native().keccak256(message) == keccak_256(message).digest(), size


@given(st.binary(max_size=2000))
def test_keccak256_matches_pysha3(message: bytes) -> None:
    assert native().keccak256(message) == keccak_256(message).digest()


def test_keccak256_takes_any_bytes_like_object_and_refuses_text() -> None:
    assert native().keccak256(bytearray(b"abc")) == keccak_256(b"abc").digest()
    assert native().keccak256(memoryview(b"abc")) == keccak_256(b"abc").digest()
    with pytest.raises(TypeError):
        native().keccak256("abc")


# --- documents ----------------------------------------------------------------------------

#: text with what JSON escapes (quotes, backslash, controls), a pointer's own characters
#: (~ and /), non-ASCII, astral characters, and now and then a lone surrogate
_text = st.text(
    st.sampled_from(['"', "\\", "\b", "\f", "\n", "\r", "\t", "\x00", "\x1f", "\x7f", "~", "/"])
    | st.characters(codec="utf-8")
    | st.characters(categories=["Cs"]),
    max_size=8,
)
_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53 + 2), max_value=2**53 + 2)
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text
    | st.just({})
    | st.just([])
)
_values: st.SearchStrategy[JsonValue] = st.recursive(
    _leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=30,
)
_documents: st.SearchStrategy[JsonObject] = st.dictionaries(_text, _values, min_size=1, max_size=5)


def _python_target(fields: list[tuple[str, JsonValue]], pool: bytes) -> bytes | None:
    try:
        return python_pool_target(fields, pool)
    except NotCanonicalisable:
        return None


@settings(max_examples=400)
@given(_documents)
def test_the_walk_lists_the_same_fields(document: JsonObject) -> None:
    walked = native().iter_fields(document)
    expected = python_iter_fields(document)
    if walked is None:
        # the only plain JSON the C walk leaves to Python: a key with a lone surrogate
        assert any(_has_python_only_value([(path, None)]) for path, _ in expected)
        return
    assert walked == expected
    assert [type(path) for path, _ in walked] == [str] * len(walked)


@settings(max_examples=400)
@given(_documents, st.randoms(use_true_random=False))
def test_the_target_hash_is_python_s_or_none(document: JsonObject, random: Any) -> None:
    fields = python_iter_fields(document)
    pool = random.randbytes(SALT_SIZE * len(fields))
    expected = _python_target(fields, pool)
    got = native().pool_target(fields, pool)
    if got is not None:
        # never a hash where Python refuses the document
        assert got == expected
    else:
        # None only for what the C code leaves to Python: floats, unsafe integers,
        # lone surrogates
        assert _has_python_only_value(fields)


@settings(max_examples=400)
@given(_documents, st.data())
def test_the_field_hashes_are_python_s_or_none(document: JsonObject, data: st.DataObject) -> None:
    try:
        salted = SaltedDocument.salt(document)
    except NotCanonicalisable:
        fields = python_iter_fields(document)
        salts = {path: b"s" * SALT_SIZE for path, _ in fields}
        assert native().salted_field_hashes(fields, salts, {}) is None
        return
    paths = sorted(salted.salts)
    hidden = data.draw(st.lists(st.sampled_from(paths), max_size=3, unique=True))
    hidden = [path for path in hidden if path != "/documentType"]
    for shown in (salted, salted.conceal(hidden)):
        fields = python_iter_fields(shown.data)
        got = native().salted_field_hashes(fields, dict(shown.salts), dict(shown.concealed))
        expected = shown.python_field_hashes()
        if got is None:
            # left to Python: a concealment placeholder without a salt, or a value only
            # the Python code canonicalises
            assert len(fields) != len(shown.salts) or _has_python_only_value(fields)
        else:
            assert got + list(shown.concealed.values()) == expected
        assert shown.field_hashes() == expected


def _has_python_only_value(fields: list[tuple[str, JsonValue]]) -> bool:
    def python_only(text_or_value: JsonValue) -> bool:
        if isinstance(text_or_value, str):
            try:
                text_or_value.encode("utf-8")
            except UnicodeEncodeError:
                return True
            return False
        if isinstance(text_or_value, bool) or text_or_value is None:
            return False
        if isinstance(text_or_value, int):
            return abs(text_or_value) > 2**53 - 1
        return isinstance(text_or_value, float)

    return any(python_only(path) or python_only(value) for path, value in fields)


# --- what the C code must leave to Python -------------------------------------------------

_SALT = b"\x01" * SALT_SIZE


@pytest.mark.parametrize(
    "value",
    [1.5, 1.0, 2**53, -(2**53), 10**30, "lone \ud800 surrogate", True.__class__],
    ids=["float", "integral-float", "2^53", "-2^53", "huge", "surrogate", "a-type"],
)
def test_a_value_only_python_canonicalises_is_left_to_python(value: Any) -> None:
    fields = [("/a", "plain"), ("/b", value)]
    assert native().pool_target(fields, _SALT * 2) is None
    assert native().salted_field_hashes(fields, {"/a": _SALT, "/b": _SALT}, {}) is None


def test_the_largest_safe_integers_stay_on_the_fast_path() -> None:
    for number in (2**53 - 1, -(2**53 - 1), 0, -1):
        fields: list[tuple[str, JsonValue]] = [("/n", number)]
        assert native().pool_target(fields, _SALT) == python_pool_target(fields, _SALT)


def test_a_key_with_a_lone_surrogate_is_refused_naming_the_field() -> None:
    document: JsonObject = {"documentType": "coo/1", "bad\udc00key": "x"}
    assert native().iter_fields(document) is None
    with pytest.raises(NotCanonicalisable):
        SaltedDocument.salt(document)


def test_a_wrong_pool_size_is_left_to_python() -> None:
    fields: list[tuple[str, JsonValue]] = [("/a", "x")]
    assert native().pool_target(fields, _SALT * 2) is None
    assert native().pool_target(fields, _SALT[:-1]) is None


def test_odd_salts_are_left_to_python_which_names_the_field() -> None:
    document: JsonObject = {"documentType": "coo/1", "a": "x"}
    salted = SaltedDocument.salt(document)
    fields = python_iter_fields(document)
    short = {**salted.salts, "/a": b"\x00" * (SALT_SIZE - 1)}
    stray = {**salted.salts, "/ghost": _SALT}
    missing = {"/documentType": salted.salts["/documentType"]}
    for salts, message in (
        (short, "salt must be"),
        (stray, "salt for a field the document does not have"),
        (missing, "field has no salt"),
    ):
        assert native().salted_field_hashes(fields, salts, {}) is None
        with pytest.raises(DisclosureError, match=message):
            SaltedDocument(data=document, salts=salts, concealed={}).field_hashes()


def test_a_field_both_shown_and_concealed_is_left_to_python() -> None:
    document: JsonObject = {"documentType": "coo/1", "a": "x"}
    salted = SaltedDocument.salt(document)
    fields = python_iter_fields(document)
    concealed = {"/a": b"\x02" * 32}
    assert native().salted_field_hashes(fields, dict(salted.salts), concealed) is None
    with pytest.raises(DisclosureError, match="both shown and concealed"):
        SaltedDocument(data=document, salts=salted.salts, concealed=concealed).field_hashes()


def test_nesting_deeper_than_the_c_walk_goes_is_left_to_python() -> None:
    deep: JsonValue = "leaf"
    for _ in range(300):
        deep = [deep]
    assert native().iter_fields(deep) is None
    assert python_iter_fields(deep) == [("/0" * 300, "leaf")]


def test_subclasses_of_plain_types_are_left_to_python() -> None:
    class Code(str):
        pass

    fields: list[tuple[str, JsonValue]] = [("/a", Code("x"))]
    assert native().pool_target(fields, _SALT) is None
    assert native().iter_fields({Code("k"): 1}) is None
