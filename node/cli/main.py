"""The ``docex`` command: one typer app, each command group in a module of its own.

A command's module is imported only when that command runs (``docex --help`` and shell
completion import them all): ``docex cid`` loads the content importer, not web3, httpx,
pydantic or the node, so checking a folder one command at a time is not dominated by
start-up. The command modules keep their own heavy imports inside the commands.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup

#: command name -> the module whose ``register(app)`` adds it, in ``--help`` order.
#: Local commands work on this machine (node/cli/local/); client commands talk to a node
#: over HTTP (node/cli/client/).
COMMANDS: dict[str, str] = {
    "schema": "node.cli.local.schemas",
    "sample": "node.cli.local.schemas",
    "wrap": "node.cli.local.documents",
    "check": "node.cli.local.documents",
    "conceal": "node.cli.local.documents",
    "keys": "node.cli.local.keys",
    "member": "node.cli.local.member",
    "cid": "node.cli.local.content",
    "car": "node.cli.local.content",
    "chain": "node.cli.local.chain",
    "run": "node.cli.local.run",
    "users": "node.cli.local.users",
    "backup": "node.cli.local.backups",
    "restore": "node.cli.local.backups",
    "demo": "node.cli.local.demo",
    "render": "node.cli.client.render",
    "credential": "node.cli.client.credential",
    "issue": "node.cli.client.issue",
    "verify": "node.cli.client.verify",
    "revoke": "node.cli.client.lifecycle",
    "amend": "node.cli.client.lifecycle",
    "use": "node.cli.client.lifecycle",
    "reject": "node.cli.client.lifecycle",
    "history": "node.cli.client.lifecycle",
    "inbox": "node.cli.client.inbox",
    "audit": "node.cli.client.audit",
    "share": "node.cli.client.share",
    "consortium": "node.cli.client.consortium",
    # a consortium network on this machine (node/network/)
    "network": "node.network.cli",
}


def commands_of(module_name: str) -> dict[str, Any]:
    """The click commands ``module_name``'s ``register`` adds, by name."""
    holder = typer.Typer()

    @holder.callback()
    def _group() -> None:
        """Makes ``holder`` a group even when the module adds one command."""

    importlib.import_module(module_name).register(holder)
    return dict(typer.main.get_group(holder).commands)


class _CommandsOnDemand(TyperGroup):
    """A group that imports a command's module when the command is looked up."""

    def list_commands(self, ctx: Any) -> list[str]:  # noqa: ARG002 - click's signature
        return list(COMMANDS)

    # typed Any: the click these types come from is vendored inside typer (private)
    def get_command(self, ctx: Any, cmd_name: str) -> Any:  # noqa: ARG002 - click's
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands.update(commands_of(COMMANDS[cmd_name]))
        return self.commands.get(cmd_name)


app = typer.Typer(
    name="docex",
    help="docex: permissioned blockchain document exchange for customs administrations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=_CommandsOnDemand,
)


@app.callback()
def main() -> None:
    """docex: permissioned blockchain document exchange for customs administrations."""
