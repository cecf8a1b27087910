"""``docex schema`` and ``docex sample``: the document types, for people and programs."""

from __future__ import annotations

import json
from typing import Annotated, Final

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


#: the mapping's columns: (title, JSON name, --standard name); titles as docs/standards.md
_MAPPING_COLUMNS: Final = (
    ("docex field", "path", None),
    ("ATIGA Form D", "formD", "form-d"),
    ("UN/CEFACT CoO", "uncefact", "uncefact"),
    ("UNTP", "untp", "untp"),
    ("WCO Data Model", "wco", "wco"),
    ("in the VC", "credential", "vc"),
)
_STANDARDS: Final = [name for _, _, name in _MAPPING_COLUMNS if name is not None]


def _print_mapping(type_id: str, standard: str | None, as_json: bool, as_markdown: bool) -> None:
    """The field mapping of ``type_id`` to the standards, from the table the VC export uses
    (``certificates.schemas.standards.FIELD_MAPPINGS``): one block per field, or with
    ``standard`` one line per field that standard has."""
    from certificates.schemas import FIELD_MAPPINGS, mapping_table_markdown

    if as_markdown:
        typer.echo(mapping_table_markdown(type_id))
        return
    rows = [
        (row.path, row.form_d, row.uncefact, row.untp, row.wco, row.credential)
        for row in FIELD_MAPPINGS[type_id]
    ]
    if standard is not None:
        column = 1 + _STANDARDS.index(standard)
        rows = [row for row in rows if row[column] is not None]
        title = _MAPPING_COLUMNS[column][0]
        if as_json:
            _print_json({row[0]: row[column] for row in rows})
            return
        typer.echo(f"{type_id} in {title} ({len(rows)} of {len(FIELD_MAPPINGS[type_id])} fields)")
        width = max((len(row[0]) for row in rows), default=0)
        for row in rows:
            typer.echo(f"{row[0]:<{width}}  {row[column]}")
        return
    if as_json:
        names = [name for _, name, _ in _MAPPING_COLUMNS]
        _print_json([dict(zip(names, row, strict=True)) for row in rows])
        return
    typer.echo(f"{type_id} in the standards customs use (-: the standard has no such field)")
    width = max(len(title) for title, _, _ in _MAPPING_COLUMNS[1:])
    for row in rows:
        typer.echo(f"\n{row[0]}")
        for (title, _, _), cell in zip(_MAPPING_COLUMNS[1:], row[1:], strict=True):
            typer.echo(f"  {title:<{width}}  {cell or '-'}")


def schema(
    type_id: Annotated[
        str | None, typer.Argument(metavar="TYPE", help="Document type id, e.g. coo/1.")
    ] = None,
    list_types: Annotated[
        bool, typer.Option("--list", help="List the document types and exit.")
    ] = False,
    mapping: Annotated[
        bool,
        typer.Option(
            "--mapping",
            help="Show the type's fields in ATIGA Form D, UN/CEFACT/UNTP, WCO and the VC export.",
        ),
    ] = False,
    standard: Annotated[
        str | None,
        typer.Option(
            "--standard",
            help=f"With --mapping: only this standard ({', '.join(_STANDARDS)}).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="With --mapping: as JSON.")] = False,
    as_markdown: Annotated[
        bool, typer.Option("--markdown", help="With --mapping: as a Markdown table.")
    ] = False,
) -> None:
    """Print the JSON Schema (draft 2020-12) of a document type, or with --mapping its
    field mapping to the standards customs use."""
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
    if (as_json or as_markdown or standard is not None) and not mapping:
        typer.echo("error: --standard, --json and --markdown go with --mapping", err=True)
        raise typer.Exit(code=2)
    if standard is not None and standard not in _STANDARDS:
        typer.echo(f"error: --standard is one of {', '.join(_STANDARDS)}", err=True)
        raise typer.Exit(code=2)
    if mapping:
        _print_mapping(type_id, standard, as_json, as_markdown)
        return
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
