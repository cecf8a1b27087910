"""``docex audit``: export an audit report from a node, or re-check one against the chain.

- ``docex audit (--document ID | --issuer CC | --addressee CC) [--from D] [--to D]
  [--format json|csv|html] -o FILE``: ``GET /v1/audit`` on a node (``--node``,
  ``--token``: an auditor's, an admin's, or an issuer's for its own documents). Exit 0
  with the report written, 1 when the node refused, 2 when it could not be reached or the
  file cannot be written.
- ``docex audit --check REPORT [--rpc URL] [--registry ADDR]``: re-check every line of a
  JSON or CSV report against the chain through plain JSON-RPC (no node needed; the node
  is not trusted). Exit 0 when every line holds, 1 when some do not (each is listed), 2
  when the report cannot be read or the chain cannot be reached.
"""

from __future__ import annotations

import json
import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from certificates.errors import DocexError
from node.cli.client.node_client import (
    NodeClientError,
    NodeOption,
    TokenOption,
    exit_on_client_error,
    open_client,
)
from node.cli.exits import EXIT_INVALID, EXIT_OK, EXIT_REFUSED, EXIT_UNREADABLE, describe, fail
from node.cli.settings_options import ConfigOption, settings_for

_COMMAND = "audit"


class AuditFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"


def register(app: typer.Typer) -> None:
    """Add ``docex audit`` to ``app``."""
    app.command(_COMMAND)(audit)


def _write_atomically(path: Path, content: bytes) -> None:
    folder = path.parent if str(path.parent) else Path()
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _default_rpc(config: Path | None) -> str:
    """``DOCEX_RPC_URL`` / ``rpc_url``, else this machine's managed anvil."""
    settings = settings_for(_COMMAND, config)
    return settings.rpc_url or f"http://127.0.0.1:{settings.anvil_port}"


def _check(report_file: Path, rpc: str | None, registry: str | None, config: Path | None) -> None:
    from ledger.errors import LedgerError
    from node.audit import check_report, load_report

    try:
        content = report_file.read_bytes()
    except OSError as error:
        fail(_COMMAND, EXIT_UNREADABLE, f"cannot read {report_file}: {error.strerror or error}")
    url = rpc or _default_rpc(config)
    try:
        check = check_report(load_report(content), url, registry=registry)
    except (DocexError, LedgerError) as error:
        fail(_COMMAND, EXIT_UNREADABLE, describe(error))
    if check.holds:
        typer.echo(
            f"{report_file}: every line holds against the chain at {url} "
            f"({check.lines_checked} lines, {check.documents_checked} documents)"
        )
        raise typer.Exit(EXIT_OK)
    typer.echo(
        f"{report_file}: {len(check.failures)} problem(s) against the chain at {url} "
        f"({len(check.failed_lines)} of {check.lines_checked} lines do not hold):"
    )
    for failure in check.failures:
        typer.echo(f"  {failure}")
    raise typer.Exit(EXIT_INVALID)


def audit(
    document: Annotated[
        str | None,
        typer.Option("--document", help="Receipt id, target hash or CID of one document."),
    ] = None,
    issuer: Annotated[
        str | None, typer.Option("--issuer", help="Every document of this issuer country.")
    ] = None,
    addressee: Annotated[
        str | None,
        typer.Option("--addressee", help="Every document addressed to this country."),
    ] = None,
    period_from: Annotated[
        str | None, typer.Option("--from", help="Start of the period (ISO date or date-time).")
    ] = None,
    period_to: Annotated[
        str | None, typer.Option("--to", help="End of the period, inclusive (ISO).")
    ] = None,
    report_format: Annotated[
        AuditFormat, typer.Option("--format", help="json (canonical), csv or html.")
    ] = AuditFormat.JSON,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write the report to ('-': standard output)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    check: Annotated[
        Path | None,
        typer.Option(
            "--check",
            help="Re-check this JSON or CSV report against the chain instead (no node needed).",
            dir_okay=False,
        ),
    ] = None,
    rpc: Annotated[
        str | None,
        typer.Option(
            "--rpc",
            help="JSON-RPC URL of any client of the chain, for --check "
            "(default DOCEX_RPC_URL, else the local managed anvil).",
        ),
    ] = None,
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            help="For --check: the DocumentRegistry address you know from the consortium; "
            "a report naming another fails.",
        ),
    ] = None,
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Export an audit report from a node, or re-check one against the chain (--check)."""
    if check is not None:
        if document or issuer or addressee or period_from or period_to or output:
            fail(_COMMAND, EXIT_UNREADABLE, "--check takes a report file and --rpc only")
        _check(check, rpc, registry, config)
        return
    if sum(value is not None for value in (document, issuer, addressee)) != 1:
        fail(
            _COMMAND,
            EXIT_UNREADABLE,
            "name exactly one of --document, --issuer or --addressee (or --check REPORT)",
        )
    if output is None:
        fail(_COMMAND, EXIT_UNREADABLE, "name the file to write with -o FILE ('-' for stdout)")
    to_stdout = str(output) == "-"
    if not to_stdout and output.exists() and not force:
        fail(_COMMAND, EXIT_REFUSED, f"{output} exists; pass --force to overwrite it")
    params = {
        name: value
        for name, value in (
            ("document", document),
            ("issuer", issuer),
            ("addressee", addressee),
            ("from", period_from),
            ("to", period_to),
            ("format", report_format.value),
        )
        if value is not None
    }
    with open_client(_COMMAND, config, node, token) as client:
        try:
            response = client.request("GET", "/v1/audit", params=params)
        except NodeClientError as error:
            exit_on_client_error(_COMMAND, error)
    content = response.content
    if to_stdout:
        typer.echo(content.decode("utf-8"), nl=False)
        return
    try:
        _write_atomically(output, content)
    except OSError as error:
        fail(_COMMAND, EXIT_UNREADABLE, f"cannot write {output}: {error.strerror or error}")
    summary = ""
    if report_format is AuditFormat.JSON:
        counts = json.loads(content).get("summary", {})
        summary = f": {counts.get('documents')} documents, {counts.get('events')} events"
    typer.echo(f"wrote {output}{summary}", err=True)
