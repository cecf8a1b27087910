"""keccak-256 (the Ethereum variant, not NIST SHA3-256), in C.

One function so that every hash in docex goes through one place. It is docex's own C
(certificates/_speedups.c, about three times faster per call than safe-pysha3, whose
object and digest calls cost more than a short message's hashing), checked against
safe-pysha3 by tests/unit/certificates/test_native_field_hashes.py; safe-pysha3 serves
where the module was not built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sha3 import keccak_256 as _keccak_256

from certificates.native import speedups


def _pysha3_keccak256(data: bytes) -> bytes:
    return _keccak_256(data).digest()  # type: ignore[no-any-return]


#: the 32-byte keccak-256 digest of its argument
keccak256: Callable[[bytes], bytes] = (
    speedups.keccak256 if speedups is not None else _pysha3_keccak256
)


def keccak256_each(messages: Iterable[bytes]) -> list[bytes]:
    """The keccak-256 digest of each of ``messages``, in order."""
    return list(map(keccak256, messages))
