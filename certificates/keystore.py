"""Passphrase-encrypted keystores: the Ethereum V3 JSON format ("Web3 Secret Storage").

A member's one secret is its secp256k1 signing key; the X25519 encryption key is derived
from it (:mod:`certificates.encryption_keys`), so a V3 keystore that geth, web3.py or
MetaMask can import holds both. Files are written here (salt, IV and id drawn from an
injectable random source) and read back through eth-account, the reference
implementation, after checking the structure and the KDF cost against docex's limits,
so that a hostile file cannot make the node spend gigabytes of memory.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Callable
from typing import Literal

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from eth_account import Account

from certificates.encryption_keys import check_signing_key, signing_address
from certificates.errors import InvalidKeystore, InvalidPrivateKey, KeystoreError, WrongPassphrase
from certificates.json_types import JsonObject, JsonValue
from certificates.keccak import keccak256

Kdf = Literal["scrypt", "pbkdf2"]

#: geth's "standard" scrypt cost: about 256 MiB and a second per unlock.
DEFAULT_SCRYPT_N = 2**18
#: For tests only (``docex keys new --light-kdf``): 4 MiB, milliseconds, offers no protection.
LIGHT_SCRYPT_N = 2**12
SCRYPT_R = 8
SCRYPT_P = 1
DEFAULT_PBKDF2_ITERATIONS = 1_000_000

# Limits on what a keystore may ask for, so that reading one is bounded in memory and time.
MAX_SCRYPT_MEMORY = 128 * 2**21  # 128 * n * r bytes: 256 MiB, geth's standard parameters
MAX_SCRYPT_P = 16
MAX_PBKDF2_ITERATIONS = 10_000_000
MIN_SALT_SIZE = 16
MAX_SALT_SIZE = 64

_DKLEN = 32
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")


def encrypt_keystore(
    private_key: bytes,
    passphrase: str,
    *,
    kdf: Kdf = "scrypt",
    iterations: int | None = None,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> JsonObject:
    """Return a V3 keystore of ``private_key`` encrypted under ``passphrase``.

    ``iterations`` is scrypt's ``n`` (a power of two) or PBKDF2-HMAC-SHA256's ``c``;
    by default geth's standard costs.
    """
    check_signing_key(private_key)
    if not isinstance(passphrase, str) or not passphrase:
        raise KeystoreError("the passphrase must not be empty")
    salt = _random(random_bytes, 32)
    iv = _random(random_bytes, 16)
    keystore_id = str(uuid.UUID(bytes=_random(random_bytes, 16), version=4))
    secret = passphrase.encode("utf-8")

    kdfparams: dict[str, JsonValue]
    if kdf == "scrypt":
        n = DEFAULT_SCRYPT_N if iterations is None else iterations
        _check_scrypt_cost(n, SCRYPT_R, SCRYPT_P, error=KeystoreError)
        derived_key = _scrypt(secret, salt, n, SCRYPT_R, SCRYPT_P)
        kdfparams = {"dklen": _DKLEN, "n": n, "r": SCRYPT_R, "p": SCRYPT_P, "salt": salt.hex()}
    elif kdf == "pbkdf2":
        c = DEFAULT_PBKDF2_ITERATIONS if iterations is None else iterations
        _check_pbkdf2_cost(c, error=KeystoreError)
        derived_key = hashlib.pbkdf2_hmac("sha256", secret, salt, c, _DKLEN)
        kdfparams = {"c": c, "dklen": _DKLEN, "prf": "hmac-sha256", "salt": salt.hex()}
    else:
        raise KeystoreError(f"unsupported key derivation function {kdf!r}")

    encryptor = Cipher(algorithms.AES(derived_key[:16]), modes.CTR(iv)).encryptor()
    ciphertext = encryptor.update(private_key) + encryptor.finalize()
    mac = keccak256(derived_key[16:32] + ciphertext)
    return {
        "address": signing_address(private_key).removeprefix("0x"),
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": {"iv": iv.hex()},
            "ciphertext": ciphertext.hex(),
            "kdf": kdf,
            "kdfparams": kdfparams,
            "mac": mac.hex(),
        },
        "id": keystore_id,
        "version": 3,
    }


def decrypt_keystore(keystore: JsonObject, passphrase: str) -> bytes:
    """Return the 32-byte private key in a V3 ``keystore``.

    Raises :class:`WrongPassphrase` when the MAC does not match and
    :class:`InvalidKeystore` for anything malformed or over docex's KDF limits; the
    message never carries the underlying library's exception text.
    """
    _check_v3_structure(keystore)
    if not isinstance(passphrase, str):
        raise KeystoreError("the passphrase must be a string")
    try:
        private_key = bytes(Account.decrypt(keystore, passphrase))
    except ValueError as error:
        if str(error) == "MAC mismatch":
            raise WrongPassphrase("wrong passphrase for this keystore") from None
        raise InvalidKeystore("the keystore cannot be decrypted") from None
    except Exception:
        raise InvalidKeystore("the keystore cannot be decrypted") from None
    try:
        check_signing_key(private_key)
    except InvalidPrivateKey:
        raise InvalidKeystore("the keystore does not hold a valid secp256k1 key") from None
    address = keystore.get("address")
    if isinstance(address, str) and (
        address.lower().removeprefix("0x") != signing_address(private_key).lower()[2:]
    ):
        raise InvalidKeystore("the keystore's address does not match the key it holds")
    return private_key


def keystore_address(keystore: JsonObject) -> str | None:
    """The address a keystore claims (unauthenticated until it is decrypted), ``0x``-prefixed."""
    address = keystore.get("address")
    if isinstance(address, str) and re.fullmatch(r"(0x)?[0-9a-fA-F]{40}", address):
        return "0x" + address.removeprefix("0x")
    return None


def _check_v3_structure(keystore: JsonObject) -> None:
    if not isinstance(keystore, dict):
        raise InvalidKeystore("a keystore is a JSON object")
    version = keystore.get("version")
    if type(version) is not int or version != 3:
        raise InvalidKeystore("only version 3 keystores are supported", path="/version")
    address = keystore.get("address")
    if address is not None and keystore_address(keystore) is None:
        raise InvalidKeystore("the address is not 20 bytes of hex", path="/address")
    crypto = _object(keystore.get("crypto"), "/crypto")
    if crypto.get("cipher") != "aes-128-ctr":
        raise InvalidKeystore("only the aes-128-ctr cipher is supported", path="/crypto/cipher")
    cipherparams = _object(crypto.get("cipherparams"), "/crypto/cipherparams")
    _hex(cipherparams.get("iv"), "/crypto/cipherparams/iv", 16, 16)
    _hex(crypto.get("ciphertext"), "/crypto/ciphertext", 32, 32)
    _hex(crypto.get("mac"), "/crypto/mac", 32, 32)
    kdfparams = _object(crypto.get("kdfparams"), "/crypto/kdfparams")
    _hex(kdfparams.get("salt"), "/crypto/kdfparams/salt", MIN_SALT_SIZE, MAX_SALT_SIZE)
    if kdfparams.get("dklen") != _DKLEN or type(kdfparams.get("dklen")) is not int:
        raise InvalidKeystore("dklen must be 32", path="/crypto/kdfparams/dklen")
    kdf = crypto.get("kdf")
    if kdf == "scrypt":
        n, r, p = (kdfparams.get(name) for name in ("n", "r", "p"))
        if not (type(n) is int and type(r) is int and type(p) is int):
            raise InvalidKeystore("scrypt n, r and p must be integers", path="/crypto/kdfparams")
        _check_scrypt_cost(n, r, p, error=InvalidKeystore)
    elif kdf == "pbkdf2":
        if kdfparams.get("prf") != "hmac-sha256":
            raise InvalidKeystore("only hmac-sha256 is supported", path="/crypto/kdfparams/prf")
        c = kdfparams.get("c")
        if type(c) is not int:
            raise InvalidKeystore("c must be an integer", path="/crypto/kdfparams/c")
        _check_pbkdf2_cost(c, error=InvalidKeystore)
    else:
        raise InvalidKeystore("kdf must be scrypt or pbkdf2", path="/crypto/kdf")


def _check_scrypt_cost(n: int, r: int, p: int, *, error: type[KeystoreError]) -> None:
    if n < 2 or n & (n - 1):
        raise error("scrypt n must be a power of two of at least 2", path="/crypto/kdfparams/n")
    if r < 1 or 128 * n * r > MAX_SCRYPT_MEMORY:
        raise error(
            f"scrypt n * r asks for more than {MAX_SCRYPT_MEMORY // 2**20} MiB",
            path="/crypto/kdfparams",
        )
    if not 1 <= p <= MAX_SCRYPT_P:
        raise error(f"scrypt p must be in [1, {MAX_SCRYPT_P}]", path="/crypto/kdfparams/p")


def _check_pbkdf2_cost(c: int, *, error: type[KeystoreError]) -> None:
    if not 1 <= c <= MAX_PBKDF2_ITERATIONS:
        raise error(f"pbkdf2 c must be in [1, {MAX_PBKDF2_ITERATIONS}]", path="/crypto/kdfparams/c")


def _scrypt(secret: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    # OpenSSL needs 128 * r * (n + p + 2) bytes; leave a little room for its bookkeeping.
    maxmem = 128 * r * (n + p + 2) + 2**20
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, dklen=_DKLEN, maxmem=maxmem)


def _object(value: object, path: str) -> dict[str, JsonValue]:
    if not isinstance(value, dict):
        raise InvalidKeystore("expected a JSON object", path=path)
    return value


def _hex(value: object, path: str, min_size: int, max_size: int) -> None:
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise InvalidKeystore("expected hex without 0x", path=path)
    if not min_size <= len(value) // 2 <= max_size:
        raise InvalidKeystore(f"expected {min_size} to {max_size} bytes of hex", path=path)


def _random(random_bytes: Callable[[int], bytes], size: int) -> bytes:
    value = random_bytes(size)
    if not isinstance(value, bytes) or len(value) != size:
        raise KeystoreError("the random source returned the wrong number of bytes")
    return value
