"""Shared fixtures of the integration tests.

``serve(app)`` runs an ASGI app with uvicorn on a free 127.0.0.1 port in a thread (a
peer's gateway, honest or hostile), stopped after the test.

The standards tests (formats/, node/) run the independent implementations with node:
``tests/reference/standards`` holds their npm packages (installed by ``make test``):
OpenAttestation's own library, its DocumentStore contract and Digital Bazaar's
Bitstring Status List.

The databases: the node database and the event index are SQLite files unless a test is
marked ``both_databases``; then it runs twice, on SQLite and on PostgreSQL (that run
marked ``postgres``), through the ``database_url`` fixture. One private PostgreSQL server
per test session (per pytest-xdist worker), started when a test first needs it and
stopped by its PID at the end; a fresh database per test (node/testing/postgres_server.py).
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from node.testing.postgres_server import PostgresServer

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


# --- databases: SQLite, and PostgreSQL for the tests marked both_databases ---------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked ``both_databases`` that uses ``database_url`` (directly or through
    the node or index fixtures) runs on SQLite and on PostgreSQL."""
    if "database_url" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "both_databases"
    ):
        metafunc.parametrize(
            "database_url",
            ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
            indirect=True,
        )


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    server = PostgresServer(tmp_path_factory.mktemp("postgres"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a new, empty database on the session's PostgreSQL server; dropped after."""
    # looked up here, not as an argument: a session fixture in a test's closure would keep
    # its whole module on one xdist worker (tests/conftest.py)
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"test_{uuid.uuid4().hex[:16]}"
    url = server.create_database(name)
    yield url
    server.drop_database(name)


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str | None:
    """Where the node database and the event index live: None for SQLite files in the
    data dir (the default), or a PostgreSQL database URL (tests marked both_databases)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return None
    url: str = request.getfixturevalue("postgres_database")
    return url
