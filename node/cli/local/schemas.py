"""``docex schema`` and ``docex sample``: the document types, for people and programs."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from certificates.json_types import JsonValue

# certificates.schemas (pydantic models) is imported inside the commands: building the
# models costs ~0.1 s that every other docex command should not pay at start-up.


def _print_json(value: JsonValue) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _known_types() -> str:
    from certificates.schemas import DOCUMENT_TYPES

    return ", ".join(DOCUMENT_TYPES)


def _require_known(type_id: str) -> None:
    from certificates.schemas import DOCUMENT_TYPES

    if type_id not in DOCUMENT_TYPES:
        typer.echo(
            f"error: unknown document type {type_id!r}; known types: {_known_types()} "
            "(see `docex schema --list`)",
            err=True,
        )
        raise typer.Exit(code=2)


def schema(
    type_id: Annotated[
        str | None, typer.Argument(metavar="TYPE", help="Document type id, e.g. coo/1.")
    ] = None,
    list_types: Annotated[
        bool, typer.Option("--list", help="List the document types and exit.")
    ] = False,
) -> None:
    """Print the JSON Schema (draft 2020-12) of a document type."""
    from certificates.schemas import DOCUMENT_TYPES, document_json_schema

    if list_types:
        for known_id, model in DOCUMENT_TYPES.items():
            summary = (model.__doc__ or "").strip().splitlines()[0]
            typer.echo(f"{known_id}\t{summary}")
        return
    if type_id is None:
        typer.echo(f"error: give a document type ({_known_types()}) or --list", err=True)
        raise typer.Exit(code=2)
    _require_known(type_id)
    _print_json(document_json_schema(type_id))


def sample(
    type_id: Annotated[str, typer.Argument(metavar="TYPE", help="Document type id, e.g. coo/1.")],
    index: Annotated[
        int, typer.Option(min=0, help="Which sample: the same index gives the same document.")
    ] = 0,
    items: Annotated[int, typer.Option(min=1, help="Number of item lines (1-200).")] = 3,
) -> None:
    """Print a valid synthetic document of a type (for trying docex out)."""
    from certificates.schemas.samples import sample_document

    _require_known(type_id)
    try:
        document = sample_document(type_id, index, items=items)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    _print_json(document)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("schema")(schema)
    app.command("sample")(sample)
