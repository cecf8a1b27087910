"""``docex keys``: create and inspect an encrypted signing keystore (docs/keys.md).

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

from node.cli.exits import EXIT_REFUSED, EXIT_UNREADABLE, fail
from node.cli.local.key_files import read_passphrase_file, unlock_signing_key

MIN_PASSPHRASE_LENGTH = 8

keys_app = typer.Typer(
    name="keys",
    help="Create and inspect an encrypted signing keystore (a member or issuer account).",
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
        passphrase = read_passphrase_file("keys", passphrase_file)
    else:
        passphrase = typer.prompt(
            "Passphrase for the new keystore",
            hide_input=True,
            confirmation_prompt="Repeat the passphrase",
        )
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        _fail(EXIT_REFUSED, f"the passphrase must have at least {MIN_PASSPHRASE_LENGTH} characters")

    from certificates.encryption_keys import generate_signing_key  # eth-account: lazily
    from certificates.keystore import LIGHT_SCRYPT_N, encrypt_keystore

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
    """Print the address of the key held in a keystore."""
    signing_key = unlock_signing_key("keys", keystore_file, passphrase_file)
    _report(signing_key, keystore_file, as_json=as_json)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.add_typer(keys_app)


def _report(signing_key: bytes, keystore_file: Path, *, as_json: bool) -> None:
    """The address only: a member's encryption key is a key of its own, made by
    ``docex member init`` (ADR 0024), never derived from a signing key."""
    from certificates.encryption_keys import signing_address

    address = signing_address(signing_key)
    if as_json:
        typer.echo(json.dumps({"keystore": str(keystore_file), "address": address}))
    else:
        typer.echo(f"keystore: {keystore_file}")
        typer.echo(f"address:  {address}")


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


def _fail(exit_code: int, message: str) -> NoReturn:
    fail("keys", exit_code, message)
