"""The message catalogues: the language an Accept-Language header asks for, English for
anything else, placeholders filled, English for a key a language lacks."""

from __future__ import annotations

import re

import pytest

from adapters.languages import LANGUAGES, Messages, catalogue, preferred_language


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7", "vi"),
        ("ko-KR", "ko"),
        ("en-GB,ko;q=0.9", "en"),
        ("fr-FR,fr;q=0.9,ko;q=0.4,vi;q=0.3", "ko"),
        ("vi;q=0.2,ko;q=0.8", "ko"),
        ("ko;q=0,vi", "vi"),
        ("ko;q=abc", "en"),
        ("*", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_the_preferred_language_follows_the_quality_values(
    header: str | None, language: str
) -> None:
    assert preferred_language(header) == language


def test_placeholders_are_filled_and_unknown_languages_speak_english() -> None:
    assert Messages("ko")("print.page", page=2, pages=3) == "2 / 3 쪽"
    assert Messages("xx")("verdict.valid") == "Valid document"
    assert Messages("vi")("no.such.key") == "no.such.key"


def test_every_language_uses_the_placeholders_english_does() -> None:
    english = catalogue("en")
    for language in LANGUAGES:
        for key, text in catalogue(language).items():
            assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", english[key])), (
                language,
                key,
            )
