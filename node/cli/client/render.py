"""``docex render ID -o cert.pdf``: download a document's printable certificate from a
node (``GET /v1/documents/{id}/certificate.pdf``).

``ID`` is the receipt id or the target hash; the token is the issuer's, a customs
officer's of an addressee country, an auditor's or an admin's. Exit 0 with the PDF
written, 1 when the node refused (403, 404, 409 not anchored yet, ...), 2 when the node
could not be reached or failed, or the output cannot be written.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

import typer

from adapters.languages import LANGUAGES
from node.cli.client.node_client import (
    NodeClientError,
    NodeOption,
    TokenOption,
    exit_on_client_error,
    open_client,
)
from node.cli.exits import EXIT_REFUSED, EXIT_UNREADABLE, fail
from node.cli.settings_options import ConfigOption

_COMMAND = "render"


def register(app: typer.Typer) -> None:
    """Add ``docex render`` to ``app``."""
    app.command(_COMMAND)(render)


def write_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file in the same folder: a
    reader never sees half a PDF."""
    folder = path.parent if str(path.parent) else Path()
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def render(
    document_id: Annotated[
        str, typer.Argument(help="Receipt id (32 hex) or target hash (0x + 64 hex).")
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="PDF file to write ('-' for standard output)."),
    ],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    language: Annotated[
        str,
        typer.Option(
            "--lang",
            help="Language of the certificate's labels: en, vi or ko (field values as issued).",
        ),
    ] = "en",
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Download the printable certificate (PDF with a verification QR code) of a document."""
    to_stdout = str(output) == "-"
    if language not in LANGUAGES:
        raise typer.BadParameter(f"one of {', '.join(LANGUAGES)}", param_hint="--lang")
    if not to_stdout and output.exists() and not force:
        fail(_COMMAND, EXIT_REFUSED, f"{output} exists; pass --force to overwrite it")
    path = f"/v1/documents/{quote(document_id, safe='')}/certificate.pdf?lang={language}"
    with open_client(_COMMAND, config, node, token) as client:
        try:
            response = client.request(
                "GET", path, headers={"Accept": "application/pdf, application/problem+json"}
            )
        except NodeClientError as error:
            exit_on_client_error(_COMMAND, error)
    pdf = response.content
    if not pdf.startswith(b"%PDF-"):
        fail(_COMMAND, EXIT_UNREADABLE, "the node's answer is not a PDF")
    if to_stdout:
        sys.stdout.buffer.write(pdf)
        sys.stdout.buffer.flush()
        return
    try:
        write_atomically(output, pdf)
    except OSError as error:
        fail(_COMMAND, EXIT_UNREADABLE, f"cannot write {output}: {error.strerror or error}")
    typer.echo(f"wrote {output} ({len(pdf):,} bytes)", err=True)
