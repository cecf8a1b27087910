"""The ``docex`` command: one typer app, each command group in a module of its own."""

from __future__ import annotations

import typer

from node.cli.client import audit as client_audit
from node.cli.client import inbox as client_inbox
from node.cli.client import issue as client_issue
from node.cli.client import lifecycle as client_lifecycle
from node.cli.client import render as client_render
from node.cli.client import verify as client_verify
from node.cli.local import chain, content, demo, documents, keys, run, schemas, users

app = typer.Typer(
    name="docex",
    help="docex: permissioned blockchain document exchange for customs administrations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """docex: permissioned blockchain document exchange for customs administrations."""


for command_module in (schemas, documents, keys, content, chain, run, users, demo):
    command_module.register(app)
# client commands: talk to a node over HTTP (node/cli/client/)
client_render.register(app)
client_issue.register(app)
client_verify.register(app)
client_lifecycle.register(app)
client_inbox.register(app)
client_audit.register(app)
# `docex network up|status|down`: a consortium network on this machine (node/network/)
from node.network import cli as network_cli  # noqa: E402 - kept apart from the groups above

network_cli.register(app)
