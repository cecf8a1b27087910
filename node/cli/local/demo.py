"""``docex demo``: the ten-minute tour. Three member nodes (VN, KR, SG) as processes on one
managed anvil chain; VN issues certificates of origin to KR, KR receives, verifies, uses
and rejects them, VN amends and revokes some, SG finds them not recognised, and an
auditor re-checks a provenance against the chain. ``--network`` runs the same tour on a
`docex network` (each member its own geth signer, Kubo peer and node). Exit 0 only when
every expectation held; 1 names the failed steps; 130 on Ctrl-C (every process stopped
by its PID)."""

from __future__ import annotations

import json
import os
import signal
import tomllib
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from node.cli.exits import EXIT_OK, EXIT_REFUSED, EXIT_UNREADABLE, fail

#: the conventional exit status of a command stopped by Ctrl-C (128 + SIGINT)
EXIT_INTERRUPTED = 130


def _interrupt(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    raise KeyboardInterrupt


def register(app: typer.Typer) -> None:
    """Add ``docex demo`` to ``app``."""
    app.command("demo")(demo)


def _node_settings(path: Path | None) -> dict[str, object]:
    """The keys of a ``.toml``/``.json`` settings file, checked against NodeSettings."""
    if path is None:
        return {}
    from node.settings import NodeSettings

    try:
        text = path.read_text(encoding="utf-8")
        values = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as error:
        fail("demo", EXIT_UNREADABLE, f"cannot read {path}: {error}")
    if not isinstance(values, dict):
        fail("demo", EXIT_UNREADABLE, f"{path}: expected a table of settings")
    unknown = sorted(set(values) - set(NodeSettings.model_fields))
    if unknown:
        fail("demo", EXIT_UNREADABLE, f"{path}: unknown settings {', '.join(unknown)}")
    return values


def demo(
    certificates: Annotated[
        int,
        typer.Option("--certificates", "-n", min=5, help="Certificates of origin VN issues."),
    ] = 1000,
    workdir: Annotated[
        Path | None,
        typer.Option(
            "--workdir",
            file_okay=False,
            help="Working directory (nodes' data, logs, chain); default a temporary one.",
        ),
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the working directory at the end.")
    ] = False,
    node_config: Annotated[
        Path | None,
        typer.Option(
            "--node-config",
            dir_okay=False,
            help="Extra settings (.toml/.json, `docex run --config` keys) for every node.",
        ),
    ] = None,
    network: Annotated[
        bool,
        typer.Option(
            "--network",
            help="Run on a `docex network` (VN, KR, SG, TH: each its own geth signer, Kubo "
            "peer and node) instead of one anvil; needs `make engines`.",
        ),
    ] = False,
) -> None:
    """Three administrations, one chain: the cross-border exchange end to end."""
    from rich.console import Console

    from node.dev.demo import DemoAborted, DemoOptions, run_demo

    options = DemoOptions(
        certificates=certificates,
        workdir=workdir,
        keep=keep,
        node_settings=_node_settings(node_config),
        consortium_network=network,
    )
    console = Console(highlight=False)
    # `kill PID` stops the demo like Ctrl-C: the nodes (in sessions of their own) and the
    # chain are stopped by their PIDs on the way out, never left behind
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        # the nodes inherit PATH and the like; run_demo drops any DOCEX_* of this shell
        outcome = run_demo(options, console, os.environ)
    except KeyboardInterrupt:
        console.print("docex demo: interrupted; every process it started is stopped")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except DemoAborted as error:
        fail("demo", EXIT_UNREADABLE, error.message)
    raise typer.Exit(EXIT_OK if outcome.held else EXIT_REFUSED)
