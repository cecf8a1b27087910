"""``docex member``: a member's keys, made on its own machine (docs/keys.md, ADR 0024).

``docex member init`` makes the member (governance) account, the issuer key and the
encryption keyring in the data dir's ``keys/`` (each encrypted, with a random passphrase
file beside it, mode 0600; refused when any exists) and prints what to hand the
consortium: the public keys only, and the proposals to make. ``docex member
new-encryption-key`` rotates: it appends a key to the keyring (old keys stay, so
documents sealed for them still open) and prints the proposal that publishes it.

Exit codes: 0 done; 1 refused (a key file exists, no keyring to rotate); 2 usage error
or a file that cannot be read.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from certificates.errors import DocexError
from certificates.hashes import to_hex
from node.cli.exits import EXIT_REFUSED, EXIT_UNREADABLE, describe, fail
from node.cli.settings_options import ConfigOption, DataDirOption, settings_for

member_app = typer.Typer(
    name="member",
    help="Make this member's keys on its own machine and say what to propose.",
    no_args_is_help=True,
)

CountryOption = Annotated[
    str | None,
    typer.Option("--country", help="This member's ISO 3166-1 alpha-2 code (DOCEX_COUNTRY)."),
]
LightKdfOption = Annotated[
    bool,
    typer.Option("--light-kdf", help="FOR TESTS ONLY: a cheap scrypt cost that does not protect."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON object for scripts.")]


def register(app: typer.Typer) -> None:
    """Add ``docex member ...`` to ``app``."""
    app.add_typer(member_app)


def _kdf_iterations(light_kdf: bool) -> int | None:
    from certificates.keystore import LIGHT_SCRYPT_N  # eth-account: only when writing keys

    return LIGHT_SCRYPT_N if light_kdf else None


def _proposal_command(body: dict[str, Any]) -> str:
    return "docex consortium propose '" + json.dumps(body, separators=(",", ":")) + "'"


@member_app.command("init")
def init(
    name: Annotated[str, typer.Option("--name", help="The administration's name.")],
    country: CountryOption = None,
    light_kdf: LightKdfOption = False,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Make this member's keys in its data dir and print what to propose for its admission."""
    from node.consortium.member_keys import create_keyring, create_signing_key

    command = "member init"
    settings = settings_for(command, config, data_dir=data_dir, country=country)
    if not name.strip() or len(name) > 256:
        fail(command, EXIT_UNREADABLE, "--name is 1 to 256 characters")
    paths = {
        "member": settings.member_keystore_path,
        "issuer": settings.keystore_path,
        "encryption": settings.encryption_keyring_path,
    }
    existing = [
        str(candidate)
        for path in paths.values()
        for candidate in (path, path.with_suffix(".passphrase"))
        if candidate.exists() or candidate.is_symlink()
    ]
    if existing:
        fail(command, EXIT_REFUSED, f"refusing to overwrite existing keys: {', '.join(existing)}")
    iterations = _kdf_iterations(light_kdf)
    try:
        for path in paths.values():
            path.parent.mkdir(parents=True, exist_ok=True)
        member = create_signing_key(paths["member"], kdf_iterations=iterations)
        issuer = create_signing_key(paths["issuer"], kdf_iterations=iterations)
        keyring = create_keyring(paths["encryption"], kdf_iterations=iterations)
    except FileExistsError as error:
        fail(command, EXIT_REFUSED, f"refusing to overwrite {error}")
    except (OSError, DocexError) as error:
        fail(command, EXIT_UNREADABLE, f"cannot write the keys: {error}")
    public_key = to_hex(keyring.current.public_key)
    admission = {
        "action": "admitMember",
        "country": settings.country,
        "name": name,
        "account": member.address,
    }
    own = [
        {"action": "setEncryptionKey", "memberId": "<your member id>", "publicKey": public_key},
        {
            "action": "addKey",
            "memberId": "<your member id>",
            "account": issuer.address,
            "documentType": "<each document type you issue, e.g. coo/1>",
        },
    ]
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "country": settings.country,
                    "name": name,
                    "memberAccount": member.address,
                    "issuerAccount": issuer.address,
                    "encryptionPublicKey": public_key,
                    "keys": {role: str(path) for role, path in paths.items()},
                    "admission": admission,
                    "afterAdmission": own,
                }
            )
        )
        return
    typer.echo(f"Keys made in {settings.keys_dir} (private keys never leave this machine):")
    for role, path in paths.items():
        typer.echo(f"  {role + ':':<12} {path} (passphrase in {path.with_suffix('.passphrase')})")
    typer.echo("")
    typer.echo("Hand the consortium these public values:")
    typer.echo(f"  country:                {settings.country}")
    typer.echo(f"  name:                   {name}")
    typer.echo(f"  member account:         {member.address}")
    typer.echo(f"  issuer account:         {issuer.address}")
    typer.echo(f"  encryption public key:  {public_key}")
    typer.echo("")
    typer.echo("1. An existing member's administrator proposes the admission (its node):")
    typer.echo(f"     {_proposal_command(admission)}")
    typer.echo("   or POST /v1/consortium/proposals with that JSON body; a quorum approves:")
    typer.echo("     docex consortium approve <proposal id>")
    typer.echo("2. Once admitted, run this node (DOCEX_DEV_CONSORTIUM=false, the consortium's")
    typer.echo("   chain.json in the data dir) and propose your own keys from it:")
    for body in own:
        typer.echo(f"     {_proposal_command(body)}")
    typer.echo("   (they need your approval, which proposing gives, and the quorum's).")


@member_app.command("new-encryption-key")
def new_encryption_key(
    country: CountryOption = None,
    light_kdf: LightKdfOption = False,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Rotate: add a fresh encryption key to the keyring (old keys kept) and print the
    proposal that publishes it."""
    from node.consortium.member_keys import add_encryption_key

    command = "member new-encryption-key"
    settings = settings_for(command, config, data_dir=data_dir, country=country)
    path = settings.encryption_keyring_path
    if not path.is_file():
        fail(command, EXIT_REFUSED, f"no encryption keyring at {path} (docex member init)")
    try:
        pair = add_encryption_key(path, kdf_iterations=_kdf_iterations(light_kdf))
    except DocexError as error:
        fail(command, EXIT_REFUSED, describe(error))
    except (OSError, ValueError, IndexError) as error:
        fail(command, EXIT_UNREADABLE, f"cannot read or write {path}: {error}")
    body = {
        "action": "setEncryptionKey",
        "memberId": "<your member id>",
        "publicKey": to_hex(pair.public_key),
    }
    if as_json:
        typer.echo(json.dumps({"keyring": str(path), "proposal": body}))
        return
    typer.echo(f"New encryption key added to {path} (older keys kept).")
    typer.echo(f"Publish it: {_proposal_command(body)}")
