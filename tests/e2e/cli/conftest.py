"""The client commands against real nodes: one anvil, a VN and a KR ``docex run`` process
(KR joined to VN's consortium, receiving from VN's gateway), shared by the tests of this
folder and stopped by PID at the end. The commands run as ``docex`` processes.

The node processes are the ``NodeProcess`` of ``tests/e2e/node/conftest.py`` (loaded from
that file, not copied).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ledger import ManagedAnvil
from ledger.chains import anvil_binary, find_free_port

REPO = Path(__file__).resolve().parents[3]
DOCEX = REPO / ".venv" / "bin" / "docex"
FAST = {"DOCEX_BATCH_MAX_LATENCY_MS": "100", "DOCEX_RECEIVE_POLL_MS": "200"}

_spec = importlib.util.spec_from_file_location(
    "e2e_node_processes", REPO / "tests" / "e2e" / "node" / "conftest.py"
)
assert _spec is not None
assert _spec.loader is not None
_processes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_processes)
NodeProcess: Any = _processes.NodeProcess


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DOCEX_")}


@dataclass
class Consortium:
    """The two nodes and the tokens the tests use."""

    vn: Any
    kr: Any
    vn_issuer: str  # the sample issuer (coo, permit, declaration)
    vn_other_issuer: str  # another institution issuing coo/1 in VN
    kr_officer: str

    def add_issuer(self, name: str) -> str:
        done = subprocess.run(
            [str(DOCEX), "users", "add", name, "--role", "issuer", "--types", "coo/1",
             "--data-dir", str(self.vn.data_dir)],
            capture_output=True, text=True, env=_clean_env(), cwd=REPO,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return str(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Consortium]:
    root = tmp_path_factory.mktemp("cli-consortium")
    chain = ManagedAnvil(anvil_binary(REPO / "node_modules"), root / "anvil", port=find_free_port())
    chain.start()
    started: list[Any] = []
    try:
        rpc = ["--chain", "rpc", "--rpc-url", chain.url]
        vn = NodeProcess(root / "vn", find_free_port(), [*rpc, "--country", "VN"], FAST)
        started.append(vn)
        vn_issuer = vn.sample_token()
        kr = NodeProcess(
            root / "kr",
            find_free_port(),
            [*rpc, "--country", "KR", "--join", str(vn.data_dir), "--peer-gateway",
             f"VN={vn.base}"],
            FAST,
        )  # fmt: skip
        started.append(kr)
        kr.wait_until_up()
        consortium = Consortium(vn, kr, vn_issuer, "", kr.add_user("kr-customs", "customs-officer"))
        consortium.vn_other_issuer = consortium.add_issuer("vcci-coo")
        yield consortium
    finally:
        for node in reversed(started):
            if node.process.poll() is None:
                node.interrupt()
        chain.stop()
