"""The strict parser: what it rejects, with which error and path, and what it keeps."""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certificates import errors
from certificates.json_types import JsonValue
from certificates.strict_json import MAX_SAFE_INTEGER, json_pointer, parse_strict_json

NFD_CA_PHE = unicodedata.normalize("NFD", "Cà phê")

STRICT_ERRORS = (
    errors.InputTooLarge,
    errors.InvalidUtf8,
    errors.ByteOrderMark,
    errors.MalformedJson,
    errors.NestingTooDeep,
    errors.DuplicateKey,
    errors.NonFiniteNumber,
    errors.NumberOverflow,
    errors.UnsafeInteger,
    errors.NonIntegerNumber,
    errors.LoneSurrogate,
    errors.NotNfc,
)

# (input, expected error, expected JSON Pointer)
CORPUS: list[tuple[bytes | str, type[errors.InvalidInput], str]] = [
    (b'{"a": 1, "a": 2}', errors.DuplicateKey, "/a"),
    (b'{"a": 1, "b": 2, "a": 1}', errors.DuplicateKey, "/a"),
    (b'{"x": [{"b": 1}, {"c": {"k": 1, "k": 1}}]}', errors.DuplicateKey, "/x/1/c/k"),
    (b'{"a/b~c": 1, "a/b~c": 2}', errors.DuplicateKey, "/a~1b~0c"),
    (b'{"a": 1, "\\u0061": 2}', errors.DuplicateKey, "/a"),
    (b"NaN", errors.NonFiniteNumber, ""),
    (b'{"v": NaN}', errors.NonFiniteNumber, "/v"),
    (b'{"v": [0, Infinity]}', errors.NonFiniteNumber, "/v/1"),
    (b'{"v": {"w": -Infinity}}', errors.NonFiniteNumber, "/v/w"),
    (b'{"n": 1e400}', errors.NumberOverflow, "/n"),
    (b'{"n": -1E+400}', errors.NumberOverflow, "/n"),
    (b'{"n": 9007199254740992}', errors.UnsafeInteger, "/n"),
    (b'{"n": 9007199254740993}', errors.UnsafeInteger, "/n"),
    (b'{"n": -9007199254740992}', errors.UnsafeInteger, "/n"),
    (b"[1, 2, 1" + b"0" * 5000 + b"]", errors.UnsafeInteger, "/2"),
    (b'{"n": 1.5}', errors.NonIntegerNumber, "/n"),
    (b'{"n": 1.0}', errors.NonIntegerNumber, "/n"),
    (b'{"n": 1e2}', errors.NonIntegerNumber, "/n"),
    (b'{"s": "\\ud800"}', errors.LoneSurrogate, "/s"),
    (b'{"s": ["ok", "x\\udfffy"]}', errors.LoneSurrogate, "/s/1"),
    (b'{"s": "\\ude00\\ud83d"}', errors.LoneSurrogate, "/s"),
    # A bad key is reported at its object's path (a path cannot hold a lone surrogate).
    (b'{"o": {"\\ud800": 1}}', errors.LoneSurrogate, "/o"),
    (b'{"\\udc00": 1, "\\udc00": 2}', errors.LoneSurrogate, ""),
    (
        json.dumps({"exporter": {"name": NFD_CA_PHE}}, ensure_ascii=False),
        errors.NotNfc,
        "/exporter/name",
    ),
    (json.dumps({"exporter": {"name": NFD_CA_PHE}}), errors.NotNfc, "/exporter/name"),
    (json.dumps({"o": {NFD_CA_PHE: 1}}, ensure_ascii=False), errors.NotNfc, "/o"),
    (json.dumps([NFD_CA_PHE], ensure_ascii=False).encode(), errors.NotNfc, "/0"),
    (b"\xef\xbb\xbf{}", errors.ByteOrderMark, ""),
    ("\ufeff{}", errors.ByteOrderMark, ""),
    (b'{"a": "\xff"}', errors.InvalidUtf8, ""),
    (b'{"a": "\xc3"}', errors.InvalidUtf8, ""),
    (b'{"a": "\xed\xa0\x80"}', errors.InvalidUtf8, ""),  # a surrogate encoded in UTF-8
    ('{"a": "\ud800"}', errors.LoneSurrogate, ""),  # a str that is not Unicode text
    (b'{"a" 1}', errors.MalformedJson, ""),
    (b"", errors.MalformedJson, ""),
    (b"[1,]", errors.MalformedJson, ""),
    (b'{"a": "tab\there"}', errors.MalformedJson, ""),
]


@pytest.mark.parametrize(("raw", "error", "path"), CORPUS)
def test_strict_parser_corpus_is_rejected_with_typed_error_and_path(
    raw: bytes | str, error: type[errors.InvalidInput], path: str
) -> None:
    with pytest.raises(error) as caught:
        parse_strict_json(raw)
    assert type(caught.value) is error
    assert caught.value.path == path
    assert f"(at {path})" in str(caught.value)


def test_every_strict_rejection_has_its_own_stable_code() -> None:
    codes = [error.code for error in STRICT_ERRORS]
    assert len(set(codes)) == len(codes)
    assert all(issubclass(error, errors.InvalidInput) for error in STRICT_ERRORS)
    assert errors.InvalidInput.code not in codes


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"n": 9007199254740991}', {"n": MAX_SAFE_INTEGER}),
        (b'{"n": -9007199254740991}', {"n": -MAX_SAFE_INTEGER}),
        (b"[-0, 0, 1]", [0, 0, 1]),
        (b'"\\ud83d\\ude00"', "\U0001f600"),
        ('{"name": "Cà phê"}'.encode(), {"name": "Cà phê"}),
        ('{"Cà phê": "株式会社"}', {"Cà phê": "株式会社"}),
        (b' {"a": [true, false, null, {}, []]} ', {"a": [True, False, None, {}, []]}),
        (b'"\\u00e9"', "\u00e9"),
    ],
)
def test_strict_json_is_accepted_unchanged(raw: bytes | str, expected: JsonValue) -> None:
    assert parse_strict_json(raw) == expected


def test_non_integer_message_asks_for_a_decimal_string() -> None:
    with pytest.raises(errors.NonIntegerNumber, match="decimal string"):
        parse_strict_json(b'{"fobValue": 12.5}')


def test_non_nfc_message_asks_the_sender_to_normalise() -> None:
    with pytest.raises(errors.NotNfc, match="normalise it to NFC"):
        parse_strict_json(json.dumps(NFD_CA_PHE, ensure_ascii=False))


def test_non_integers_are_accepted_only_when_explicitly_allowed() -> None:
    assert parse_strict_json(b"[1.5, 2e3]", allow_non_integers=True) == [1.5, 2000.0]
    with pytest.raises(errors.NumberOverflow) as caught:
        parse_strict_json(b"[1.5, 1e400]", allow_non_integers=True)
    assert caught.value.path == "/1"


def test_ten_megabyte_body_is_rejected_by_size_before_parsing() -> None:
    # Invalid UTF-8 and malformed: only a size check made before decoding reports size.
    body = b"\xff[" * 5_000_000
    with pytest.raises(errors.InputTooLarge) as caught:
        parse_strict_json(body)
    assert caught.value.path == ""
    with pytest.raises(errors.InputTooLarge):
        parse_strict_json("\ud800" * 10_000_000)


def test_size_limit_counts_utf8_bytes_and_is_inclusive() -> None:
    text = '"Cà phê"'  # 8 characters, 10 bytes
    assert parse_strict_json(text, max_bytes=10) == "Cà phê"
    with pytest.raises(errors.InputTooLarge):
        parse_strict_json(text, max_bytes=9)
    with pytest.raises(errors.InputTooLarge):
        parse_strict_json(text.encode(), max_bytes=9)


def test_nesting_up_to_max_depth_is_accepted_and_one_deeper_is_not() -> None:
    assert parse_strict_json(b"[" * 8 + b"]" * 8, max_depth=8) is not None
    with pytest.raises(errors.NestingTooDeep) as caught:
        parse_strict_json(b"[" * 9 + b"]" * 9, max_depth=8)
    assert caught.value.path == "/0" * 8


def test_too_deep_nesting_names_object_keys_in_its_path() -> None:
    raw = b'{"a": [1, {"b~": ' + b'{"c": ' * 70 + b"1" + b"}" * 71 + b"]}"
    with pytest.raises(errors.NestingTooDeep) as caught:
        parse_strict_json(raw)
    assert caught.value.path == "/a/1/b~0" + "/c" * 61


@pytest.fixture
def raised_recursion_limit() -> Iterator[None]:
    # Some libraries raise the limit at import; the C parser must still never see
    # nesting deep enough to overflow the C stack (that would kill the process).
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(1_000_000)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


@pytest.mark.usefixtures("raised_recursion_limit")
@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (b"[" * 1_000_000, "/0" * 64),
        (b"[" * 500_000 + b"]" * 500_000, "/0" * 64),
        (b'{"k": [0, ' + b'{"x/y": ' * 100_000, "/k/1" + "/x~1y" * 62),
        (b'[{"s": "[{\\"", "t": [' + b"[" * 100_000, "/0/t" + "/0" * 62),
    ],
)
def test_deep_nesting_is_rejected_before_the_c_parser_sees_it(raw: bytes, path: str) -> None:
    with pytest.raises(errors.NestingTooDeep) as caught:
        parse_strict_json(raw)
    assert caught.value.path == path


def test_many_brackets_in_strings_or_siblings_are_not_nesting() -> None:
    raw = json.dumps({"s": "[{" * 1000, "a": [[1], [2]] * 500})
    assert parse_strict_json(raw) == json.loads(raw)


@pytest.mark.parametrize("max_depth", [0, 257])
def test_max_depth_is_bounded_so_the_parser_stays_safe(max_depth: int) -> None:
    with pytest.raises(ValueError, match="max_depth"):
        parse_strict_json(b"[]", max_depth=max_depth)


def test_json_pointer_escapes_tilde_then_slash() -> None:
    assert json_pointer([]) == ""
    assert json_pointer(["a/b", "~1", "0", ""]) == "/a~1b/~01/0/"


# --- properties -------------------------------------------------------------------------
nfc_text = st.text(max_size=20).map(lambda s: unicodedata.normalize("NFC", s))
strict_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | nfc_text,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(nfc_text, children, max_size=5)
    ),
    max_leaves=30,
)


@given(value=strict_values, ensure_ascii=st.booleans())
def test_any_strict_value_round_trips(value: JsonValue, ensure_ascii: bool) -> None:
    assert parse_strict_json(json.dumps(value, ensure_ascii=ensure_ascii)) == value


# A base letter followed by a combining mark it composes with: never NFC.
decomposed = st.builds(
    "".join,
    st.tuples(
        nfc_text,
        st.sampled_from("aeiouyAEIOUY"),
        st.sampled_from(["\u0300", "\u0301", "\u0302", "\u0303", "\u0309", "\u0323"]),
        nfc_text,
    ),
).filter(lambda s: not unicodedata.is_normalized("NFC", s))


@given(text=decomposed)
def test_any_non_nfc_text_is_rejected_never_normalised(text: str) -> None:
    with pytest.raises(errors.NotNfc) as caught:
        parse_strict_json(json.dumps({"items": [{"description": text}]}, ensure_ascii=False))
    assert caught.value.path == "/items/0/description"


@given(
    number=st.integers(min_value=MAX_SAFE_INTEGER + 1, max_value=10**40)
    | st.integers(min_value=-(10**40), max_value=-MAX_SAFE_INTEGER - 1)
)
def test_any_integer_outside_the_safe_range_is_rejected(number: int) -> None:
    with pytest.raises(errors.UnsafeInteger) as caught:
        parse_strict_json(f'{{"quantity": [{number}]}}')
    assert caught.value.path == "/quantity/0"


@given(key=nfc_text, value=strict_values)
def test_any_duplicated_key_is_rejected_at_its_path(key: str, value: JsonValue) -> None:
    pair = f"{json.dumps(key)}: {json.dumps(value)}"
    with pytest.raises(errors.DuplicateKey) as caught:
        parse_strict_json(f'{{"outer": {{{pair}, {pair}}}}}')
    assert caught.value.path == json_pointer(["outer", key])


def test_an_error_at_the_whole_document_has_no_empty_location() -> None:
    from certificates.errors import InvalidUtf8

    error = InvalidUtf8("input is not valid UTF-8", path="")
    assert str(error) == "input is not valid UTF-8"
    assert error.path == ""
    assert str(InvalidUtf8("bad", path="/a")) == "bad (at /a)"
