"""adapters/printing is an outside format: it imports certificates and libraries, never
the chain layer (ledger) nor the node."""

from __future__ import annotations

import ast
from pathlib import Path

import adapters.printing

PACKAGE = Path(adapters.printing.__file__).parent


def imported_modules(source: Path) -> set[str]:
    names: set[str] = set()
    for statement in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(statement, ast.Import):
            names.update(alias.name for alias in statement.names)
        elif isinstance(statement, ast.ImportFrom) and statement.module is not None:
            names.add(statement.module)
    return names


def test_printing_imports_neither_ledger_nor_node() -> None:
    sources = sorted(PACKAGE.glob("*.py"))
    assert len(sources) >= 5

    forbidden = {
        f"{source.name}: {name}"
        for source in sources
        for name in imported_modules(source)
        if name.split(".")[0] in {"ledger", "node"}
    }

    assert forbidden == set()
