"""Local signers from encrypted V3 keystores: the passphrase comes from the caller."""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from certificates.errors import KeystoreError
from certificates.keystore import decrypt_keystore


def signer_from_keystore(path: Path, passphrase: str) -> LocalAccount:
    """The account whose key ``path`` holds, decrypted with ``passphrase``."""
    try:
        keystore = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KeystoreError(f"keystore {path} unreadable: {exc}") from exc
    account: LocalAccount = Account.from_key(decrypt_keystore(keystore, passphrase))
    return account


def signer_from_key(private_key: bytes) -> LocalAccount:
    account: LocalAccount = Account.from_key(private_key)
    return account
