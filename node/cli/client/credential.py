"""``docex credential ID [-o FILE]``: export a document this node issued as a W3C
Verifiable Credential 2.0 (``GET /v1/documents/{id}/credential``, ``application/vc+jwt``).

``ID`` is the receipt id or the target hash; the token is the document's issuer's, an
auditor's or an admin's. The credential (a compact JWS) goes to standard output, or to
``FILE``. Exit 0 with the credential written, 1 when the node refused (403, 404, 409 not
anchored yet), 2 when the node could not be reached or failed, or the file cannot be
written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote

import typer

from node.cli.client.node_client import (
    NodeClientError,
    NodeOption,
    TokenOption,
    exit_on_client_error,
    open_client,
)
from node.cli.client.render import write_atomically
from node.cli.exits import EXIT_REFUSED, EXIT_UNREADABLE, fail
from node.cli.settings_options import ConfigOption

_COMMAND = "credential"
_MEDIA_TYPE = "application/vc+jwt"


def register(app: typer.Typer) -> None:
    """Add ``docex credential`` to ``app``."""
    app.command(_COMMAND)(export_credential)


def export_credential(
    document_id: Annotated[
        str, typer.Argument(help="Receipt id (32 hex) or target hash (0x + 64 hex).")
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (default: standard output)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Export a document as a W3C Verifiable Credential (application/vc+jwt, ES256K)."""
    if output is not None and output.exists() and not force:
        fail(_COMMAND, EXIT_REFUSED, f"{output} exists; pass --force to overwrite it")
    path = f"/v1/documents/{quote(document_id, safe='')}/credential"
    with open_client(_COMMAND, config, node, token) as client:
        try:
            response = client.request(
                "GET", path, headers={"Accept": f"{_MEDIA_TYPE}, application/problem+json"}
            )
        except NodeClientError as error:
            exit_on_client_error(_COMMAND, error)
    if not response.headers.get("content-type", "").startswith(_MEDIA_TYPE):
        fail(_COMMAND, EXIT_UNREADABLE, f"the node's answer is not {_MEDIA_TYPE}")
    if output is None:
        typer.echo(response.text)
        return
    try:
        write_atomically(output, response.content + b"\n")
    except OSError as error:
        fail(_COMMAND, EXIT_UNREADABLE, f"cannot write {output}: {error.strerror or error}")
    typer.echo(f"wrote {output}", err=True)
