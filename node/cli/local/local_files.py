"""Reading a user's file for a command: bounded, with a clear message when it cannot be read."""

from __future__ import annotations

from pathlib import Path

from node.cli.exits import EXIT_UNREADABLE, fail


class UnreadableFile(Exception):
    """A file a command cannot read, or larger than it takes; the message says which."""


def read_bounded(path: Path, limit: int, *, what: str = "") -> bytes:
    """At most ``limit`` bytes of ``path``; :class:`UnreadableFile` if it is larger or
    cannot be read (for commands that go on with their other files)."""
    label = f"{what} {path}".strip()
    try:
        with path.open("rb") as file:
            raw = file.read(limit + 1)
    except OSError as error:
        raise UnreadableFile(f"cannot read {label}: {error.strerror}") from error
    if len(raw) > limit:
        raise UnreadableFile(f"{label} is larger than {limit} bytes")
    return raw


def read_limited(command: str, path: Path, limit: int, *, what: str = "") -> bytes:
    """At most ``limit`` bytes of ``path``; a larger or unreadable file ends the command (2)."""
    try:
        return read_bounded(path, limit, what=what)
    except UnreadableFile as error:
        fail(command, EXIT_UNREADABLE, str(error))
