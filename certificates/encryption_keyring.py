"""A member's encryption keyring: its X25519 private keys, oldest first, each sealed in a
V3 keystore (``docex-encryption-keys/1``, ADR 0024).

The encryption key is generated on the member's own machine, independent of its signing
key; a rotation appends a new key and keeps the old ones, so envelopes sealed for an old
key still open. Each entry carries its public key, checked against the private key when
the keyring is opened (a swapped or edited entry is refused).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from certificates.encryption_keys import generate_signing_key, x25519_public_key
from certificates.errors import InvalidKeystore
from certificates.hashes import to_hex
from certificates.json_types import JsonObject, JsonValue
from certificates.keystore import decrypt_keystore, encrypt_keystore

KEYRING_FORMAT: Final = "docex-encryption-keys/1"
#: a keyring keeps every key a member ever had; this bounds what a node reads at start
MAX_KEYRING_KEYS: Final = 1024


@dataclass(frozen=True, slots=True)
class EncryptionKeyPair:
    """One X25519 key pair of a member's keyring."""

    private_key: bytes
    public_key: bytes

    @classmethod
    def of(cls, private_key: bytes) -> EncryptionKeyPair:
        return cls(private_key, x25519_public_key(private_key))


def generate_encryption_key(
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> EncryptionKeyPair:
    """A fresh X25519 key pair. The private key is drawn like a secp256k1 key (a 32-byte
    value in ``[1, n - 1]``: any 32 bytes are an X25519 scalar, and this range lets the V3
    keystore hold it); it is independent of every signing key."""
    return EncryptionKeyPair.of(generate_signing_key(random_bytes))


def keyring_entry(
    pair: EncryptionKeyPair,
    passphrase: str,
    *,
    iterations: int | None = None,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> JsonObject:
    """One keyring entry: the public key and the private key's V3 keystore (no address:
    an encryption key has none)."""
    keystore = encrypt_keystore(
        pair.private_key, passphrase, iterations=iterations, random_bytes=random_bytes
    )
    keystore.pop("address", None)
    return {"publicKey": to_hex(pair.public_key), "keystore": keystore}


def keyring_json(entries: Sequence[JsonObject]) -> JsonObject:
    """The keyring document of ``entries`` (oldest first)."""
    keys: list[JsonValue] = list(entries)
    return {"format": KEYRING_FORMAT, "keys": keys}


def keyring_entries(value: JsonValue) -> list[JsonObject]:
    """The entries of a keyring document, structure checked (nothing decrypted)."""
    if not isinstance(value, dict) or value.get("format") != KEYRING_FORMAT:
        raise InvalidKeystore(f"not a {KEYRING_FORMAT} keyring")
    keys = value.get("keys")
    if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_KEYRING_KEYS:
        raise InvalidKeystore(f"a keyring holds 1 to {MAX_KEYRING_KEYS} keys", path="/keys")
    entries: list[JsonObject] = []
    for index, entry in enumerate(keys):
        if (
            not isinstance(entry, dict)
            or set(entry) != {"publicKey", "keystore"}
            or not isinstance(entry["publicKey"], str)
            or not isinstance(entry["keystore"], dict)
        ):
            raise InvalidKeystore("a keyring entry is {publicKey, keystore}", path=f"/keys/{index}")
        entries.append(entry)
    return entries


def open_keyring(value: JsonValue, passphrase: str) -> tuple[EncryptionKeyPair, ...]:
    """Every key pair of a keyring, oldest first; :class:`InvalidKeystore` when an entry's
    public key is not its private key's, ``WrongPassphrase`` for a wrong passphrase."""
    pairs: list[EncryptionKeyPair] = []
    for index, entry in enumerate(keyring_entries(value)):
        keystore = entry["keystore"]
        assert isinstance(keystore, dict)
        pair = EncryptionKeyPair.of(decrypt_keystore(keystore, passphrase))
        if to_hex(pair.public_key) != str(entry["publicKey"]).lower():
            raise InvalidKeystore(
                "the entry's public key does not belong to its private key",
                path=f"/keys/{index}/publicKey",
            )
        pairs.append(pair)
    return tuple(pairs)
