"""node/db sits under every other node package: its tables import nothing else of node/,
and nothing in it loads alembic until a database is opened."""

from __future__ import annotations

import subprocess
import sys


def _modules_loaded_by(statement: str) -> set[str]:
    program = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    return set(loaded.stdout.split())


def test_the_tables_import_no_other_node_package() -> None:
    loaded = _modules_loaded_by("import node.db.tables")
    node_modules = {m for m in loaded if m == "node" or m.startswith("node.")}
    assert node_modules == {"node", "node.db", "node.db.schema", "node.db.tables"}


def test_importing_the_repositories_does_not_load_alembic() -> None:
    loaded = _modules_loaded_by(
        "import node.issuing.outbox, node.receiving.inbox, node.access.users"
    )
    assert not {m for m in loaded if m == "alembic" or m.startswith("alembic.")}
