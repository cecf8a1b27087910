"""Strict JSON: the only way bytes from outside become a JSON value in docex.

``parse_strict_json`` accepts the intersection of what every mainstream JSON parser
reads the same way (RFC 8259 restricted by I-JSON, RFC 7493) and rejects the rest with a
typed error naming the JSON Pointer (RFC 6901) of the offending value. Two parsers must
never disagree on what a hashed document says: a duplicate key, a rounded integer or a
normalised string would let the issuer and a verifier see different documents behind
the same hash. The rules and their reasons are in docs/documents.md and ADR 0002.

How: ``json.loads`` (C) with hooks that turn every suspect token into a marker object,
then one walk over the result that knows paths and raises on the first marker, lone
surrogate, non-NFC string or too-deep container. Paths are only built on failure.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from array import array
from itertools import accumulate
from typing import Final, NoReturn

from certificates.errors import (
    ByteOrderMark,
    DuplicateKey,
    InputTooLarge,
    InvalidInput,
    InvalidUtf8,
    LoneSurrogate,
    MalformedJson,
    NestingTooDeep,
    NonFiniteNumber,
    NonIntegerNumber,
    NotNfc,
    NumberOverflow,
    UnsafeInteger,
)
from certificates.json_types import JsonValue
from certificates.native import speedups as _native

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "MAX_NESTING",
    "MAX_SAFE_INTEGER",
    "json_pointer",
    "parse_strict_json",
]

DEFAULT_MAX_BYTES: Final = 1_048_576
DEFAULT_MAX_DEPTH: Final = 64
#: I-JSON (RFC 7493 §2.2): integers every binary64 parser represents exactly.
MAX_SAFE_INTEGER: Final = 2**53 - 1
# len(str(MAX_SAFE_INTEGER)) + 1 for a minus sign: longer integer tokens are out of range.
_MAX_SAFE_INTEGER_CHARS: Final = len(str(MAX_SAFE_INTEGER)) + 1
_BOM: Final = b"\xef\xbb\xbf"
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
#: The deepest nesting a caller may allow, and the most open brackets an input may hold
#: before its nesting is measured ahead of the C parser, whose recursion is bounded only
#: by sys.getrecursionlimit() (which libraries raise: then deep input overflows the C
#: stack and the process dies). 256 levels stay far below any thread's stack size.
MAX_NESTING: Final = 256
_STRING: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET_BYTES: Final = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKET_STEP: Final = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
# Tokens that matter for nesting: strings (skipped whole), brackets and commas.
_STRUCTURE_TOKEN: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]', re.DOTALL)


class _Rejected:
    """A value the json hooks could not accept; the walk raises it with its path."""

    __slots__ = ("error", "key")

    def __init__(self, error: InvalidInput, key: str | None = None) -> None:
        self.error = error
        #: For a duplicate key: the key, appended to the object's path.
        self.key = key


class _Found(Exception):
    """Carries an error up the walk; each level adds its path segment (innermost first)."""

    def __init__(self, error: InvalidInput, segments: list[str]) -> None:
        super().__init__()
        self.error = error
        self.segments = segments


def json_pointer(segments: list[str] | tuple[str, ...]) -> str:
    """The RFC 6901 JSON Pointer for a sequence of keys and array indices."""
    return "".join("/" + s.replace("~", "~0").replace("/", "~1") for s in segments)


def _object_from_pairs(pairs: list[tuple[str, JsonValue]]) -> dict[str, JsonValue] | _Rejected:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    for key, _ in pairs:  # pragma: no branch - a duplicate exists
        if key in seen:
            return _Rejected(
                DuplicateKey(f"duplicate object key {key!r}: each key may appear once"), key
            )
        seen.add(key)
    raise AssertionError("unreachable")  # pragma: no cover


def _integer(lexeme: str) -> int | _Rejected:
    if len(lexeme) <= _MAX_SAFE_INTEGER_CHARS:
        value = int(lexeme)
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return value
    shown = lexeme if len(lexeme) <= 40 else lexeme[:20] + "..." + lexeme[-10:]
    return _Rejected(
        UnsafeInteger(
            f"integer {shown} is outside the safe range ±(2^53-1); "
            "send large numbers, money and quantities as decimal strings"
        )
    )


def _constant(name: str) -> _Rejected:
    return _Rejected(NonFiniteNumber(f"{name} is not a JSON number"))


def _number_rejecting_fractions(lexeme: str) -> _Rejected:
    if math.isinf(float(lexeme)):
        return _Rejected(NumberOverflow(f"number {lexeme[:40]} overflows to infinity"))
    return _Rejected(
        NonIntegerNumber(
            f"number {lexeme[:40]} has a fraction or exponent; "
            'use a decimal string instead (e.g. "12.50")'
        )
    )


def _number_allowing_fractions(lexeme: str) -> float | _Rejected:
    value = float(lexeme)
    if math.isinf(value):
        return _Rejected(NumberOverflow(f"number {lexeme[:40]} overflows to infinity"))
    return value


def _check_text(text: str, what: str = "text") -> None:
    """Raise ``_Found`` if ``text`` (known to be non-ASCII) is not well-formed NFC Unicode."""
    if _SURROGATE.search(text) is not None:
        raise _Found(
            LoneSurrogate(f"{what} contains a lone surrogate (an unpaired \\ud800-\\udfff escape)"),
            [],
        )
    if not unicodedata.is_normalized("NFC", text):
        raise _Found(
            NotNfc(
                f"{what} is not in Unicode Normalization Form C; "
                "normalise it to NFC before sending (docex never alters a document's text)"
            ),
            [],
        )


def _text_is_fine(text: str) -> bool:
    """What :func:`_check_text` accepts (the C walk asks it of non-ASCII text)."""
    return _SURROGATE.search(text) is None and unicodedata.is_normalized("NFC", text)


def _check_key(key: str) -> None:
    # A bad key is reported at its object's path: a path holding a lone surrogate could
    # not even be printed or encoded; the message names the key, ASCII-escaped.
    _check_text(key, f"object key {key!a}")


def _walk(value: JsonValue | _Rejected, depth: int, max_depth: int) -> None:
    """Check ``value`` (at nesting ``depth``, the root being 1) and everything below it."""
    if type(value) is dict:
        if depth > max_depth:
            raise _Found(NestingTooDeep(f"nesting deeper than {max_depth} levels"), [])
        for key, item in value.items():
            if not key.isascii():
                _check_key(key)
            try:
                if type(item) is str:
                    if not item.isascii():
                        _check_text(item)
                elif isinstance(item, dict | list | _Rejected):
                    _walk(item, depth + 1, max_depth)
            except _Found as found:
                found.segments.append(key)
                raise
    elif type(value) is list:
        if depth > max_depth:
            raise _Found(NestingTooDeep(f"nesting deeper than {max_depth} levels"), [])
        for index, item in enumerate(value):
            try:
                if type(item) is str:
                    if not item.isascii():
                        _check_text(item)
                elif isinstance(item, dict | list | _Rejected):
                    _walk(item, depth + 1, max_depth)
            except _Found as found:
                found.segments.append(str(index))
                raise
    elif type(value) is _Rejected:
        if value.key is None:
            raise _Found(value.error, [])
        if not value.key.isascii():
            _check_key(value.key)
        raise _Found(value.error, [value.key])
    elif type(value) is str and not value.isascii():
        _check_text(value)


def _deepest_nesting(text: str, raw: bytes) -> int:
    """The most brackets open at once outside strings (an upper bound for broken JSON)."""
    # Every other quote-delimited piece is a string, unless some quote is escaped.
    escaped_quote = '\\"' in text
    outside = _STRING.sub("", text).encode() if escaped_quote else b"".join(raw.split(b'"')[::2])
    # As signed bytes, "[" and "{" count +1, "]" and "}" count -1: running sums are depths.
    steps = array("b", outside.translate(_BRACKET_STEP, _NOT_BRACKET_BYTES))
    return max(accumulate(steps), default=0)


def _path_of_first_too_deep(text: str, max_depth: int) -> str:
    """JSON Pointer of the first container nested deeper than ``max_depth``.

    Only used on rejection, before the C parser sees the input; the scan stops at the
    culprit.
    """
    # One entry per open container: the path segment of its current child.
    child: list[str] = []
    in_object: list[bool] = []
    expecting_key = False
    for match in _STRUCTURE_TOKEN.finditer(text):
        lexeme = match.group()
        if lexeme[0] == '"':
            if expecting_key:
                child[-1] = json.loads(lexeme)
                expecting_key = False
        elif lexeme in "[{":
            if len(child) == max_depth:
                return json_pointer(child)
            child.append("0")
            in_object.append(lexeme == "{")
            expecting_key = lexeme == "{"
        elif lexeme in "]}":
            child.pop()
            in_object.pop()
        elif lexeme == ",":
            if in_object[-1]:
                expecting_key = True
            else:
                child[-1] = str(int(child[-1]) + 1)
    return ""  # only when the nesting was overestimated inside a broken (unclosed) string


def _raise(error: InvalidInput, path: str) -> NoReturn:
    error.path = path
    error.args = (f"{error.message} (at {path})",)
    raise error


def parse_strict_json(
    raw: bytes | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    allow_non_integers: bool = False,
) -> JsonValue:
    """Parse ``raw`` (UTF-8, no BOM) as strict JSON or raise a typed ``InvalidInput``.

    The error's ``path`` is the JSON Pointer of the offending value ("" for the whole
    input). ``allow_non_integers`` admits finite numbers with a fraction or exponent
    (as ``float``); documents never need it (money and quantities are decimal strings).
    """
    if not 1 <= max_depth <= MAX_NESTING:
        raise ValueError(f"max_depth must be between 1 and {MAX_NESTING}")
    if isinstance(raw, str):
        # A str of more characters than max_bytes cannot fit in max_bytes of UTF-8.
        if len(raw) > max_bytes:
            _raise(InputTooLarge(f"input is larger than {max_bytes} bytes"), "")
        try:
            raw = raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            _raise(LoneSurrogate(f"input contains a lone surrogate at character {exc.start}"), "")
    if len(raw) > max_bytes:
        _raise(InputTooLarge(f"input of {len(raw)} bytes is larger than {max_bytes} bytes"), "")
    if raw.startswith(_BOM):
        _raise(ByteOrderMark("input starts with a byte order mark; send UTF-8 without one"), "")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        _raise(InvalidUtf8(f"input is not valid UTF-8 (byte offset {exc.start})"), "")
    # Fewer open brackets than MAX_NESTING (counted even inside strings) cannot nest
    # deeper: nearly every document takes this shortcut and the walk checks max_depth.
    if text.count("[") + text.count("{") > MAX_NESTING and _deepest_nesting(text, raw) > max_depth:
        _raise(
            NestingTooDeep(f"nesting deeper than {max_depth} levels"),
            _path_of_first_too_deep(text, max_depth),
        )
    try:
        value: JsonValue = json.loads(
            text,
            object_pairs_hook=_object_from_pairs,
            parse_int=_integer,
            parse_float=_number_allowing_fractions
            if allow_non_integers
            else _number_rejecting_fractions,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as exc:
        _raise(MalformedJson(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"), "")
    # the C walk (certificates/_speedups.c) answers whether there is anything to refuse;
    # only then does the Python walk run, to find it and name its path
    if _native is not None and _native.plain_json(value, max_depth, _text_is_fine):
        return value
    try:
        _walk(value, 1, max_depth)
    except _Found as found:
        found.segments.reverse()
        _raise(found.error, json_pointer(found.segments))
    return value
