"""A member's encryption keyring: X25519 keys made independently of its signing key, every
key kept (oldest first), each entry's public key checked against its private key."""

from __future__ import annotations

import copy

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from certificates.encryption_keyring import (
    KEYRING_FORMAT,
    EncryptionKeyPair,
    generate_encryption_key,
    keyring_entry,
    keyring_json,
    open_keyring,
)
from certificates.encryption_keys import encryption_public_key, generate_signing_key
from certificates.envelope import Recipient, open_envelope, seal
from certificates.errors import InvalidKeystore, WrongPassphrase
from certificates.keystore import LIGHT_SCRYPT_N

PASSPHRASE = "correct horse battery staple"


def entry(pair: EncryptionKeyPair, passphrase: str = PASSPHRASE) -> dict[str, object]:
    return keyring_entry(pair, passphrase, iterations=LIGHT_SCRYPT_N)


def test_a_generated_key_pair_is_an_x25519_pair() -> None:
    pair = generate_encryption_key()
    expected = X25519PrivateKey.from_private_bytes(pair.private_key).public_key()
    assert pair.public_key == expected.public_bytes_raw()
    assert generate_encryption_key().private_key != pair.private_key


def test_the_encryption_key_is_not_the_one_derived_from_a_signing_key() -> None:
    """Rotating the signing key no longer changes the key that opens old envelopes."""
    signing_key = generate_signing_key()
    pair = generate_encryption_key()
    assert pair.public_key != encryption_public_key(signing_key)


def test_a_keyring_keeps_every_key_oldest_first() -> None:
    old, new = generate_encryption_key(), generate_encryption_key()
    document = keyring_json([entry(old), entry(new)])
    assert document["format"] == KEYRING_FORMAT
    assert open_keyring(document, PASSPHRASE) == (old, new)


def test_an_envelope_sealed_for_an_old_key_opens_with_the_keyring() -> None:
    old, new = generate_encryption_key(), generate_encryption_key()
    envelope = seal(
        b"document",
        document_id="0x01",
        target_hash=bytes(32),
        recipients=[Recipient("MY:1", old.public_key)],
    )
    pairs = open_keyring(keyring_json([entry(old), entry(new)]), PASSPHRASE)
    opened = open_envelope(
        envelope,
        key_id="MY:1",
        private_key=pairs[0].private_key,
        document_id="0x01",
        target_hash=bytes(32),
    )
    assert opened == b"document"


def test_a_wrong_passphrase_is_refused() -> None:
    document = keyring_json([entry(generate_encryption_key())])
    with pytest.raises(WrongPassphrase):
        open_keyring(document, "another passphrase")


def test_an_entry_whose_public_key_is_not_its_private_keys_is_refused() -> None:
    """Attack: a swapped public key would make others seal for a key nobody holds."""
    document = keyring_json([entry(generate_encryption_key())])
    swapped = copy.deepcopy(document)
    keys = swapped["keys"]
    assert isinstance(keys, list)
    assert isinstance(keys[0], dict)
    keys[0]["publicKey"] = "0x" + generate_encryption_key().public_key.hex()
    with pytest.raises(InvalidKeystore):
        open_keyring(swapped, PASSPHRASE)


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"format": "docex-members/1", "keys": []},
        {"format": KEYRING_FORMAT, "keys": []},
        {"format": KEYRING_FORMAT, "keys": [{"publicKey": "0x00"}]},
        {"format": KEYRING_FORMAT, "keys": [{"publicKey": 1, "keystore": {}}]},
        [],
    ],
)
def test_a_malformed_keyring_is_refused(document: object) -> None:
    with pytest.raises(InvalidKeystore):
        open_keyring(document, PASSPHRASE)  # type: ignore[arg-type]
