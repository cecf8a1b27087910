"""A member's key files on its own machine: the member (governance) account, the issuer key
and the encryption keyring, each encrypted, with its passphrase file beside it (mode 0600).

``<keys dir>/<CC>-member.json``, ``<CC>-issuer.json`` (V3 keystores, secp256k1) and
``<CC>-encryption.json`` (``docex-encryption-keys/1``: every X25519 key the member has had,
oldest first; ADR 0024). Nothing here ever reads another member's keys: a member's
private keys are made on its machine (``docex member init``) and only its public keys
leave it, through the consortium registry.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from eth_account import Account
from eth_account.signers.local import LocalAccount

from certificates.encryption_keyring import (
    EncryptionKeyPair,
    generate_encryption_key,
    keyring_entries,
    keyring_entry,
    keyring_json,
    open_keyring,
)
from certificates.errors import DocexError
from certificates.keystore import decrypt_keystore, encrypt_keystore
from node.errors import InvalidSettings

#: the key files of one member, by role
ROLES: Final = ("member", "issuer", "encryption")


def keystore_path(keys_dir: Path, country: str, role: str) -> Path:
    """``<keys dir>/<CC>-<role>.json`` (role: member, issuer or encryption)."""
    return keys_dir / f"{country}-{role}.json"


def passphrase_of(path: Path) -> str:
    """The passphrase in the file beside key file ``path`` (its first line)."""
    return path.with_suffix(".passphrase").read_text(encoding="utf-8").splitlines()[0]


def write_private(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600; never overwrite (O_EXCL)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(text)
        file.flush()
        os.fsync(file.fileno())


def _new_passphrase(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    passphrase = secrets.token_urlsafe(24)
    write_private(path.with_suffix(".passphrase"), passphrase + "\n")
    return passphrase


def create_signing_key(path: Path, *, kdf_iterations: int | None = None) -> LocalAccount:
    """A fresh secp256k1 key in keystore ``path`` (random passphrase beside it); refuses an
    existing file (``FileExistsError``)."""
    return save_signing_key(path, secrets.token_bytes(32), kdf_iterations=kdf_iterations)


def save_signing_key(path: Path, key: bytes, *, kdf_iterations: int | None = None) -> LocalAccount:
    """Keystore ``path`` for a key this member already holds (its Clique signer's, which
    is also its member account on a `docex network`), with a random passphrase beside
    it; refuses an existing file (``FileExistsError``)."""
    if path.exists() or path.with_suffix(".passphrase").exists():
        raise FileExistsError(path)
    passphrase = _new_passphrase(path)
    write_private(path, json.dumps(encrypt_keystore(key, passphrase, iterations=kdf_iterations)))
    account: LocalAccount = Account.from_key(key)
    return account


def read_signing_key(path: Path) -> LocalAccount:
    """The key in keystore ``path``, unlocked with the passphrase file beside it."""
    key = decrypt_keystore(json.loads(path.read_text(encoding="utf-8")), passphrase_of(path))
    account: LocalAccount = Account.from_key(key)
    return account


def load_or_create_key(path: Path, *, kdf_iterations: int | None = None) -> LocalAccount:
    """The key in keystore ``path``, created with a random passphrase when missing."""
    if not path.exists():
        return create_signing_key(path, kdf_iterations=kdf_iterations)
    return read_signing_key(path)


@dataclass(frozen=True, slots=True)
class EncryptionKeyring:
    """This member's X25519 key pairs, oldest first; the last is the one to publish."""

    pairs: tuple[EncryptionKeyPair, ...]

    @property
    def current(self) -> EncryptionKeyPair:
        return self.pairs[-1]

    @property
    def private_keys(self) -> tuple[bytes, ...]:
        return tuple(pair.private_key for pair in self.pairs)


def create_keyring(path: Path, *, kdf_iterations: int | None = None) -> EncryptionKeyring:
    """A new keyring of one fresh key at ``path`` (passphrase beside); refuses an existing
    file (``FileExistsError``)."""
    if path.exists() or path.with_suffix(".passphrase").exists():
        raise FileExistsError(path)
    passphrase = _new_passphrase(path)
    pair = generate_encryption_key()
    entry = keyring_entry(pair, passphrase, iterations=kdf_iterations)
    write_private(path, json.dumps(keyring_json([entry]), indent=2) + "\n")
    return EncryptionKeyring((pair,))


def read_keyring(path: Path) -> EncryptionKeyring:
    """The keyring at ``path``, unlocked with the passphrase file beside it."""
    return EncryptionKeyring(
        open_keyring(json.loads(path.read_text(encoding="utf-8")), passphrase_of(path))
    )


def load_or_create_keyring(path: Path, *, kdf_iterations: int | None = None) -> EncryptionKeyring:
    if not path.exists():
        return create_keyring(path, kdf_iterations=kdf_iterations)
    return read_keyring(path)


def add_encryption_key(path: Path, *, kdf_iterations: int | None = None) -> EncryptionKeyPair:
    """Append a fresh key to the keyring at ``path`` (a rotation: old keys are kept, so
    documents sealed for them still open) and return it. Written atomically."""
    document = json.loads(path.read_text(encoding="utf-8"))
    entries = keyring_entries(document)
    passphrase = passphrase_of(path)
    open_keyring(document, passphrase)  # the passphrase is right and every entry intact
    pair = generate_encryption_key()
    entries.append(keyring_entry(pair, passphrase, iterations=kdf_iterations))
    temporary = path.with_suffix(".new")
    temporary.unlink(missing_ok=True)
    write_private(temporary, json.dumps(keyring_json(entries), indent=2) + "\n")
    os.replace(temporary, path)
    return pair


def read_member_keyring(path: Path) -> EncryptionKeyring | None:
    """The keyring a node opens documents with, or None when it has none."""
    if not path.exists():
        return None
    try:
        return read_keyring(path)
    except (OSError, ValueError, IndexError, DocexError) as error:
        raise InvalidSettings(f"cannot read the encryption keyring {path}: {error}") from error
