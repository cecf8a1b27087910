"""The ``docex`` command: one typer app, each command group in a module of its own."""

from __future__ import annotations

import typer

from node.cli import chain, content, documents, keys, run, schemas, users

app = typer.Typer(
    name="docex",
    help="docex: permissioned blockchain document exchange for customs administrations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """docex: permissioned blockchain document exchange for customs administrations."""


for command_module in (schemas, documents, keys, content, chain, run, users):
    command_module.register(app)
