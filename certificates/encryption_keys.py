"""A member's two keys from one secret: the secp256k1 signing key and its X25519 encryption key.

The X25519 private key is HKDF-SHA256 of the secp256k1 private key (salt and info
``docex/x25519/v1``), so one keystore holds both and the two keys never share key
material directly (ADR 0003).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from certificates.errors import InvalidPrivateKey
from certificates.signing import address_of

#: Order of the secp256k1 group: a signing key is an integer in [1, n - 1].
SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

X25519_DERIVATION_LABEL = b"docex/x25519/v1"
KEY_SIZE = 32


@dataclass(frozen=True, slots=True)
class MemberPublicKeys:
    """What a member publishes: its Ethereum address and its X25519 encryption public key."""

    address: str
    encryption_public_key: bytes


def generate_signing_key(random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> bytes:
    """Return a fresh 32-byte secp256k1 private key (rejection sampling into [1, n - 1])."""
    while True:
        candidate = random_bytes(KEY_SIZE)
        if len(candidate) != KEY_SIZE:
            raise InvalidPrivateKey("the random source returned the wrong number of bytes")
        if 0 < int.from_bytes(candidate, "big") < SECP256K1_ORDER:
            return candidate


def check_signing_key(signing_key: bytes) -> None:
    """Raise :class:`InvalidPrivateKey` unless ``signing_key`` is a valid secp256k1 key."""
    if not isinstance(signing_key, bytes) or len(signing_key) != KEY_SIZE:
        raise InvalidPrivateKey("a signing key is 32 bytes")
    if not 0 < int.from_bytes(signing_key, "big") < SECP256K1_ORDER:
        raise InvalidPrivateKey("the signing key is outside the secp256k1 range [1, n - 1]")


def encryption_private_key(signing_key: bytes) -> bytes:
    """Return the 32-byte X25519 private key derived from a secp256k1 ``signing_key``."""
    check_signing_key(signing_key)
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_SIZE,
        salt=X25519_DERIVATION_LABEL,
        info=X25519_DERIVATION_LABEL,
    )
    return hkdf.derive(signing_key)


def x25519_public_key(private_key: bytes) -> bytes:
    """Return the 32-byte X25519 public key of a 32-byte X25519 private key."""
    if not isinstance(private_key, bytes) or len(private_key) != KEY_SIZE:
        raise InvalidPrivateKey("an X25519 private key is 32 bytes")
    return X25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes_raw()


def encryption_public_key(signing_key: bytes) -> bytes:
    """Return the 32-byte X25519 public key that belongs to a secp256k1 ``signing_key``."""
    return x25519_public_key(encryption_private_key(signing_key))


def signing_address(signing_key: bytes) -> str:
    """Return the EIP-55 checksummed Ethereum address of a secp256k1 ``signing_key``."""
    check_signing_key(signing_key)
    return address_of(signing_key)


def member_public_keys(signing_key: bytes) -> MemberPublicKeys:
    """Return the public half of a member's keys: address and encryption public key."""
    return MemberPublicKeys(
        address=signing_address(signing_key),
        encryption_public_key=encryption_public_key(signing_key),
    )
