"""The bad-input corpus (``tests/corpus/bad_input/``) as test data.

``index.json`` lists every file with what it is (``kind``: ``json`` for bytes no strict
JSON parser may accept, ``document`` for JSON that is not a valid document), the
problem code docex must answer with, and why the case matters. ``forgeries`` lists
tamperings of a genuine wrapped document, as small patches (``replace``, ``add``,
``swap``) applied by :func:`forge`, with the check that must fail.

Security tests in every layer import this file by its path (pytest runs with
``--import-mode=importlib``, so the tests folder is not a package): see
``_corpus()`` in ``tests/integration/node/test_security_bad_input.py``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FILES = HERE / "bad_input"
INDEX: dict[str, Any] = json.loads((FILES / "index.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class BadFile:
    name: str
    kind: str
    code: str
    why: str

    @property
    def raw(self) -> bytes:
        return (FILES / self.name).read_bytes()

    @property
    def path(self) -> Path:
        return FILES / self.name


@dataclass(frozen=True)
class Forgery:
    name: str
    why: str
    fails: str
    ops: tuple[dict[str, Any], ...]


BAD_FILES: tuple[BadFile, ...] = tuple(
    BadFile(e["file"], e["kind"], e["code"], e["why"]) for e in INDEX["files"]
)
NOT_JSON: tuple[BadFile, ...] = tuple(f for f in BAD_FILES if f.kind == "json")
NOT_A_DOCUMENT: tuple[BadFile, ...] = tuple(f for f in BAD_FILES if f.kind == "document")
FORGERIES: tuple[Forgery, ...] = tuple(
    Forgery(f["name"], f["why"], f["fails"], tuple(f["ops"])) for f in INDEX["forgeries"]
)


def oversized(limit: int) -> bytes:
    """A well-formed JSON object one byte over ``limit``."""
    head, tail = b'{"documentType": "coo/1", "padding": "', b'"}'
    return head + b"a" * (limit + 1 - len(head) - len(tail)) + tail


def _tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def _parent(value: Any, pointer: str) -> tuple[Any, str]:
    *path, last = _tokens(pointer)
    for token in path:
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value, last


def _get(value: Any, pointer: str) -> Any:
    parent, last = _parent(value, pointer)
    return parent[int(last)] if isinstance(parent, list) else parent[last]


def _set(value: Any, pointer: str, new: Any) -> None:
    parent, last = _parent(value, pointer)
    if isinstance(parent, list):
        if last == "-":
            parent.append(new)
        else:
            parent[int(last)] = new
    else:
        parent[last] = new


def forge(wrapped: Any, forgery: Forgery) -> Any:
    """A copy of ``wrapped`` with ``forgery``'s patches applied."""
    forged = copy.deepcopy(wrapped)
    for op in forgery.ops:
        if op["op"] in ("replace", "add"):
            _set(forged, op["path"], op["value"])
        elif op["op"] == "swap":
            first, second = _get(forged, op["path"]), _get(forged, op["with"])
            _set(forged, op["path"], second)
            _set(forged, op["with"], first)
        else:
            raise ValueError(f"unknown corpus op {op['op']!r}")
    return forged
