"""Shared fixtures for the standards tests (formats/, node/): the independent
implementations, run with node.

``tests/reference/standards`` holds their npm packages (installed by ``make test``):
OpenAttestation's own library, its DocumentStore contract and Digital Bazaar's
Bitstring Status List.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
STANDARDS = REPO / "tests" / "reference" / "standards"

RunReference = Callable[[str, dict[str, Any]], Any]


@pytest.fixture(scope="session")
def run_reference() -> RunReference:
    """Run ``tests/reference/standards/SCRIPT`` with a JSON request on stdin; JSON back."""
    if not (STANDARDS / "node_modules" / ".package-lock.json").exists():
        pytest.fail("tests/reference/standards has no node_modules: run `make test`")

    def run(script: str, request: dict[str, Any]) -> Any:
        completed = subprocess.run(
            ["node", str(STANDARDS / script)],
            input=json.dumps(request),
            cwd=STANDARDS,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if completed.returncode != 0:
            raise AssertionError(f"{script} failed: {completed.stderr}")
        return json.loads(completed.stdout)

    return run
