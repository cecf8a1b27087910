"""``docex verify FILE|REF ...``: ask a node for the verdict on documents (online checks).

- ``FILE``, a wrapped document (``docex-wrapped/1``), is sent to ``POST /v1/verify``;
- ``REF``, a receipt id (32 hex digits), a target hash (``0x`` + 64 hex digits) or a CID
  of a document the node holds, goes to ``GET /v1/verify/{ref}`` (with its history).

The answer is shown as a table of the checks (integrity, signature, issuance, issuer,
status, recognition) in green or red with each outcome's stable code
(docs/verification-codes.md), or printed as the node's JSON with ``--json``.
Both endpoints are public: no token needed. ``docex check`` is the offline counterpart
(integrity and signature only, no node).

Several documents are verified one after the other over one connection, each with its
own result; the exit code is the worst of them: **0** all valid, **1** one invalid (a
check failed), **2** one error (unreadable file, unknown reference, unreachable node, a
refusal such as 429).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from node.cli.client.node_client import (
    NodeClientError,
    NodeOption,
    TokenOption,
    describe_client_error,
)
from node.cli.exits import EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE
from node.cli.settings_options import ConfigOption

if TYPE_CHECKING:
    from node.cli.client.node_client import NodeClient

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
    documents: Annotated[
        list[str],
        typer.Argument(
            help="Wrapped document files, or receipt ids / target hashes / CIDs the node "
            "holds; one or many.",
            metavar="FILE|REF...",
        ),
    ],
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the node's JSON answer (several documents: one JSON array of "
            "{document, answer} or {document, error}).",
        ),
    ] = False,
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Verify documents with a node: exit 0 all valid, 1 one invalid, 2 one error."""
    from node.cli.client.node_client import open_client

    command = "verify"
    worst = EXIT_OK
    answers: list[dict[str, Any]] = []
    with open_client(command, config, node, token) as client:
        for document in documents:
            try:
                answer = _verify_one(client, document)
            except _NotVerified as error:
                worst = max(worst, EXIT_UNREADABLE)
                if as_json:
                    answers.append({"document": document, "error": str(error)})
                else:
                    typer.echo(f"docex {command}: {document}: {error}", err=True)
                continue
            worst = max(worst, EXIT_OK if answer.get("valid") is True else EXIT_INVALID)
            if as_json:
                answers.append({"document": document, "answer": answer})
            else:
                if len(documents) > 1:
                    typer.echo(f"{document}:")
                _print_verdict(answer)
    if as_json:
        # one document: the node's answer alone, as before many were taken
        single = answers[0].get("answer") if len(answers) == 1 else None
        shown = single if single is not None else answers
        typer.echo(json.dumps(shown, indent=2, ensure_ascii=False))
    raise typer.Exit(worst)


class _NotVerified(Exception):
    """No verdict for one document: unreadable, not a reference, or the node's error."""


def _verify_one(client: NodeClient, document: str) -> dict[str, Any]:
    """The node's answer on one wrapped document file or reference."""
    from node.cli.local.local_files import UnreadableFile, read_bounded

    path = Path(document)
    body: bytes | None = None
    if path.is_file():
        try:
            body = read_bounded(path, MAX_FILE_BYTES, what="wrapped document")
        except UnreadableFile as error:
            raise _NotVerified(str(error)) from error
    elif not REFERENCE.match(document):
        raise _NotVerified("no such file, and not a receipt id, target hash (0x...) or CID")
    try:
        if body is not None:
            headers = {"Content-Type": "application/octet-stream"}
            verdict = client.request("POST", "/v1/verify", content=body, headers=headers)
        else:
            verdict = client.request("GET", f"/v1/verify/{document}")
        answer: dict[str, Any] = verdict.json()
    except NodeClientError as error:
        raise _NotVerified(describe_client_error(error)) from error
    except ValueError as error:
        raise _NotVerified("the node's answer is not JSON") from error
    return answer


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
