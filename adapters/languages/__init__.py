"""The languages docex speaks to people: one message catalogue per language
(``en.json``, ``vi.json``, ``ko.json`` in this package), shared by the web pages (served
as ``/web/i18n/{language}.json``) and the printed certificates (the ``print.*`` keys).

A catalogue maps a key to a message with ``{name}`` placeholders. Only docex's own words
are translated: a document's field values are always shown as issued. Check reasons are
keyed by their stable code (``code.<code>``), never by the English reason.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Final

#: the languages, English first (the fallback for a missing key or an unknown language)
LANGUAGES: Final = ("en", "vi", "ko")
DEFAULT_LANGUAGE: Final = "en"


@cache
def catalogue(language: str) -> dict[str, str]:
    """The messages of ``language`` (one of :data:`LANGUAGES`), by key."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalogue for language {language[:16]!r}")
    text = resources.files(__package__ or "adapters.languages").joinpath(f"{language}.json")
    loaded = json.loads(text.read_text(encoding="utf-8"))
    return {str(key): str(value) for key, value in loaded.items()}


def catalogue_bytes(language: str) -> bytes:
    """The catalogue of ``language`` as served to the pages (UTF-8 JSON)."""
    return json.dumps(catalogue(language), ensure_ascii=False).encode()


def preferred_language(accept_language: str | None) -> str:
    """The first of :data:`LANGUAGES` an ``Accept-Language`` header asks for, by its
    quality values (``vi-VN,vi;q=0.9,en;q=0.5`` gives ``vi``); English otherwise."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


class Messages:
    """The messages of one language, with English for a key it lacks."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self._own = catalogue(self.language)
        self._fallback = catalogue(DEFAULT_LANGUAGE)

    def __call__(self, key: str, **values: object) -> str:
        """The message ``key`` with its ``{name}`` placeholders filled from ``values``."""
        text = self._own.get(key) or self._fallback.get(key) or key
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text


__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Messages",
    "catalogue",
    "catalogue_bytes",
    "preferred_language",
]
