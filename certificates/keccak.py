"""keccak-256 (the Ethereum variant, not NIST SHA3-256), via the C backend of safe-pysha3.

One function so that every hash in docex goes through one place; safe-pysha3 is about
four times faster per call than pycryptodome, which matters when every field of every
document is hashed.
"""

from __future__ import annotations

from collections.abc import Iterable

from sha3 import keccak_256 as _keccak_256


def keccak256(data: bytes) -> bytes:
    """Return the 32-byte keccak-256 digest of ``data``."""
    return _keccak_256(data).digest()  # type: ignore[no-any-return]


def keccak256_each(messages: Iterable[bytes]) -> list[bytes]:
    """The keccak-256 digest of each of ``messages``, in order (one Python call for all
    the field hashes of a document, not one per field)."""
    return [_keccak_256(message).digest() for message in messages]
