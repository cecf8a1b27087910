"""Long security runs for ``make soak``: not part of ``make test``.

Every test here carries the ``soak`` marker, which ``tests/conftest.py`` deselects
unless the marker expression selects it::

    .venv/bin/pytest tests/soak/security -m soak -p no:cacheprovider

The contract state machine reuses the fixtures of ``tests/integration/contracts/``
(imported from that conftest by path: the tests folder is not a package).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

_TESTS = Path(__file__).resolve().parents[2]


def load_test_module(relative: str, name: str) -> ModuleType:
    """A module of the test suite, imported by path under ``name`` (once)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, _TESTS / relative)
        assert spec is not None
        assert spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


_contracts = load_test_module("integration/contracts/conftest.py", "docex_contracts_fixtures")
anvil_chain = _contracts.anvil_chain
consortium_factory = _contracts.consortium_factory


@pytest.fixture(scope="session")
def consortium_machine() -> type:
    """``ConsortiumMachine`` of ``tests/integration/contracts/test_stateful.py``."""
    stateful = load_test_module("integration/contracts/test_stateful.py", "docex_stateful")
    machine: type = stateful.ConsortiumMachine
    return machine
