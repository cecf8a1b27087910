"""``docex run``: start this node on its configured (by default embedded) components."""

from __future__ import annotations

import typer
from rich.console import Console


def register(app: typer.Typer) -> None:
    """Add ``docex run`` to ``app``."""
    app.command("run")(run_node)


def run_node() -> None:
    """Start the node service (chain, content store, API)."""
    console = Console()
    console.print(
        "[bold]docex[/bold]: the environment is set up (.venv, node_modules). "
        "The node arrives with the node-service issue (#5); meanwhile try "
        "[cyan].venv/bin/docex --help[/cyan]."
    )
