"""RFC 8785 JSON Canonicalization Scheme (JCS).

Canonical bytes are what docex hashes, so this module is on the hot path of every
wrap and verify: strings go through the C string encoder of the standard library
(its escaping is exactly ECMAScript's ``JSON.stringify``: the short escapes, other
control characters as lower-case ``\\u00xx``, everything else verbatim), object keys
are ordered by UTF-16 code units as the RFC requires, and numbers follow ECMAScript's
``Number.prototype.toString``.
"""

from __future__ import annotations

import math
from json.encoder import encode_basestring

from certificates.errors import InvalidInput
from certificates.json_pointer import child
from certificates.json_types import JsonValue

_encode_string = encode_basestring

#: Integers beyond this lose precision as IEEE doubles (RFC 7493 I-JSON).
MAX_SAFE_INTEGER = 2**53 - 1


class NotCanonicalisable(InvalidInput):
    """A value with no RFC 8785 form: NaN, infinities, lone surrogates, non-JSON types."""

    code = "not-canonicalisable"


def canonicalize(value: JsonValue) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``value``."""
    parts: list[str] = []
    _append(value, parts, "")
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate has no UTF-8 form
        raise NotCanonicalisable("text contains a lone surrogate") from exc


def canonical_string(text: str) -> str:
    """The canonical JSON form of one string (quotes included), as text."""
    return _encode_string(text)


def canonical_number(number: int | float) -> str:
    """ECMAScript ``Number.prototype.toString`` of ``number`` taken as an IEEE double.

    Integers outside the I-JSON safe range are refused rather than rounded.
    """
    if isinstance(number, int):
        if -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER:
            return str(number)
        raise NotCanonicalisable(
            f"{number} is outside the I-JSON safe integer range: send it as a decimal string"
        )
    value = float(number)
    if not math.isfinite(value):
        raise NotCanonicalisable(f"{number!r} has no JSON form")
    if value == 0.0:
        return "0"  # -0 too
    sign = "-" if value < 0 else ""
    digits, point = _shortest_digits(abs(value))
    count = len(digits)
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * (-point) + digits
    exponent = point - 1
    mantissa = digits[0] + ("." + digits[1:] if count > 1 else "")
    return f"{sign}{mantissa}e{'+' if exponent > 0 else '-'}{abs(exponent)}"


def _shortest_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of a positive double and the position of the point.

    ``value == 0.d1d2...dk * 10**point``; Python's repr already yields the shortest
    digit string that round-trips, which is the one ECMAScript requires.
    """
    mantissa, _, exponent_text = repr(value).partition("e")
    whole, _, fraction = mantissa.partition(".")
    exponent = int(exponent_text) if exponent_text else 0
    if fraction == "0":
        fraction = ""
    digits = whole + fraction
    point = len(whole) + exponent
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    return stripped.rstrip("0"), point


def _utf16_order(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _append(value: JsonValue, parts: list[str], path: str) -> None:
    if isinstance(value, str):
        parts.append(_encode_string(value))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int | float):
        try:
            parts.append(canonical_number(value))
        except NotCanonicalisable as exc:
            raise NotCanonicalisable(exc.message, path=path or "/") from None
    elif isinstance(value, dict):
        parts.append("{")
        first = True
        for key in sorted(value, key=_utf16_order):
            if not isinstance(key, str):
                raise NotCanonicalisable("object keys must be strings", path=path or "/")
            if not first:
                parts.append(",")
            first = False
            parts.append(_encode_string(key))
            parts.append(":")
            _append(value[key], parts, child(path, key))
        parts.append("}")
    elif isinstance(value, list):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _append(item, parts, child(path, index))
        parts.append("]")
    else:
        raise NotCanonicalisable(f"{type(value).__name__} is not a JSON value", path=path or "/")
