"""The one hash type at every boundary: 32 bytes, written ``0x`` + 64 lower-case hex.

Target hashes, batch roots, transaction and block hashes all cross docex's boundaries
(JSON, URLs, the chain, the CLI) in this one form. Inside, they are ``bytes``. People
retype target hashes from paper: :func:`parse_hash` with ``lenient=True`` also takes
upper case, surrounding spaces and a missing ``0x``; everything docex writes is the
canonical form.
"""

from __future__ import annotations

import re
from typing import Final

from certificates.errors import InvalidInput

#: the canonical written form, as a regular expression (JSON Schema, OpenAPI, routes)
HASH_PATTERN: Final = r"^0x[0-9a-f]{64}$"
HASH_RE: Final = re.compile(HASH_PATTERN)
#: what :func:`parse_hash` accepts when lenient (upper case, no ``0x``)
_LENIENT_RE: Final = re.compile(r"^(?:0[xX])?([0-9a-fA-F]{64})$")
HASH_SIZE: Final = 32
#: how the form is named in error messages (never the regular expression)
HASH_DESCRIPTION: Final = "0x followed by 64 hexadecimal digits"


def to_hex(value: bytes) -> str:
    """``0x`` + lower-case hex of ``value`` (a hash, an address, any bytes)."""
    return "0x" + value.hex()


def hash_hex(value: bytes) -> str:
    """The canonical written form of a 32-byte hash."""
    if len(value) != HASH_SIZE:
        raise InvalidInput(f"a hash is {HASH_SIZE} bytes, not {len(value)}")
    return to_hex(value)


def is_hash_hex(text: object) -> bool:
    """Whether ``text`` is a hash in the canonical form."""
    return isinstance(text, str) and HASH_RE.fullmatch(text) is not None


def canonical_hash(text: str, *, lenient: bool = False) -> str | None:
    """``text`` in the canonical form, or None when it is not a hash (``lenient``: also
    upper case, surrounding spaces, no ``0x``)."""
    if HASH_RE.fullmatch(text):
        return text
    if not lenient:
        return None
    match = _LENIENT_RE.fullmatch(text.strip())
    return "0x" + match.group(1).lower() if match else None


def parse_hash(text: str, *, lenient: bool = False, path: str | None = None) -> bytes:
    """The 32 bytes ``text`` names; :class:`InvalidInput` naming the expected form if not."""
    canonical = canonical_hash(text, lenient=lenient)
    if canonical is None:
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise InvalidInput(f"expected a hash ({HASH_DESCRIPTION}), got {shown!r}", path=path)
    return bytes.fromhex(canonical[2:])
