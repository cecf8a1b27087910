"""``docex issue``: send documents to a node (``POST /v1/documents``), resumably.

One document or many (JSON arrays, JSON Lines, directories; see
:mod:`node.cli.client.issue_inputs`) go in requests within the node's limits, each with an
Idempotency-Key derived from its documents, behind a progress bar. A state file beside
the first input (or ``--state F``) records every accepted document's receipt id after
each request, so after Ctrl-C or a crash the same command sends only what is missing.
``--wait`` then follows the receipts until anchored; ``-o DIR`` writes ``receipts.json``
and, once anchored, each ``<name>.wrapped.json``.

Exit codes: 0 every document accepted (and, with ``--wait``, anchored); 1 the node
refused a request (invalid document, not authorised) or a document failed to anchor;
2 unreadable input, unreachable node, timeout; 130 interrupted (run it again to resume).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from certificates.errors import DocexError
from node.cli.client.node_client import (
    NodeClientError,
    NodeOption,
    NodeRefused,
    TokenOption,
    exit_on_client_error,
)
from node.cli.client.values import complete_country, complete_document_type
from node.cli.exits import EXIT_REFUSED, EXIT_UNREADABLE, describe, fail
from node.cli.settings_options import ConfigOption

if TYPE_CHECKING:
    from rich.progress import Progress

    from node.cli.client.issue_inputs import Chunk, InputDocument, IssueState
    from node.cli.client.node_client import NodeClient

EXIT_INTERRUPTED = 130
#: how long a retry waits for the first request with the same key to finish (409)
IN_FLIGHT_RETRIES = 40
IN_FLIGHT_PAUSE = 0.25
POLL_PAUSE = 0.3


def register(app: typer.Typer) -> None:
    """Add ``issue`` to ``app``."""
    app.command("issue")(issue_documents)


def issue_documents(
    files: Annotated[
        list[Path],
        typer.Argument(help="Document files (.json: one or an array; .jsonl) or directories."),
    ],
    document_type: Annotated[
        str | None,
        typer.Option(
            "--type",
            help="Refuse any document not of this type (coo, permit/1, ...).",
            autocompletion=complete_document_type,
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Refuse any document not addressed to this country (e.g. KR).",
            autocompletion=complete_country,
        ),
    ] = None,
    confidential: Annotated[
        bool, typer.Option("--confidential", help="Store sealed for issuer and addressees.")
    ] = False,
    allowance: Annotated[
        int,
        typer.Option(
            "--allowance",
            help="The quantity each document's addressees may use in all (1: single use).",
            min=1,
            max=2**53 - 1,  # certificates.issuance_rules.MAX_ALLOWANCE (not imported: start-up)
        ),
    ] = 1,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow the receipts until anchored.")
    ] = False,
    wait_timeout: Annotated[
        float, typer.Option("--wait-timeout", help="Seconds --wait gives the node.", min=1)
    ] = 600.0,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write receipts.json (and wrapped documents) here."),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option("--state", help="Resume state file (default: <first input>.docex-state)."),
    ] = None,
    chunk_size: Annotated[
        int | None,
        typer.Option(
            "--chunk-size", help="Documents per request (default: the node limit).", min=1
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the receipts as JSON.")] = False,
    node: NodeOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Issue documents through a node: chunked, idempotent, resumable; progress on stderr."""
    from node.cli.client.issue_inputs import (
        IssueState,
        chunks_of,
        default_state_path,
        read_documents,
    )
    from node.cli.client.node_client import client_from
    from node.cli.settings_options import settings_for

    command = "issue"
    settings = settings_for(command, config, node_url=node, token=token)
    try:
        documents = read_documents(files)
        if not documents:
            raise DocexError("no documents in the input")
        _check_selection(documents, document_type, to)
        issue_state = IssueState.load(
            state or default_state_path(files), settings.client_node_url, confidential, allowance
        )
        missing = [d for d in documents if issue_state.receipt_of(d) is None]
        limit = min(
            chunk_size or settings.max_documents_per_request, settings.max_documents_per_request
        )
        chunks = list(chunks_of(missing, limit, settings.max_body_bytes, confidential, allowance))
    except DocexError as error:
        fail(command, EXIT_UNREADABLE, describe(error))

    client = client_from(settings)
    progress = _progress()
    try:
        with client, progress:
            _send(client, progress, chunks, issue_state, len(documents), confidential, allowance)
            receipts = [_receipt_row(d, issue_state) for d in documents]
            if wait:
                receipts = _follow(client, progress, receipts, wait_timeout)
    except KeyboardInterrupt:
        done = sum(1 for d in documents if issue_state.receipt_of(d) is not None)
        fail(
            command,
            EXIT_INTERRUPTED,
            f"interrupted: {done} of {len(documents)} documents accepted, recorded in "
            f"{issue_state.path}; run the same command again to send the rest",
        )
    except NodeClientError as error:
        done = sum(1 for d in documents if issue_state.receipt_of(d) is not None)
        if done:
            typer.echo(
                f"docex {command}: {done} of {len(documents)} documents were accepted before "
                f"this, recorded in {issue_state.path}",
                err=True,
            )
        exit_on_client_error(command, error)
    except DocexError as error:
        fail(command, EXIT_UNREADABLE, describe(error))
    except OSError as error:  # the state file cannot be written
        fail(command, EXIT_UNREADABLE, f"cannot write {issue_state.path}: {error}")

    if output is not None:
        try:
            _write_outputs(output, receipts)
        except OSError as error:
            fail(command, EXIT_UNREADABLE, f"cannot write to {output}: {error}")
    _report(receipts, issue_state.path, len(documents) - len(missing), as_json)
    failed = [r for r in receipts if r["status"] == "failed"]
    if failed:
        fail(command, EXIT_REFUSED, f"{len(failed)} documents failed to anchor")
    if wait and any(r["status"] != "anchored" for r in receipts):
        fail(command, EXIT_UNREADABLE, "not every document was anchored in time")


def _check_selection(
    documents: list[InputDocument], document_type: str | None, to: str | None
) -> None:
    """``--type`` / ``--to``: refuse, before sending anything, a document that does not fit."""
    if document_type is not None:
        wanted = document_type if "/" in document_type else f"{document_type}/"
        for document in documents:
            found = document.document_type or ""
            if not (found == wanted or ("/" not in document_type and found.startswith(wanted))):
                raise DocexError(
                    f"{document.position}: a {found or 'untyped'} document, not {document_type}"
                )
    if to is not None:
        from certificates import parse_strict_json, validate_document

        for document in documents:
            try:
                validated = validate_document(parse_strict_json(document.body))
            except DocexError as error:
                raise DocexError(f"{document.position}: {describe(error)}") from error
            addressees = validated.addressee_countries()
            if to.upper() not in addressees:
                raise DocexError(
                    f"{document.position}: addressed to {', '.join(addressees) or 'no country'}, "
                    f"not {to.upper()}"
                )


def _progress() -> Progress:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )


def _send(
    client: NodeClient,
    progress: Progress,
    chunks: list[Chunk],
    issue_state: IssueState,
    total: int,
    confidential: bool,
    allowance: int = 1,
) -> None:
    pending = sum(len(chunk.documents) for chunk in chunks)
    task = progress.add_task("accepted", total=total, completed=total - pending)
    params = {"confidential": "true"} if confidential else {}
    if allowance != 1:
        params["allowance"] = str(allowance)
    for chunk in chunks:
        response = _post_chunk(client, chunk, params or None)
        receipts = response.json().get("receipts", [])
        issue_state.record(chunk, [str(receipt["id"]) for receipt in receipts])
        progress.advance(task, len(chunk.documents))


def _post_chunk(client: NodeClient, chunk: Chunk, params: dict[str, str] | None) -> Any:
    headers = {"Content-Type": "application/json", "Idempotency-Key": chunk.idempotency_key}
    for _ in range(IN_FLIGHT_RETRIES):
        try:
            return client.request(
                "POST", "/v1/documents", content=chunk.body, params=params, headers=headers
            )
        except NodeRefused as error:
            if error.problem_code == "idempotency-key-in-flight":
                time.sleep(IN_FLIGHT_PAUSE)  # the first try of this chunk is still running
                continue
            raise _name_position(error, chunk) from error
    return client.request(
        "POST", "/v1/documents", content=chunk.body, params=params, headers=headers
    )


def _name_position(error: NodeRefused, chunk: Chunk) -> NodeRefused:
    """A problem's ``/index/...`` paths rewritten to the documents' file positions."""

    def located(path: object) -> object:
        if not isinstance(path, str) or not path.startswith("/"):
            return path
        index, _, rest = path[1:].partition("/")
        if not index.isdigit() or int(index) >= len(chunk.documents):
            return path
        position = chunk.documents[int(index)].position
        return f"{position} /{rest}" if rest else position

    error.problem["path"] = located(error.problem.get("path"))
    for item in error.problem.get("errors") or []:
        if isinstance(item, dict):
            item["path"] = located(item.get("path"))
    if error.problem["path"] is None:
        del error.problem["path"]
    return error


def _receipt_row(document: InputDocument, issue_state: IssueState) -> dict[str, Any]:
    return {
        "input": document.position,
        "name": document.file_stem,
        "id": issue_state.receipt_of(document),
        "status": "pending",
    }


def _follow(
    client: NodeClient, progress: Progress, receipts: list[dict[str, Any]], timeout: float
) -> list[dict[str, Any]]:
    """GET each receipt until it is anchored or failed, or ``timeout`` seconds passed."""
    task = progress.add_task("anchored", total=len(receipts))
    deadline = time.monotonic() + timeout
    followed: list[dict[str, Any]] = []
    for row in receipts:
        while True:
            body = client.request("GET", f"/v1/receipts/{row['id']}").json()
            if body.get("status") in ("anchored", "failed") or time.monotonic() > deadline:
                break
            time.sleep(POLL_PAUSE)
        followed.append({**row, **body, "input": row["input"], "name": row["name"]})
        progress.advance(task)
    return followed


def _write_outputs(output: Path, receipts: list[dict[str, Any]]) -> None:
    output.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    summary: list[dict[str, Any]] = []
    for row in receipts:
        entry = {k: v for k, v in row.items() if k not in ("document", "merkleProof", "name")}
        if "document" in row:
            name = row["name"] if row["name"] not in used else f"{row['name']}-{row['id']}"
            used.add(name)
            wrapped = output / f"{name}.wrapped.json"
            wrapped.write_text(json.dumps(row["document"], indent=2, ensure_ascii=False) + "\n")
            entry["wrapped"] = wrapped.name
        summary.append(entry)
    (output / "receipts.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")


def _report(receipts: list[dict[str, Any]], state_path: Path, resumed: int, as_json: bool) -> None:
    if as_json:
        clean = [
            {k: v for k, v in r.items() if k not in ("document", "merkleProof")} for r in receipts
        ]
        typer.echo(json.dumps(clean, indent=2, ensure_ascii=False))
        return
    counts: dict[str, int] = {}
    for row in receipts:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    already = f" ({resumed} accepted by an earlier run)" if resumed else ""
    typer.echo(f"{len(receipts)} documents issued{already}: {statuses}; receipts in {state_path}")
