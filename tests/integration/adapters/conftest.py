"""Shared fixtures for the content adapter's integration tests.

- ``reference``: runs tests/reference/unixfs_reference.mjs (the official JS UnixFS
  importer and @ipld/car) with the node binary;
- ``make_file``: deterministic files of any size, written fast from a seeded PRNG;
- ``kubo``: a real Kubo daemon (bin/ipfs from `make engines`) on 127.0.0.1, closed to the
  world (a private swarm of its own, no peers), stopped by PID after the test;
(``serve``, an ASGI app on uvicorn, is tests/integration/conftest.py's; ``kubo_swarm``,
real Kubo peers in one private swarm, is suite-wide: tests/conftest.py.)
"""

from __future__ import annotations

import json
import random
import subprocess
from collections.abc import Callable, Iterator
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from ledger.chains import find_free_ports
from node.network import (
    KuboNode,
    PidFile,
    audit_kubo_node,
    consortium_networks,
    engine_binary,
    new_swarm_secret,
)

REPO = Path(__file__).resolve().parents[3]
REFERENCE_SCRIPT = REPO / "tests" / "reference" / "unixfs_reference.mjs"

Reference = Callable[..., dict[str, Any]]
MakeFile = Callable[[int, int], Path]


@pytest.fixture(scope="session")
def reference() -> Reference:
    def run(*args: object) -> dict[str, Any]:
        completed = subprocess.run(
            ["node", str(REFERENCE_SCRIPT), *map(str, args)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        result: dict[str, Any] = json.loads(completed.stdout)
        return result

    return run


def write_deterministic_file(path: Path, size: int, seed: int) -> Path:
    rng = random.Random(seed)
    with path.open("wb") as out:
        remaining = size
        while remaining:
            piece = min(remaining, 4 * 1024 * 1024)
            out.write(rng.randbytes(piece))
            remaining -= piece
    return path


@pytest.fixture
def make_file(tmp_path: Path) -> MakeFile:
    def make(size: int, seed: int = 1) -> Path:
        return write_deterministic_file(tmp_path / f"file-{size}-{seed}.bin", size, seed)

    return make


@pytest.fixture
def kubo(tmp_path: Path) -> Iterator[KuboNode]:
    pids = PidFile(tmp_path / "kubo.pids.json")
    host = IPv4Address("127.0.0.1")
    # two ports picked together: picked one at a time, the OS may give the same one twice
    # (it did: Kubo's swarm and API on one port, "address already in use")
    swarm_port, api_port = find_free_ports(2)
    daemon = KuboNode(
        engine_binary("kubo"),
        tmp_path / "kubo-repo",
        host=host,
        swarm_port=swarm_port,
        api_port=api_port,
        swarm_secret=new_swarm_secret(),
        pid_file=pids,
    )
    daemon.init()
    daemon.start()
    try:
        yield daemon
        assert audit_kubo_node(daemon, consortium_networks([host])) == []
    finally:
        daemon.stop()
        pids.stop_all()
        assert pids.entries() == []
