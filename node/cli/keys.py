"""``docex keys``: create and inspect a member's encrypted keystore (docs/keys.md).

Exit codes: 0 done; 1 refused (the output file exists, the passphrases differ, a wrong
passphrase, a malformed keystore); 2 usage error or an input file that cannot be read.
The private key is never printed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from certificates.encryption_keys import generate_signing_key, member_public_keys
from certificates.errors import DocexError, KeystoreError
from certificates.json_types import JsonObject
from certificates.keystore import LIGHT_SCRYPT_N, decrypt_keystore, encrypt_keystore

EXIT_REFUSED = 1
EXIT_UNREADABLE = 2

MIN_PASSPHRASE_LENGTH = 8
MAX_KEYSTORE_FILE_SIZE = 64 * 1024
MAX_PASSPHRASE_FILE_SIZE = 4 * 1024

keys_app = typer.Typer(
    name="keys",
    help="Create and inspect a member's encrypted keystore (signing + encryption key).",
    no_args_is_help=True,
)

PassphraseFileOption = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help="Read the passphrase from the first line of this file instead of prompting.",
        dir_okay=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON object for scripts.")]


@keys_app.command("new")
def new_keys(
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", help="Keystore file to create (never overwritten).", dir_okay=False
        ),
    ],
    passphrase_file: PassphraseFileOption = None,
    light_kdf: Annotated[
        bool,
        typer.Option(
            "--light-kdf",
            help="FOR TESTS ONLY: a cheap scrypt cost that does not protect the key.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a new member key and write it as an encrypted V3 keystore (mode 0600)."""
    if output.exists() or output.is_symlink():
        _fail(EXIT_REFUSED, f"{output} already exists; refusing to overwrite it")
    if passphrase_file is not None:
        passphrase = _read_passphrase_file(passphrase_file)
    else:
        passphrase = typer.prompt(
            "Passphrase for the new keystore",
            hide_input=True,
            confirmation_prompt="Repeat the passphrase",
        )
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        _fail(EXIT_REFUSED, f"the passphrase must have at least {MIN_PASSPHRASE_LENGTH} characters")

    signing_key = generate_signing_key()
    keystore = encrypt_keystore(
        signing_key, passphrase, iterations=LIGHT_SCRYPT_N if light_kdf else None
    )
    _write_new_file(output, json.dumps(keystore, indent=2, sort_keys=True) + "\n")
    _report(signing_key, output, as_json=as_json)


@keys_app.command("show")
def show_keys(
    keystore_file: Annotated[
        Path, typer.Argument(help="The keystore file.", dir_okay=False, metavar="FILE")
    ],
    passphrase_file: PassphraseFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print the address and the X25519 encryption public key held in a keystore."""
    keystore = _read_keystore(keystore_file)
    if passphrase_file is not None:
        passphrase = _read_passphrase_file(passphrase_file)
    else:
        passphrase = typer.prompt("Passphrase", hide_input=True)
    try:
        signing_key = decrypt_keystore(keystore, passphrase)
    except KeystoreError as error:
        _fail(EXIT_REFUSED, _describe(error))
    _report(signing_key, keystore_file, as_json=as_json)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.add_typer(keys_app)


def _report(signing_key: bytes, keystore_file: Path, *, as_json: bool) -> None:
    public = member_public_keys(signing_key)
    encryption_key = "0x" + public.encryption_public_key.hex()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "keystore": str(keystore_file),
                    "address": public.address,
                    "encryptionPublicKey": encryption_key,
                }
            )
        )
    else:
        typer.echo(f"keystore:              {keystore_file}")
        typer.echo(f"address:               {public.address}")
        typer.echo(f"encryption public key: {encryption_key}")


def _write_new_file(path: Path, text: str) -> None:
    # O_EXCL: a file that appeared since the check above is not overwritten either;
    # the mode is set explicitly because os.open's mode is filtered by the umask.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        _fail(EXIT_REFUSED, f"{path} already exists; refusing to overwrite it")
    except OSError as error:
        _fail(EXIT_UNREADABLE, f"cannot create {path}: {error.strerror}")
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(text)
        file.flush()
        os.fsync(file.fileno())


def _read_keystore(path: Path) -> JsonObject:
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_KEYSTORE_FILE_SIZE + 1)
    except OSError as error:
        _fail(EXIT_UNREADABLE, f"cannot read {path}: {error.strerror}")
    if len(raw) > MAX_KEYSTORE_FILE_SIZE:
        _fail(EXIT_REFUSED, f"{path} is larger than a keystore can be")
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        _fail(EXIT_REFUSED, f"invalid-keystore: {path} is not JSON")
    if not isinstance(value, dict):
        _fail(EXIT_REFUSED, f"invalid-keystore: {path} is not a JSON object")
    return value


def _read_passphrase_file(path: Path) -> str:
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_PASSPHRASE_FILE_SIZE + 1)
    except OSError as error:
        _fail(EXIT_UNREADABLE, f"cannot read the passphrase file {path}: {error.strerror}")
    if len(raw) > MAX_PASSPHRASE_FILE_SIZE:
        _fail(EXIT_REFUSED, f"the passphrase file {path} is too large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        _fail(EXIT_REFUSED, f"the passphrase file {path} is not UTF-8")
    lines = text.splitlines()
    return lines[0] if lines else ""


def _describe(error: DocexError) -> str:
    return f"{error.code}: {error}"


def _fail(exit_code: int, message: str) -> NoReturn:
    typer.echo(f"docex keys: {message}", err=True)
    raise typer.Exit(exit_code)
