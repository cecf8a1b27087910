"""Suite-wide: mark tests by the layer folder they live in (tests/integration, tests/e2e)."""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        layer = Path(item.path).relative_to(_HERE).parts[0]
        if layer == "integration":
            item.add_marker(pytest.mark.integration)
        elif layer == "e2e":
            item.add_marker(pytest.mark.e2e)
