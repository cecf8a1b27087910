"""Fixtures for the printable-certificate tests, reused from their home layer: the VN
node under test (``tests/integration/node/conftest.py``: eth-tester chain, dev
consortium, real store and SQLite). ``serve`` (an ASGI app on a 127.0.0.1 port, for the
CLI) is the integration layer's own (``tests/integration/conftest.py``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

_INTEGRATION = Path(__file__).parents[1]


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


_node_fixtures = _load("printing_node_fixtures", _INTEGRATION / "node" / "conftest.py")

NodeUnderTest = _node_fixtures.NodeUnderTest
make_node = _node_fixtures.make_node
node = _node_fixtures.node
dev_node_template = _node_fixtures.dev_node_template
