"""``docex revoke``, ``amend``, ``use``, ``reject``, ``history``: a document after issue.

Each is one request to a node (see "API v1: after issue" in docs/node.md); ``ID`` is the
receipt id of a document that node issued, or a target hash (``0x`` + 64 hex digits),
the only name of a document another member issued (e.g. taken from ``docex inbox``).

- ``revoke ID --reason N`` (the document's issuer): recorded on chain; prints the
  transaction once mined.
- ``amend ID FILE`` (its issuer): issues FILE as the replacement; once both are anchored
  the node records the supersession. Prints the replacement's receipt.
- ``use ID --declaration REF --quantity Q`` (customs officer of an addressee): records
  that an import declaration used the document (the contract refuses over-use).
- ``reject ID --reason N`` (customs officer of an addressee).
- For ``use`` and ``reject`` of another member's document (ID a target hash) the node
  needs its wrapped form: ``--document FILE``, or by default the CLI takes it from the
  node's inbox (``GET /v1/inbox/{hash}``) and sends it as ``document``.
- ``history ID`` (issuer, customs officers, auditors, admins): the on-chain events.

Output is a short human line or table, or the node's JSON with ``--json``. Exit codes:
0 done; 1 refused by the node (not authorised, not found, already recorded, over-use);
2 unreadable input or unreachable node.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from certificates.hashes import canonical_hash
from node.cli.client.node_client import (
    NodeClientError,
    NodeOption,
    TokenOption,
    exit_on_client_error,
)
from node.cli.exits import EXIT_UNREADABLE, fail
from node.cli.settings_options import ConfigOption

MAX_DOCUMENT_BYTES = 1024 * 1024

PresentedOption = Annotated[
    Path | None,
    typer.Option(
        "--document",
        help="The wrapped document (another member's; default: taken from the inbox).",
        dir_okay=False,
    ),
]
DocumentId = Annotated[
    str, typer.Argument(help="Receipt id, or target hash (0x + 64 hex) of the document.")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the node's JSON answer.")]


def register(app: typer.Typer) -> None:
    """Add ``revoke``, ``amend``, ``use``, ``reject`` and ``history`` to ``app``."""
    app.command("revoke")(revoke_document)
    app.command("amend")(amend_document)
    app.command("use")(use_document)
    app.command("reject")(reject_document)
    app.command("history")(document_history)


def _call(
    command: str,
    method: str,
    path: str,
    config: Path | None,
    node: str | None,
    token: str | None,
    *,
    presented_for: str | None = None,
    **request: Any,
) -> Any:
    """Send one request; the JSON answer, or the error printed and the command ended.

    ``presented_for``: a target hash whose wrapped form, when the node's inbox holds it,
    goes in the JSON body as ``document`` (use and reject of another member's document).
    """
    from node.cli.client.node_client import NodeRefused, open_client

    try:
        with open_client(command, config, node, token) as client:
            if presented_for is not None and "document" not in request["json"]:
                try:
                    received = client.request("GET", f"/v1/inbox/{presented_for}").json()
                    request["json"]["document"] = received["document"]
                except NodeRefused as error:
                    if error.status != 404:
                        raise
            return client.request(method, path, **request).json()
    except NodeClientError as error:
        exit_on_client_error(command, error)
    except ValueError:
        fail(command, EXIT_UNREADABLE, "the node's answer is not JSON")


def _presented(command: str, document: Path | None) -> dict[str, Any]:
    """The ``document`` part of a use/reject body: the file given, or none."""
    if document is None:
        return {}
    from certificates import parse_strict_json
    from certificates.errors import DocexError
    from node.cli.exits import describe
    from node.cli.local.local_files import read_limited

    raw = read_limited(command, document, MAX_DOCUMENT_BYTES * 4, what="wrapped document")
    try:
        return {"document": parse_strict_json(raw, max_bytes=len(raw) + 1)}
    except DocexError as error:
        fail(command, EXIT_UNREADABLE, f"{document}: {describe(error)}")


def _foreign(document_id: str) -> str | None:
    """The target hash when ``document_id`` is one (another member's document)."""
    return canonical_hash(document_id, lenient=True)


def _print(answer: Any, as_json: bool, line: str) -> None:
    typer.echo(json.dumps(answer, indent=2, ensure_ascii=False) if as_json else line)


def _transaction(answer: dict[str, Any]) -> str:
    return f"transaction {answer.get('txHash', '?')} in block {answer.get('blockNumber', '?')}"


def revoke_document(
    document_id: DocumentId,
    reason: Annotated[int, typer.Option("--reason", help="Reason code (recorded on chain).")],
    as_json: JsonFlag = False,
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Revoke a document you issued (final)."""
    answer = _call(
        "revoke",
        "POST",
        f"/v1/documents/{document_id}/revoke",
        config,
        node,
        token,
        json={"reasonCode": reason},
    )
    _print(answer, as_json, f"revoked {document_id}: {_transaction(answer)}")


def amend_document(
    document_id: DocumentId,
    replacement: Annotated[
        Path, typer.Argument(help="The replacement document (JSON).", dir_okay=False)
    ],
    as_json: JsonFlag = False,
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Issue a replacement; the node supersedes the original once both are anchored."""
    from node.cli.local.local_files import read_limited

    body = read_limited("amend", replacement, MAX_DOCUMENT_BYTES, what="replacement")
    answer = _call(
        "amend",
        "POST",
        f"/v1/documents/{document_id}/amend",
        config,
        node,
        token,
        content=body,
        headers={"Content-Type": "application/json"},
    )
    receipts = answer.get("receipts") or [{}]
    _print(
        answer,
        as_json,
        f"amendment of {document_id} accepted: replacement receipt "
        f"{receipts[0].get('id', '?')} ({receipts[0].get('status', '?')})",
    )


def use_document(
    document_id: DocumentId,
    declaration: Annotated[
        str, typer.Option("--declaration", help="The import declaration's reference.")
    ],
    quantity: Annotated[int, typer.Option("--quantity", help="Quantity used.", min=1)] = 1,
    allowed_quantity: Annotated[
        int | None,
        typer.Option("--allowed-quantity", help="Total the document allows (first use).", min=1),
    ] = None,
    document: PresentedOption = None,
    as_json: JsonFlag = False,
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Record that a declaration used a document addressed to your country."""
    body: dict[str, Any] = {
        "declarationReference": declaration,
        "quantity": quantity,
        **_presented("use", document),
    }
    if allowed_quantity is not None:
        body["allowedQuantity"] = allowed_quantity
    answer = _call(
        "use",
        "POST",
        f"/v1/documents/{document_id}/use",
        config,
        node,
        token,
        presented_for=_foreign(document_id),
        json=body,
    )
    _print(
        answer, as_json, f"use of {document_id} by {declaration} recorded: {_transaction(answer)}"
    )


def reject_document(
    document_id: DocumentId,
    reason: Annotated[int, typer.Option("--reason", help="Reason code (flows to the issuer).")],
    document: PresentedOption = None,
    as_json: JsonFlag = False,
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Record that your administration rejected a document addressed to it."""
    answer = _call(
        "reject",
        "POST",
        f"/v1/documents/{document_id}/reject",
        config,
        node,
        token,
        presented_for=_foreign(document_id),
        json={"reasonCode": reason, **_presented("reject", document)},
    )
    _print(answer, as_json, f"rejection of {document_id} recorded: {_transaction(answer)}")


def document_history(
    document_id: DocumentId,
    as_json: JsonFlag = False,
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """A document's on-chain events in chain order (anchored, used, rejected, revoked...)."""
    answer = _call("history", "GET", f"/v1/documents/{document_id}/history", config, node, token)
    if as_json:
        _print(answer, True, "")
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"{document_id}: [bold]{answer.get('status', '?')}[/]")
    table = Table("block", "time (UTC)", "event", "details", "transaction")
    for event in answer.get("events", []):
        timestamp = event.get("timestamp")
        when = (
            datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")
            if isinstance(timestamp, int)
            else "?"
        )
        arguments = event.get("arguments") or {}
        details = ", ".join(f"{k}={v}" for k, v in arguments.items() if k != "targetHash")
        table.add_row(
            str(event.get("blockNumber")),
            when,
            str(event.get("event")),
            details,
            str(event.get("txHash")),
        )
    console.print(table)
    if answer.get("supersededBy"):
        console.print(f"superseded by {answer['supersededBy']}")
