"""JSON Pointer (RFC 6901) paths: how docex names a field in errors and in hashes."""

from __future__ import annotations


def escape_token(key: str) -> str:
    """Escape one object key as a JSON Pointer reference token."""
    return key.replace("~", "~0").replace("/", "~1")


def unescape_token(token: str) -> str:
    """Inverse of :func:`escape_token`."""
    return token.replace("~1", "/").replace("~0", "~")


def child(path: str, key: str | int) -> str:
    """The pointer of member ``key`` (or array index) of the value at ``path``."""
    return f"{path}/{key}" if isinstance(key, int) else f"{path}/{escape_token(key)}"


def split(path: str) -> list[str]:
    """Reference tokens of ``path`` ('' is the whole document)."""
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError(f"JSON Pointer {path!r} must start with '/'")
    return [unescape_token(token) for token in path[1:].split("/")]


def is_within(path: str, ancestor: str) -> bool:
    """True when ``path`` is ``ancestor`` or lies below it."""
    return path == ancestor or path.startswith(ancestor + "/")
