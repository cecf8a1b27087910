"""Validation messages in words: no raw regular expressions, no input echoed in full.

Pydantic says "String should match pattern '^0x[0-9a-f]{64}$'"; an officer retyping a
target hash from paper should read what is expected instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from certificates.hashes import HASH_DESCRIPTION, HASH_PATTERN

#: the patterns the API uses, in words
_PATTERN_WORDS: Final = {
    HASH_PATTERN: HASH_DESCRIPTION,
    r"^[A-Z]{2}$": "a two-letter country code in capitals (ISO 3166-1, e.g. VN)",
    r"^0x[0-9a-fA-F]{40}$": "an address: 0x followed by 40 hexadecimal digits",
}
_PATTERN_MESSAGE: Final = re.compile(r"^String should match pattern '(?P<pattern>.*)'$", re.S)
MAX_SHOWN: Final = 200


def plain_message(detail: Mapping[str, Any]) -> str:
    """One pydantic error detail as a sentence a person can act on."""
    message = str(detail.get("msg", ""))
    match = _PATTERN_MESSAGE.match(message)
    if match:
        words = _PATTERN_WORDS.get(match.group("pattern"), "a value in the expected form")
        message = f"should be {words}"
    return message if len(message) <= MAX_SHOWN else message[: MAX_SHOWN - 3] + "..."
