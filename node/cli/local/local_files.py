"""Reading a user's file for a command: bounded, with a clear message when it cannot be read."""

from __future__ import annotations

from pathlib import Path

from node.cli.exits import EXIT_UNREADABLE, fail


def read_limited(command: str, path: Path, limit: int, *, what: str = "") -> bytes:
    """At most ``limit`` bytes of ``path``; a larger or unreadable file ends the command (2)."""
    label = f"{what} {path}".strip()
    try:
        with path.open("rb") as file:
            raw = file.read(limit + 1)
    except OSError as error:
        fail(command, EXIT_UNREADABLE, f"cannot read {label}: {error.strerror}")
    if len(raw) > limit:
        fail(command, EXIT_UNREADABLE, f"{label} is larger than {limit} bytes")
    return raw
