"""``docex verify FILE|REF``: ask a node for the verdict on a document (online checks).

- ``FILE``, a wrapped document (``docex-wrapped/1``), is sent to ``POST /v1/verify``;
- ``REF``, a receipt id (32 hex digits), a target hash (``0x`` + 64 hex digits) or a CID
  of a document the node holds, goes to ``GET /v1/verify/{ref}`` (with its history).

The answer is shown as a table of the checks (integrity, signature, issuance, issuer,
status, recognition) in green or red with each outcome's stable code
(docs/verification-codes.md), or printed as the node's JSON with ``--json``.
Both endpoints are public: no token needed. ``docex check`` is the offline counterpart
(integrity and signature only, no node).

Exit codes: **0** valid, **1** invalid (a check failed), **2** error (unreadable file,
unknown reference, unreachable node, a refusal such as 429).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Final

import typer

from node.cli.client.node_client import (
    NodeClientError,
    NodeOption,
    TokenOption,
    exit_on_client_error,
)
from node.cli.exits import EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE, fail
from node.cli.settings_options import ConfigOption

#: receipt id, target hash, CIDv0 (Qm...) or CIDv1 (base32 b...)
REFERENCE: Final = re.compile(
    r"^(?:[0-9a-f]{32}|(?:0[xX])?[0-9a-fA-F]{64}|Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{20,})$"
)
MAX_FILE_BYTES: Final = 4 * 1024 * 1024
_STATUS_STYLE: Final = {"valid": "green", "invalid": "bold red", "error": "red"}


def register(app: typer.Typer) -> None:
    """Add ``verify`` to ``app``."""
    app.command("verify")(verify_document)


def verify_document(
    document: Annotated[
        str,
        typer.Argument(
            help="A wrapped document file, or a receipt id / target hash / CID the node holds.",
            metavar="FILE|REF",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the node's JSON answer.")] = False,
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Verify a document with a node: exit 0 valid, 1 invalid, 2 error."""
    from node.cli.client.node_client import open_client
    from node.cli.local.local_files import read_limited

    command = "verify"
    path = Path(document)
    body: bytes | None = None
    if path.is_file():
        body = read_limited(command, path, MAX_FILE_BYTES, what="wrapped document")
    elif not REFERENCE.match(document):
        fail(
            command,
            EXIT_UNREADABLE,
            f"{document}: no such file, and not a receipt id, target hash (0x...) or CID",
        )
    try:
        with open_client(command, config, node, token) as client:
            if body is not None:
                headers = {"Content-Type": "application/octet-stream"}
                verdict = client.request("POST", "/v1/verify", content=body, headers=headers)
            else:
                verdict = client.request("GET", f"/v1/verify/{document}")
            answer: dict[str, Any] = verdict.json()
    except NodeClientError as error:
        exit_on_client_error(command, error, EXIT_UNREADABLE)
    except ValueError:
        fail(command, EXIT_UNREADABLE, "the node's answer is not JSON")
    if as_json:
        typer.echo(json.dumps(answer, indent=2, ensure_ascii=False))
    else:
        _print_verdict(answer)
    raise typer.Exit(EXIT_OK if answer.get("valid") is True else EXIT_INVALID)


def _print_verdict(answer: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    summary = answer.get("document")
    if isinstance(summary, dict):
        anchoring = summary.get("anchoring") or {}
        console.print(
            f"{summary.get('documentType', '?')} issued by {summary.get('issuerCountry', '?')}"
            f" ({summary.get('issuerName') or summary.get('signer') or '?'}), target hash "
            f"{summary.get('targetHash', '?')}, block {anchoring.get('blockNumber', '?')}"
        )
    table = Table("check", "status", "code", "reason", title="verification")
    for check in answer.get("checks", []):
        status = str(check.get("status", "?"))
        style = _STATUS_STYLE.get(status, "yellow")
        table.add_row(
            str(check.get("name")),
            f"[{style}]{status}[/]",
            str(check.get("code", "")),
            str(check.get("reason", "")),
        )
    console.print(table)
    superseded = answer.get("supersededBy")
    if isinstance(superseded, dict):
        console.print(f"superseded by {superseded.get('targetHash') or superseded}")
    history = answer.get("history")
    if isinstance(history, list) and history:
        console.print(
            "history: " + ", ".join(f"{e.get('event')} @{e.get('blockNumber')}" for e in history)
        )
    valid = answer.get("valid") is True
    console.print("[bold green]VALID[/]" if valid else "[bold red]INVALID[/]")
