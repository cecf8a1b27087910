"""Reading a member's keystore and passphrase from disk for the commands that sign."""

from __future__ import annotations

from pathlib import Path

import typer

from certificates.errors import DocexError, KeystoreError
from certificates.json_types import JsonObject
from certificates.strict_json import parse_strict_json
from node.cli.exits import EXIT_REFUSED, describe, fail
from node.cli.local.local_files import read_limited

MAX_KEYSTORE_FILE_SIZE = 64 * 1024
MAX_PASSPHRASE_FILE_SIZE = 4 * 1024


def read_keystore(command: str, path: Path) -> JsonObject:
    """The keystore JSON object in ``path`` (bounded read; clear failure otherwise)."""

    raw = read_limited(command, path, MAX_KEYSTORE_FILE_SIZE, what="keystore")
    try:
        value = parse_strict_json(raw, max_bytes=MAX_KEYSTORE_FILE_SIZE)
    except DocexError as error:
        fail(command, EXIT_REFUSED, f"invalid-keystore: {path} is not JSON ({error})")
    if not isinstance(value, dict):
        fail(command, EXIT_REFUSED, f"invalid-keystore: {path} is not a JSON object")
    return value


def read_passphrase_file(command: str, path: Path) -> str:
    """The first line of ``path``."""
    raw = read_limited(command, path, MAX_PASSPHRASE_FILE_SIZE, what="the passphrase file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        fail(command, EXIT_REFUSED, f"the passphrase file {path} is not UTF-8")
    lines = text.splitlines()
    return lines[0] if lines else ""


def unlock_signing_key(command: str, keystore_path: Path, passphrase_file: Path | None) -> bytes:
    """Decrypt the signing key in ``keystore_path`` (prompting for the passphrase if no file)."""
    from certificates.keystore import decrypt_keystore  # eth-account: only when unlocking

    keystore = read_keystore(command, keystore_path)
    if passphrase_file is not None:
        passphrase = read_passphrase_file(command, passphrase_file)
    else:
        passphrase = typer.prompt("Passphrase", hide_input=True)
    try:
        return decrypt_keystore(keystore, passphrase)
    except KeystoreError as error:
        fail(command, EXIT_REFUSED, describe(error))
