"""Shared fixtures of the integration tests.

``serve(app)`` runs an ASGI app with uvicorn on a free 127.0.0.1 port in a thread (a
peer's gateway, honest or hostile), stopped after the test.

For the standards tests (formats/, node/): the independent implementations, run with node.

``tests/reference/standards`` holds their npm packages (installed by ``make test``):
OpenAttestation's own library, its DocumentStore contract and Digital Bazaar's
Bitstring Status List.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

REPO = Path(__file__).resolve().parents[2]
STANDARDS = REPO / "tests" / "reference" / "standards"

RunReference = Callable[[str, dict[str, Any]], Any]
Serve = Callable[[Any], str]


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: Any) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:  # readiness wait, not a timing assertion
            if not thread.is_alive():
                raise RuntimeError("test server failed to start")
            time.sleep(0.01)
        servers.append((server, thread))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join()


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
