"""The web pages in a real browser: Debian's chromium driven by Playwright (PyPI; never
``playwright install``, which downloads a browser), against a ``docex run`` process on
its managed anvil chain (the e2e node launcher of ``tests/e2e/node``), stopped by PID.
Screenshots go to ``tests/artifacts/web/`` (gitignored)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ledger.chains import find_free_port

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts" / "web"
#: the flags docs/environment-notes name for chromium on these machines (Playwright adds
#: --headless itself)
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FAST = {"DOCEX_BATCH_MAX_LATENCY_MS": "100", "DOCEX_RECEIVE": "false"}


def _node_launcher() -> ModuleType:
    """The e2e node launcher (``NodeProcess``) of ``tests/e2e/node/conftest.py``, reused:
    conftest modules are not importable by name."""
    path = REPO / "tests" / "e2e" / "node" / "conftest.py"
    spec = importlib.util.spec_from_file_location("docex_e2e_node_launcher", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def vn_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The VN node as ``docex run`` on its own managed anvil (dev consortium), its sample
    token read from what it prints."""
    launcher = _node_launcher()
    data_dir = tmp_path_factory.mktemp("web") / "vn"
    node = launcher.NodeProcess(
        data_dir, find_free_port(), ["--anvil-port", str(find_free_port())], FAST
    )
    try:
        node.token = node.sample_token()
        yield node
    finally:
        if node.process.poll() is None:
            node.interrupt()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def screenshots() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
