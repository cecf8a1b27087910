"""strict_json's C walk (certificates/_speedups.c ``plain_json``) against the Python walk.

The rule: whatever the input, parse_strict_json answers the same with the C walk as with
the Python walk alone: the same value, or the same error (type, message and path). The
C walk only says "nothing to refuse here"; where it is unsure the Python walk decides.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import certificates.strict_json as strict_json
from certificates import parse_strict_json
from certificates.errors import InvalidInput
from certificates.native import speedups


def _outcome(raw: bytes, **options: Any) -> tuple[str, Any]:
    try:
        return "value", parse_strict_json(raw, **options)
    except InvalidInput as error:
        return type(error).__name__, (str(error), error.path)


def _both(raw: bytes, monkeypatch: pytest.MonkeyPatch, **options: Any) -> None:
    with_c = _outcome(raw, **options)
    with monkeypatch.context() as patched:
        patched.setattr(strict_json, "_native", None)
        python_only = _outcome(raw, **options)
    assert with_c == python_only


#: text that strict JSON refuses or must look at twice: lone surrogates (as escapes),
#: text not in NFC (e + combining acute), non-ASCII in NFC, astral characters, controls
_text = st.text(
    st.sampled_from(["\ud800", "\udfff", "e", "\u0301", "é", "Ω", "😀", "\x00", '"', "\\"])
    | st.characters(codec="utf-8"),
    max_size=6,
)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53 + 2), max_value=2**53 + 2)
    | st.integers()
    | st.floats()
    | _text
)


def _render(value: Any) -> str:
    """JSON text of ``value``; lists of pairs become objects, so keys can repeat."""
    if isinstance(value, tuple):
        return "{" + ",".join(f"{_render(key)}:{_render(item)}" for key, item in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_render(item) for item in value) + "]"
    if isinstance(value, float) and value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return json.dumps(value)  # non-ASCII and surrogates as \u escapes, as clients send


_trees = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(st.tuples(_text | st.sampled_from(["a", "b"]), children), max_size=4).map(tuple)
    ),
    max_leaves=25,
)


@settings(max_examples=500)
@given(_trees, st.booleans(), st.integers(min_value=1, max_value=6))
def test_the_c_walk_changes_no_outcome(tree: Any, fractions: bool, max_depth: int) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        _both(
            _render(tree).encode(),
            monkeypatch,
            allow_non_integers=fractions,
            max_depth=max_depth,
        )


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        '{"x": {"a": 1, "a": 1}}',
        '{"k\\ud800": 1}',
        '{"k": "v\\udc00"}',
        '{"caf\\u0065\\u0301": 1}',
        '["e\\u0301"]',
        '{"n": 9007199254740992}',
        '{"n": 1.5}',
        '{"n": NaN}',
        '{"n": -Infinity}',
        "[[[[[[[[1]]]]]]]]",
        '{"a": [{"b": [{"c": "ok"}]}], "d": "é"}',
        '"plain text"',
    ],
)
def test_what_strict_json_refuses_is_refused_the_same(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _both(text.encode(), monkeypatch, max_depth=4)


def test_the_c_walk_says_plain_only_of_plain_values() -> None:
    assert speedups is not None
    fine = strict_json._text_is_fine
    assert speedups.plain_json({"a": ["é", 1, 1.5, None, True]}, 3, fine) is True
    assert speedups.plain_json({"a": "e\u0301"}, 3, fine) is False
    assert speedups.plain_json({"a\ud800": 1}, 3, fine) is False
    assert speedups.plain_json([[[1]]], 2, fine) is False
    assert speedups.plain_json([[[1]]], 3, fine) is True
    assert speedups.plain_json({"a": object()}, 3, fine) is False
    with pytest.raises(ValueError, match="max_depth"):
        speedups.plain_json({}, 0, fine)


def test_an_error_in_the_text_check_propagates() -> None:
    assert speedups is not None

    def broken(_text: str) -> bool:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        speedups.plain_json({"a": "é"}, 3, broken)
