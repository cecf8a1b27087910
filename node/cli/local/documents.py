"""``docex wrap``, ``docex check``, ``docex conceal``: the offline document commands.

Exit codes (``check``): 0 valid; 1 invalid (altered, not of its batch, bad signature, not
a wrapped document); 2 the file cannot be read or is not strict JSON at all.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from certificates.errors import DocexError
from certificates.json_types import JsonObject, JsonValue
from node.cli.exits import EXIT_INVALID, EXIT_OK, EXIT_REFUSED, EXIT_UNREADABLE, describe, fail
from node.cli.local.key_files import unlock_signing_key
from node.cli.local.local_files import UnreadableFile, read_bounded, read_limited

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from certificates.signing import Eip712Domain
    from certificates.verdict import Verdict

# The document core (pydantic schemas, secp256k1, keccak) is imported inside the commands
# that use it, so that commands such as `docex cid` start light.

#: A wrapped document is its data plus a salt per field: allow well above a document.
MAX_DOCUMENT_FILE_SIZE = 1024 * 1024
MAX_WRAPPED_FILE_SIZE = 4 * 1024 * 1024
MANIFEST_NAME = "batch-manifest.json"
WRAPPED_SUFFIX = ".wrapped.json"

ChainIdOption = Annotated[
    int | None,
    typer.Option("--chain-id", help="Chain id of the consortium chain (EIP-712 domain)."),
]
RegistryOption = Annotated[
    str | None,
    typer.Option("--registry", help="DocumentRegistry address (EIP-712 verifying contract)."),
]


def register(app: typer.Typer) -> None:
    """Add ``wrap``, ``check`` and ``conceal`` to ``app``."""
    app.command("wrap")(wrap_documents)
    app.command("check")(check_document)
    app.command("conceal")(conceal_fields)


def wrap_documents(
    files: Annotated[list[Path], typer.Argument(help="Document JSON files (one type).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Directory to create.")],
    key: Annotated[Path, typer.Option("--key", help="Issuer keystore (docex keys new).")],
    registry: Annotated[
        str, typer.Option("--registry", help="DocumentRegistry address the batch is for.")
    ],
    chain_id: Annotated[int, typer.Option("--chain-id", help="Chain id the batch is for.")],
    passphrase_file: Annotated[
        Path | None, typer.Option("--passphrase-file", help="Keystore passphrase file.")
    ] = None,
    conceal: Annotated[
        list[str] | None,
        typer.Option("--conceal", help="JSON Pointer of a field to conceal in every output."),
    ] = None,
) -> None:
    """Validate, salt, batch and sign documents; all or nothing.

    Writes OUTPUT/<name>.wrapped.json per document and OUTPUT/batch-manifest.json.
    One invalid document aborts the batch, naming its file and JSON path.
    """
    from rich.console import Console

    from certificates.schemas import parse_document
    from certificates.wrapping import BatchBuilder

    command = "wrap"
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        fail(command, EXIT_UNREADABLE, f"{output} exists and is not an empty directory")
    names = [_wrapped_name(path) for path in files]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        fail(command, EXIT_UNREADABLE, f"two inputs would both write {duplicates[0]}")
    domain = _domain(command, chain_id, registry)
    console = Console(stderr=True)
    builder = BatchBuilder()
    with _progress(console) as progress:
        task = progress.add_task("validating and hashing", total=len(files))
        for path in files:
            raw = read_limited(command, path, MAX_DOCUMENT_FILE_SIZE)
            try:
                builder.add(parse_document(raw, max_bytes=MAX_DOCUMENT_FILE_SIZE))
            except DocexError as error:
                fail(command, EXIT_REFUSED, f"{path}: {describe(error)}; nothing was written")
            progress.advance(task)
    signing_key = unlock_signing_key(command, key, passphrase_file)
    try:
        batch = builder.sign(signing_key=signing_key, domain=domain)
    except DocexError as error:
        fail(command, EXIT_REFUSED, f"{describe(error)}; nothing was written")
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        with _progress(console) as progress:
            task = progress.add_task("writing", total=len(batch))
            for name, document in zip(names, batch, strict=True):
                try:
                    shown = document.conceal(conceal) if conceal else document
                except DocexError as error:
                    fail(command, EXIT_REFUSED, f"{describe(error)}; nothing was written")
                _write_json(staging / name, shown.to_json())
                progress.advance(task)
        _write_json(staging / MANIFEST_NAME, batch.manifest(names))
        if output.exists():
            output.rmdir()
        os.replace(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    typer.echo(
        f"wrapped {len(batch)} {batch.anchor.document_type} document(s) into {output}; "
        f"batch root 0x{batch.anchor.root.hex()} signed by {batch.signature.signer}"
    )


def check_document(
    files: Annotated[
        list[Path], typer.Argument(help="Wrapped documents (.wrapped.json), one or many.")
    ],
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the verdict as JSON (several files: one JSON array of "
            "{file, verdict} or {file, error}).",
        ),
    ] = False,
    chain_id: ChainIdOption = None,
    registry: RegistryOption = None,
) -> None:
    """Check wrapped documents offline: integrity and issuer signature.

    Each a docex wrapped document or an OpenAttestation v2 (TradeTrust) one, recognised
    by its content. One result per file; the exit status is the worst of them: 0 all
    valid, 1 one invalid, 2 one unreadable. With --chain-id and --registry the signature
    of a docex document must also be for that chain and registry.
    """
    command = "check"
    expected = None
    if chain_id is not None or registry is not None:
        if chain_id is None or registry is None:
            fail(command, EXIT_UNREADABLE, "give both --chain-id and --registry, or neither")
        expected = _domain(command, chain_id, registry)
    worst = EXIT_OK
    answers: list[dict[str, JsonValue]] = []
    for file in files:
        try:
            verdict, shown = _check_file(file, expected)
        except UnreadableFile as error:
            worst = max(worst, EXIT_UNREADABLE)
            if as_json:
                answers.append({"file": str(file), "error": str(error)})
            else:
                typer.echo(f"docex {command}: {error}", err=True)
            continue
        worst = max(worst, EXIT_OK if verdict.valid else EXIT_INVALID)
        if as_json:
            answers.append({"file": str(file), "verdict": shown})
        else:
            _print_verdict(file, verdict)
            if "format" in shown:  # another format than docex's own (OA v2)
                typer.echo("  issuer identity, issuance, revocation: `docex verify` against a node")
    if as_json:
        # one file: its verdict alone, as before many files were taken
        single = answers[0].get("verdict") if len(answers) == 1 else None
        output = single if single is not None else answers
        typer.echo(json.dumps(output, indent=2, ensure_ascii=False))
    raise typer.Exit(worst)


def _check_file(file: Path, expected: Eip712Domain | None) -> tuple[Verdict, JsonObject]:
    """The offline verdict on one wrapped document file, and its JSON; UnreadableFile if
    it is not one."""
    from adapters.formats.openattestation import is_openattestation_v2
    from certificates.offline_checks import verify_offline_json
    from certificates.strict_json import parse_strict_json

    raw = read_bounded(file, MAX_WRAPPED_FILE_SIZE)
    try:
        value = parse_strict_json(raw, max_bytes=MAX_WRAPPED_FILE_SIZE)
    except DocexError as error:
        raise UnreadableFile(f"{file}: {describe(error)}") from error
    if is_openattestation_v2(value):
        return _check_openattestation(file, value)
    verdict, _ = verify_offline_json(value, expected)
    return verdict, verdict.to_json()


def _check_openattestation(file: Path, value: JsonValue) -> tuple[Verdict, JsonObject]:
    """OA's own offline checks, integrity and signature (salted values, obfuscated
    fields, target hash, Merkle proof): what ``docex check`` answers for; the issuer's
    identity, issuance and revocation need a node (``docex verify``)."""
    from adapters.formats import DocumentFormat
    from adapters.formats.openattestation import (
        OA_INTEGRITY,
        OA_MERKLE_PROOF,
        OA_TARGET_HASH,
        verify_openattestation,
    )
    from certificates.verdict import Verdict

    try:
        result = verify_openattestation(value)
    except DocexError as error:
        raise UnreadableFile(f"{file}: {describe(error)}") from error
    offline = Verdict(
        tuple(
            check
            for check in result.verdict.checks
            if check.name in (OA_INTEGRITY, OA_TARGET_HASH, OA_MERKLE_PROOF)
        )
    )
    shown = {**result.to_json(), **offline.to_json(), "format": DocumentFormat.OPENATTESTATION_V2}
    return offline, shown


def conceal_fields(
    file: Annotated[Path, typer.Argument(help="A wrapped document.")],
    fields: Annotated[
        list[str], typer.Option("--field", help="JSON Pointer of a field to conceal.")
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Conceal fields of a wrapped document: it still verifies, the values are gone."""
    from certificates.strict_json import parse_strict_json
    from certificates.wrapped import WrappedDocument

    command = "conceal"
    raw = read_limited(command, file, MAX_WRAPPED_FILE_SIZE)
    try:
        document = WrappedDocument.from_json(parse_strict_json(raw, max_bytes=len(raw) + 1))
        concealed = document.conceal(fields)
    except DocexError as error:
        fail(command, EXIT_REFUSED, f"{file}: {describe(error)}")
    text = json.dumps(concealed.to_json(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        if output.exists():
            fail(command, EXIT_REFUSED, f"{output} already exists; refusing to overwrite it")
        output.write_text(text, encoding="utf-8")


def _wrapped_name(path: Path) -> str:
    return path.name.removesuffix(".json") + WRAPPED_SUFFIX


def _domain(command: str, chain_id: int, registry: str) -> Eip712Domain:
    from certificates.signing import Eip712Domain

    try:
        return Eip712Domain(chain_id=chain_id, verifying_contract=registry)
    except DocexError as error:
        fail(command, EXIT_UNREADABLE, describe(error))


def _write_json(path: Path, value: JsonValue) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _progress(console: Console) -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


_MARK = {
    "valid": "[green]✔[/green]",
    "invalid": "[red]✘[/red]",
    "skipped": "[yellow]-[/yellow]",
    "error": "[red]![/red]",
}


def _print_verdict(file: Path, verdict: Verdict) -> None:
    from rich.console import Console

    console = Console()
    headline = "[bold green]VALID[/bold green]" if verdict.valid else "[bold red]INVALID[/]"
    console.print(f"{file}: {headline}")
    for check in verdict.checks:
        console.print(f"  {_MARK[check.status.value]} {check.name}: {check.reason} ({check.code})")
