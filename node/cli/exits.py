"""Exit codes shared by every docex command, and the one way a command gives up."""

from __future__ import annotations

from typing import NoReturn

import typer

from certificates.errors import DocexError

EXIT_OK = 0
#: refused or invalid: a document that fails a check, a wrong passphrase, an existing file
EXIT_REFUSED = 1
EXIT_INVALID = 1
#: usage error, or an input that cannot be read at all
EXIT_UNREADABLE = 2


def describe(error: DocexError) -> str:
    """``code: message (at path)``: how a DocexError reads on a terminal."""
    return f"{error.code}: {error}"


def fail(command: str, exit_code: int, message: str) -> NoReturn:
    """Print ``docex COMMAND: message`` on stderr and exit with ``exit_code``."""
    typer.echo(f"docex {command}: {message}", err=True)
    raise typer.Exit(exit_code)
