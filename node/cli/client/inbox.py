"""``docex inbox``: documents other members addressed to this node's country.

``docex inbox`` lists what the node's receiver filed (``GET /v1/inbox``: type, issuer
country, target hash, received time, valid at reception), newest last; ``--type`` and
``--from`` filter, ``--limit`` and ``--after`` page. ``docex inbox 0x<target hash>`` shows
one (``GET /v1/inbox/{hash}``) and ``-o FILE`` saves its wrapped document, ready for
``docex verify FILE`` or ``docex check FILE``. Customs officers, auditors and admins.

Exit codes: 0 shown; 1 refused (no token, not allowed, not in the inbox); 2 unreachable.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from node.cli.client.node_client import (
    NodeClientError,
    NodeOption,
    TokenOption,
    exit_on_client_error,
)
from node.cli.client.values import complete_country, complete_document_type
from node.cli.exits import EXIT_UNREADABLE, fail
from node.cli.settings_options import ConfigOption


def register(app: typer.Typer) -> None:
    """Add ``inbox`` to ``app``."""
    app.command("inbox")(show_inbox)


def show_inbox(
    target_hash: Annotated[
        str | None, typer.Argument(help="Show this received document (0x + 64 hex).")
    ] = None,
    document_type: Annotated[
        str | None,
        typer.Option(
            "--type", help="Only this type, e.g. coo/1.", autocompletion=complete_document_type
        ),
    ] = None,
    issuer_country: Annotated[
        str | None,
        typer.Option(
            "--from", help="Only from this issuer country.", autocompletion=complete_country
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", help="At most this many.", min=1, max=1000)
    ] = 100,
    after: Annotated[
        float | None, typer.Option("--after", help="receivedAt of the last one seen (paging).")
    ] = None,
    after_hash: Annotated[
        str | None,
        typer.Option(
            "--after-hash",
            help="targetHash of the last one seen (with --after: the `next` of the last page).",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Save the wrapped document here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the node's JSON answer.")] = False,
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """List the documents received from other members, or show one."""
    from node.cli.client.node_client import open_client

    command = "inbox"
    if target_hash is None:
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params["after"] = after
        if after_hash is not None:
            params["afterHash"] = after_hash.lower()
        if document_type:
            params["documentType"] = document_type
        if issuer_country:
            params["issuerCountry"] = issuer_country.upper()
        path = "/v1/inbox"
    else:
        params = {}
        path = f"/v1/inbox/{target_hash.lower()}"
    try:
        with open_client(command, config, node, token) as client:
            answer: dict[str, Any] = client.request("GET", path, params=params).json()
    except NodeClientError as error:
        exit_on_client_error(command, error)
    except ValueError:
        fail(command, EXIT_UNREADABLE, "the node's answer is not JSON")
    if output is not None and "document" in answer:
        output.write_text(json.dumps(answer["document"], indent=2, ensure_ascii=False) + "\n")
    if as_json:
        typer.echo(json.dumps(answer, indent=2, ensure_ascii=False))
        return
    _print(answer if target_hash is None else {"documents": [answer]})


def _print(answer: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("received (UTC)", "type", "from", "target hash", "valid", title="inbox")
    for entry in answer.get("documents", []):
        received = entry.get("receivedAt")
        when = (
            datetime.fromtimestamp(received, UTC).strftime("%Y-%m-%d %H:%M:%S")
            if isinstance(received, int | float)
            else "?"
        )
        valid = "[green]yes[/]" if entry.get("valid") else "[red]no[/]"
        table.add_row(
            when,
            str(entry.get("documentType")),
            str(entry.get("issuerCountry")),
            str(entry.get("targetHash")),
            valid,
        )
    console = Console()
    console.print(table)
    following = answer.get("next")
    if isinstance(following, dict):
        console.print(
            f"more: docex inbox --after {following['after']} --after-hash {following['afterHash']}"
        )
