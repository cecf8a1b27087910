"""Content commands: ``docex cid`` and ``docex car export|import``.

Adapters are imported inside the commands so that ``docex`` starts fast and
``docex cid`` stays small in memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from certificates.errors import DocexError


def _fail(error: DocexError) -> typer.Exit:
    typer.echo(f"error: {error.code}: {error}", err=True)
    return typer.Exit(code=1)


def cid(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="File to hash.")
    ],
    cid_version: Annotated[
        int,
        typer.Option("--cid-version", min=0, max=1, help="0 (ipfs add default) or 1 (raw leaves)."),
    ] = 0,
) -> None:
    """Print the CID `ipfs add --only-hash [--cid-version=1] FILE` prints (nothing stored)."""
    from adapters.content.unixfs_importer import ImportLayout, import_stream

    try:
        with file.open("rb") as stream:
            imported = import_stream(stream, ImportLayout(cid_version=cid_version))
    except DocexError as error:
        raise _fail(error) from None
    typer.echo(str(imported.cid))


car_app = typer.Typer(help="Export and import content as CARv1 files (ipfs dag export/import).")


@car_app.command("export")
def car_export(
    content_id: Annotated[str, typer.Argument(metavar="CID", help="Root CID to export.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="CAR file to write.")],
    store: Annotated[Path, typer.Option("--store", help="Embedded store directory.")],
) -> None:
    """Write the DAG under CID from the embedded store to a CARv1 file."""
    from adapters.content.cid import Cid
    from adapters.content.embedded import EmbeddedContentStore

    partial = output.with_name(output.name + ".part")
    try:
        root = Cid.parse(content_id)
        content_store = EmbeddedContentStore(store)
        with partial.open("wb") as out:
            count = content_store.export_car(root, out)
        partial.replace(output)
    except DocexError as error:
        partial.unlink(missing_ok=True)
        raise _fail(error) from None
    typer.echo(f"exported {root}: {count} blocks to {output}")


@car_app.command("import")
def car_import(
    car_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CAR file.")],
    store: Annotated[Path, typer.Option("--store", help="Embedded store directory.")],
) -> None:
    """Import every block of a CARv1 file (each checked) and pin its complete roots."""
    from adapters.content.embedded import EmbeddedContentStore

    try:
        content_store = EmbeddedContentStore(store)
        with car_file.open("rb") as stream:
            roots = content_store.import_car(stream)
    except DocexError as error:
        raise _fail(error) from None
    for root in roots:
        state = "pinned" if root in content_store.pins() else "incomplete"
        typer.echo(f"{root} {state}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("cid")(cid)
    app.add_typer(car_app, name="car")
