"""node/ is arranged by workflow, with HTTP only at its edge (docs/node.md, issue 11).

Static checks over the source (module-level imports, read with ``ast``): nothing runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("certificates", "ledger", "adapters", "node")
WEB_FRAMEWORKS = ("fastapi", "starlette", "uvicorn")
#: the HTTP edge, and the one command that starts the server
MAY_IMPORT_WEB = ("node.http", "node.cli.local.run")
#: development and test code, fenced off from the production paths
FENCED = ("node.dev", "node.testing")
MAY_IMPORT_FENCED = ("node.dev", "node.testing", "node.cli.local.demo")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }


def _module_level_imports(path: Path) -> Iterator[str]:
    """Imports executed when the module is imported: not those inside functions or under
    ``if TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        statement = pending.pop()
        if isinstance(statement, ast.Import):
            yield from (alias.name for alias in statement.names)
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            yield statement.module
            yield from (f"{statement.module}.{alias.name}" for alias in statement.names)
        elif isinstance(statement, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(statement.test):
                pending += statement.body + statement.orelse
        elif isinstance(statement, ast.Try):
            pending += statement.body + statement.orelse + statement.finalbody
            for handler in statement.handlers:
                pending += handler.body


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for imported in _module_level_imports(path):
            if imported in modules:
                targets.add(imported)
            elif imported.split(".")[0] in WEB_FRAMEWORKS:
                targets.add(imported.split(".")[0])
        # importing a.b.c runs a/__init__ and a/b/__init__ first
        parts = name.split(".")
        targets |= {".".join(parts[:i]) for i in range(1, len(parts))} & modules.keys()
        graph[name] = targets - {name}
    return graph


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def test_node_keeps_at_most_six_top_level_modules() -> None:
    top_level = sorted(path.name for path in (ROOT / "node").glob("*.py"))
    assert len(top_level) <= 6, top_level


def test_there_is_no_import_circle_in_node() -> None:
    graph = {name: targets for name, targets in _graph().items() if name.startswith("node")}
    # a package's own __init__ importing its children is not a circle
    done: set[str] = set()
    stack: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in stack:
            circle = [*stack[stack.index(name) :], name]
            raise AssertionError("import circle: " + " -> ".join(circle))
        stack.append(name)
        for target in sorted(graph.get(name, ())):
            if target.startswith("node") and not name.startswith(target + "."):
                visit(target)
        stack.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


def _reaches(graph: dict[str, set[str]], start: str, goals: tuple[str, ...]) -> list[str] | None:
    """An import path from ``start`` to one of ``goals``, or None."""
    seen = {start}
    paths = [[start]]
    while paths:
        path = paths.pop()
        for target in sorted(graph.get(path[-1], ())):
            if _within(target, goals):
                return [*path, target]
            if target not in seen:
                seen.add(target)
                paths.append([*path, target])
    return None


def test_only_the_http_edge_imports_a_web_framework() -> None:
    graph = _graph()
    offenders = {
        name: path
        for name in graph
        if not _within(name, MAY_IMPORT_WEB) and name != "adapters.content.gateway_server"
        for path in [_reaches(graph, name, WEB_FRAMEWORKS)]
        if path is not None
        and not any(_within(step, MAY_IMPORT_WEB) for step in path[1:-1])
        and "adapters.content.gateway_server" not in path
    }
    assert not offenders, offenders


def test_development_and_test_code_is_not_imported_by_production_paths() -> None:
    graph = _graph()
    offenders = {
        name: sorted(target for target in targets if _within(target, FENCED))
        for name, targets in graph.items()
        if not _within(name, MAY_IMPORT_FENCED)
    }
    assert not {name: targets for name, targets in offenders.items() if targets}


def test_the_checks_see_an_import_circle_and_a_web_import(tmp_path: Path) -> None:
    """The walker itself: a module-level import is seen, a TYPE_CHECKING one is not."""
    source = tmp_path / "sample.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "import fastapi\n"
        "from node.errors import NodeError\n"
        "if TYPE_CHECKING:\n"
        "    from node.http.app import create_app\n"
        "def later():\n"
        "    import starlette\n",
        encoding="utf-8",
    )
    imported = set(_module_level_imports(source))
    assert {"fastapi", "node.errors", "node.errors.NodeError"} <= imported
    assert "node.http.app" not in imported
    assert "starlette" not in imported
