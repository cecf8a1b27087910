"""V3 keystores and the X25519 encryption key derived from a member's signing key."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from eth_account import Account

from certificates.encryption_keys import (
    SECP256K1_ORDER,
    encryption_private_key,
    encryption_public_key,
    generate_signing_key,
    member_public_keys,
    signing_address,
)
from certificates.errors import InvalidKeystore, InvalidPrivateKey, KeystoreError, WrongPassphrase
from certificates.json_types import JsonObject
from certificates.keystore import (
    LIGHT_SCRYPT_N,
    decrypt_keystore,
    encrypt_keystore,
    keystore_address,
)

# The well-known key of the Web3 Secret Storage examples: a test key, never a real one.
SIGNING_KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
PASSPHRASE = "correct horse battery staple"


def light_keystore(private_key: bytes = SIGNING_KEY, passphrase: str = PASSPHRASE) -> JsonObject:
    return encrypt_keystore(private_key, passphrase, iterations=LIGHT_SCRYPT_N)


def counter_random(seed: bytes) -> Callable[[int], bytes]:
    counter = 0

    def random_bytes(size: int) -> bytes:
        nonlocal counter
        counter += 1
        return hashlib.shake_256(seed + counter.to_bytes(8, "big")).digest(size)

    return random_bytes


# --- the encryption key derived from the signing key ------------------------------------------


def rfc5869_hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """HKDF written out from RFC 5869, independent of the implementation under test."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def test_the_encryption_key_is_hkdf_sha256_of_the_signing_key_with_the_docex_label() -> None:
    label = b"docex/x25519/v1"
    assert encryption_private_key(SIGNING_KEY) == rfc5869_hkdf_sha256(SIGNING_KEY, label, label, 32)


def test_the_encryption_public_key_belongs_to_the_derived_private_key() -> None:
    expected = (
        X25519PrivateKey.from_private_bytes(encryption_private_key(SIGNING_KEY))
        .public_key()
        .public_bytes_raw()
    )
    assert encryption_public_key(SIGNING_KEY) == expected


def test_the_derivation_is_pinned_so_published_encryption_keys_never_change() -> None:
    # Changing the label or the KDF would silently change every member's published key.
    assert encryption_public_key(SIGNING_KEY).hex() == (
        "7d9b1a5053ae3b3d0ff3fd54517737ff076015cc9d8cb34d08a05f26f9ee9b02"
    )


def test_the_encryption_key_is_not_the_signing_key() -> None:
    assert encryption_private_key(SIGNING_KEY) != SIGNING_KEY


def test_different_signing_keys_give_different_encryption_keys() -> None:
    other = hashlib.sha256(b"other member").digest()
    assert encryption_public_key(SIGNING_KEY) != encryption_public_key(other)


def test_member_public_keys_are_the_address_and_the_encryption_public_key() -> None:
    public = member_public_keys(SIGNING_KEY)
    assert public.address == Account.from_key(SIGNING_KEY).address == signing_address(SIGNING_KEY)
    assert public.encryption_public_key == encryption_public_key(SIGNING_KEY)


@pytest.mark.parametrize(
    "signing_key",
    [
        bytes(32),
        SECP256K1_ORDER.to_bytes(32, "big"),
        b"\xff" * 32,
        SIGNING_KEY[:31],
        SIGNING_KEY + b"\x00",
    ],
    ids=["zero", "group order", "all ones", "31 bytes", "33 bytes"],
)
def test_key_material_outside_the_secp256k1_range_is_rejected(signing_key: bytes) -> None:
    with pytest.raises(InvalidPrivateKey):
        encryption_private_key(signing_key)


def test_generated_signing_keys_skip_values_outside_the_secp256k1_range() -> None:
    draws = iter([bytes(32), b"\xff" * 32, SIGNING_KEY])
    assert generate_signing_key(lambda size: next(draws)) == SIGNING_KEY


# --- keystores --------------------------------------------------------------------------------


def test_a_keystore_round_trips_the_private_key() -> None:
    assert decrypt_keystore(light_keystore(), PASSPHRASE) == SIGNING_KEY


def test_a_pbkdf2_keystore_round_trips_the_private_key() -> None:
    keystore = encrypt_keystore(SIGNING_KEY, PASSPHRASE, kdf="pbkdf2", iterations=1000)
    assert decrypt_keystore(keystore, PASSPHRASE) == SIGNING_KEY


def test_the_keystore_survives_json_text() -> None:
    keystore = json.loads(json.dumps(light_keystore()))
    assert decrypt_keystore(keystore, PASSPHRASE) == SIGNING_KEY


def test_a_wrong_passphrase_is_a_keystore_error_that_leaks_nothing() -> None:
    with pytest.raises(WrongPassphrase) as raised:
        decrypt_keystore(light_keystore(), PASSPHRASE + "!")
    assert raised.value.code == "wrong-passphrase"
    assert "MAC" not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_eth_account_reads_docex_keystores() -> None:
    assert bytes(Account.decrypt(light_keystore(), PASSPHRASE)) == SIGNING_KEY


@pytest.mark.parametrize("kdf", ["scrypt", "pbkdf2"])
def test_docex_reads_eth_account_keystores(kdf: str) -> None:
    keystore = Account.encrypt(SIGNING_KEY, PASSPHRASE, kdf=kdf, iterations=16)  # type: ignore[arg-type]
    assert decrypt_keystore(keystore, PASSPHRASE) == SIGNING_KEY


def test_the_keystore_records_the_checksummed_address() -> None:
    keystore = light_keystore()
    assert keystore["address"] == signing_address(SIGNING_KEY)[2:]
    assert keystore_address(keystore) == signing_address(SIGNING_KEY)


def test_the_keystore_does_not_contain_the_private_key() -> None:
    assert SIGNING_KEY.hex() not in json.dumps(light_keystore()).lower()


def test_keystore_randomness_comes_only_from_the_injected_source() -> None:
    def keystore_with(seed: bytes) -> JsonObject:
        return encrypt_keystore(
            SIGNING_KEY, PASSPHRASE, iterations=LIGHT_SCRYPT_N, random_bytes=counter_random(seed)
        )

    assert keystore_with(b"a") == keystore_with(b"a")
    assert keystore_with(b"a")["crypto"] != keystore_with(b"b")["crypto"]


def test_an_empty_passphrase_is_refused() -> None:
    with pytest.raises(KeystoreError):
        encrypt_keystore(SIGNING_KEY, "", iterations=LIGHT_SCRYPT_N)


def test_an_invalid_private_key_is_refused() -> None:
    with pytest.raises(InvalidPrivateKey):
        encrypt_keystore(bytes(32), PASSPHRASE, iterations=LIGHT_SCRYPT_N)


@pytest.mark.parametrize("n", [0, 1, 3, 1000, 2**22])
def test_encrypting_with_a_scrypt_cost_docex_would_not_read_is_refused(n: int) -> None:
    with pytest.raises(KeystoreError):
        encrypt_keystore(SIGNING_KEY, PASSPHRASE, iterations=n)


def _mutated(path: tuple[str, ...], value: object) -> JsonObject:
    keystore = copy.deepcopy(light_keystore())
    target: dict = keystore  # type: ignore[type-arg]
    for step in path[:-1]:
        target = target[step]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return keystore


_DELETE = object()

MALFORMED_KEYSTORES: dict[str, tuple[tuple[str, ...], object]] = {
    "version 4": (("version",), 4),
    "version as text": (("version",), "3"),
    "version true": (("version",), True),
    "no crypto": (("crypto",), _DELETE),
    "crypto not an object": (("crypto",), []),
    "cbc cipher": (("crypto", "cipher"), "aes-128-cbc"),
    "iv of 15 bytes": (("crypto", "cipherparams", "iv"), "00" * 15),
    "iv not hex": (("crypto", "cipherparams", "iv"), "zz" * 16),
    "ciphertext of 33 bytes": (("crypto", "ciphertext"), "00" * 33),
    "mac with 0x": (("crypto", "mac"), "0x" + "00" * 31),
    "unknown kdf": (("crypto", "kdf"), "argon2id"),
    "dklen 16": (("crypto", "kdfparams", "dklen"), 16),
    "short salt": (("crypto", "kdfparams", "salt"), "00" * 8),
    "n not a power of two": (("crypto", "kdfparams", "n"), 1000),
    "n as text": (("crypto", "kdfparams", "n"), "4096"),
    "n asking for 128 GiB": (("crypto", "kdfparams", "n"), 2**30),
    "r asking for 1 GiB": (("crypto", "kdfparams", "r"), 2**11),
    "p of 1000": (("crypto", "kdfparams", "p"), 1000),
    "address not hex": (("address",), "not an address"),
    "address of another key": (("address",), "00" * 20),
}


@pytest.mark.parametrize("name", list(MALFORMED_KEYSTORES))
def test_malformed_keystores_are_rejected_quickly_with_a_typed_error(name: str) -> None:
    path, value = MALFORMED_KEYSTORES[name]
    started = time.monotonic()
    with pytest.raises(InvalidKeystore) as raised:
        decrypt_keystore(_mutated(path, value), PASSPHRASE)
    assert time.monotonic() - started < 5
    assert raised.value.__cause__ is None


def test_a_pbkdf2_keystore_asking_for_too_many_iterations_is_rejected() -> None:
    keystore = encrypt_keystore(SIGNING_KEY, PASSPHRASE, kdf="pbkdf2", iterations=1000)
    keystore["crypto"]["kdfparams"]["c"] = 10**9  # type: ignore[call-overload,index]
    with pytest.raises(InvalidKeystore):
        decrypt_keystore(keystore, PASSPHRASE)


def test_a_tampered_ciphertext_fails_its_mac() -> None:
    keystore = light_keystore()
    crypto = keystore["crypto"]
    assert isinstance(crypto, dict)
    ciphertext = crypto["ciphertext"]
    assert isinstance(ciphertext, str)
    crypto["ciphertext"] = ("1" if ciphertext[0] == "0" else "0") + ciphertext[1:]
    with pytest.raises(WrongPassphrase):
        decrypt_keystore(keystore, PASSPHRASE)


@pytest.mark.parametrize("value", [[], "keystore", None])
def test_a_keystore_that_is_not_an_object_is_rejected(value: object) -> None:
    with pytest.raises(InvalidKeystore):
        decrypt_keystore(value, PASSPHRASE)  # type: ignore[arg-type]
