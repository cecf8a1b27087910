"""``docex`` starts fast: a command imports what it needs when it runs, not every
command's dependencies (issue 15 §2). Checked by what a fresh interpreter has imported,
never by timing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("web3", "eth_account", "fastapi", "starlette", "uvicorn", "sqlalchemy", "httpx", "rich")


def _imported_heavy(*modules: str) -> list[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(json.loads(done.stdout))


def test_the_docex_command_loads_no_command_dependencies() -> None:
    assert _imported_heavy("node.cli.main") == []


@pytest.mark.parametrize(
    "command_module",
    ["node.cli.local.content", "node.cli.local.documents", "node.cli.client.verify"],
)
def test_a_command_module_loads_its_dependencies_only_when_it_runs(command_module: str) -> None:
    assert _imported_heavy("node.cli.main", command_module) == []


def test_the_cid_command_needs_neither_the_network_nor_the_stores() -> None:
    assert _imported_heavy("adapters.content.unixfs_importer") == []


def test_the_node_loads_the_pdf_renderer_only_when_it_prints() -> None:
    """``docex run`` serves verification and issuing; the PDF library (a quarter of a
    second of a node's start) is loaded by the first certificate printed."""
    code = (
        "import sys\nimport node.http.app\nprint('fpdf' in sys.modules)\n"
        "import adapters.printing as printing\nprinting.render_certificate\n"
        "print('fpdf' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]
