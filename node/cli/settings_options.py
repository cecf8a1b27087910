"""The options every node command shares: the config file and the data dir."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from certificates.errors import DocexError
from node.cli.exits import EXIT_UNREADABLE, describe, fail

if TYPE_CHECKING:
    from node.settings import NodeSettings

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="Settings file (.toml or .json); DOCEX_* variables win.", dir_okay=False
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="The node's data directory (DOCEX_DATA_DIR).", file_okay=False),
]


def settings_for(command: str, config: Path | None, **overrides: Any) -> NodeSettings:
    from node.settings import load_settings  # pydantic-settings: only for node commands

    try:
        return load_settings(config, **overrides)
    except DocexError as error:
        fail(command, EXIT_UNREADABLE, describe(error))
