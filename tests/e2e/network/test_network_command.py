"""`docex network up/status/down`: four members, each its own signer and IPFS peer.

One network for the whole story (it takes seconds of CPU to bring up): up, closed,
producing blocks; a member's Kubo dies and status says so; down leaves nothing running;
up again (in the foreground) restarts the same chain with the same contracts, and
Ctrl-C stops every member.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from node.network.cli import network_app
from node.network.consortium import Consortium, wait_for_blocks
from node.network.genesis import clique_signers
from node.network.processes import is_running

pytestmark = pytest.mark.slow

DOCEX = Path(sys.executable).parent / "docex"


def test_up_status_down_and_up_again(tmp_path: Path) -> None:
    root = tmp_path / "network"
    runner = CliRunner()
    consortium = Consortium(root)
    up = ["up", "--root", str(root), "--detach", "--light-kdf"]
    foreground: subprocess.Popen[str] | None = None
    try:
        result = runner.invoke(network_app, up)
        assert result.exit_code == 0, result.output
        members = consortium.members()
        assert [m.country for m in members] == ["VN", "KR", "SG", "TH"]
        assert len({m.host for m in members}) == 4
        assert "DocumentRegistry 0x" in result.output
        deployment = json.loads((root / "chain.json").read_text())

        # the genesis lists the members' own signers, which each made in its directory
        genesis = json.loads((root / "VN" / "geth" / "genesis.json").read_text())
        assert set(clique_signers(bytes.fromhex(genesis["extraData"][2:]))) == {
            m.signer for m in members
        }
        assert len({(root / m.country / "geth" / "nodekey").read_text() for m in members}) == 4
        height = wait_for_blocks(consortium, 3)
        assert consortium.audit() == []

        status = runner.invoke(network_app, ["status", "--root", str(root)])
        assert status.exit_code == 0, status.output
        assert status.output.count(" ok ") == 9  # 4 x (geth, Kubo) + the followers
        assert status.output.count("3 peers") == 8

        # one member's Kubo dies: status says so, with a reason, and fails
        killed = next(e for e in consortium.pid_file.entries() if e.name == "SG-kubo")
        os.kill(killed.pid, signal.SIGKILL)
        status = runner.invoke(network_app, ["status", "--root", str(root)])
        assert status.exit_code == 1
        assert "SG  kubo  DOWN  not running" in status.output

        entries = consortium.pid_file.entries()
        result = runner.invoke(network_app, ["down", "--root", str(root)])
        assert result.exit_code == 0, result.output
        assert "TH-geth" in result.output
        assert "SG-kubo" not in result.output  # it was dead already
        assert not any(is_running(e.pid, e.executable) for e in entries)
        assert consortium.pid_file.entries() == []
        assert runner.invoke(network_app, ["status", "--root", str(root)]).exit_code == 1

        # up again in the foreground, as an operator runs it; Ctrl-C stops every member
        foreground = subprocess.Popen(
            [str(DOCEX), "network", "up", "--root", str(root), "--light-kdf"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert foreground.stdout is not None
        printed = []
        while not any("Ctrl-C stops every member" in line for line in printed):
            line = foreground.stdout.readline()
            assert line, "".join(printed)  # it ended before being up
            printed.append(line)
        assert json.loads((root / "chain.json").read_text()) == deployment
        assert wait_for_blocks(consortium, height + 2) >= height + 2
        code = consortium.geth("TH").rpc("eth_getCode", [deployment["document_registry"], "latest"])
        assert len(code) > 2
        refused = runner.invoke(network_app, up)
        assert refused.exit_code == 1
        assert "already up" in refused.output
        entries = consortium.pid_file.entries()
        assert len(entries) == 9  # 4 x (geth, Kubo) + the members' signer followers

        foreground.send_signal(signal.SIGINT)
        rest, _ = foreground.communicate(timeout=60)
        assert foreground.returncode == 0, rest
        assert "stopped" in rest
        assert not any(is_running(e.pid, e.executable) for e in entries)
    finally:
        if foreground is not None and foreground.poll() is None:
            foreground.kill()  # the docex process this test started, by its PID
            foreground.wait()
        runner.invoke(network_app, ["down", "--root", str(root)])
    assert consortium.running() == []
    assert runner.invoke(network_app, ["down", "--root", str(root)]).output.strip() == (
        "nothing was running"
    )
