"""`docex network up/status/down`: four members, each its own signer and IPFS peer."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from typer.testing import CliRunner

from node.network.cli import network_app
from node.network.consortium import Consortium, wait_for_blocks
from node.network.genesis import clique_signers
from node.network.processes import is_running


def test_up_status_down_leaves_nothing_running(tmp_path: Path) -> None:
    root = tmp_path / "network"
    runner = CliRunner()
    consortium = Consortium(root)
    try:
        result = runner.invoke(network_app, ["up", "--root", str(root), "--detach", "--light-kdf"])
        assert result.exit_code == 0, result.output
        members = consortium.members()
        assert [m.country for m in members] == ["VN", "KR", "SG", "TH"]
        assert len({m.host for m in members}) == 4
        assert "DocumentRegistry 0x" in result.output

        # the genesis lists the members' own signers, which each made in its directory
        genesis = json.loads((root / "VN" / "geth" / "genesis.json").read_text())
        assert set(clique_signers(bytes.fromhex(genesis["extraData"][2:]))) == {
            m.signer for m in members
        }
        assert len({(root / m.country / "geth" / "nodekey").read_text() for m in members}) == 4
        assert wait_for_blocks(consortium, 3) >= 3
        assert consortium.audit() == []

        status = runner.invoke(network_app, ["status", "--root", str(root)])
        assert status.exit_code == 0, status.output
        assert status.output.count("ok") == 8
        assert "3 peers" in status.output

        # one member's Kubo dies: status says so, with a reason, and fails
        killed = next(e for e in consortium.pid_file.entries() if e.name == "SG-kubo")
        os.kill(killed.pid, signal.SIGKILL)
        status = runner.invoke(network_app, ["status", "--root", str(root)])
        assert status.exit_code == 1
        assert "SG  kubo  DOWN  not running" in status.output
    finally:
        entries = consortium.pid_file.entries()
        result = runner.invoke(network_app, ["down", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert "TH-geth" in result.output
    assert entries
    assert not any(is_running(e.pid, e.executable) for e in entries)
    assert consortium.pid_file.entries() == []
    assert runner.invoke(network_app, ["down", "--root", str(root)]).output.strip() == (
        "nothing was running"
    )


def test_a_network_brought_down_comes_back_up_on_its_own_chain(tmp_path: Path) -> None:
    root = tmp_path / "network"
    runner = CliRunner()
    consortium = Consortium(root)
    up = ["up", "--root", str(root), "--detach", "--light-kdf", "--members", "VN,KR,TH"]
    try:
        assert runner.invoke(network_app, up).exit_code == 0
        first = json.loads((root / "chain.json").read_text())
        height = wait_for_blocks(consortium, 2)
        runner.invoke(network_app, ["down", "--root", str(root)])
        assert consortium.running() == []

        again = runner.invoke(network_app, up)
        assert again.exit_code == 0, again.output
        assert json.loads((root / "chain.json").read_text()) == first
        assert wait_for_blocks(consortium, height + 2) >= height + 2
        code = consortium.geth("TH").rpc("eth_getCode", [first["document_registry"], "latest"])
        assert len(code) > 2
        refused = runner.invoke(network_app, up)
        assert refused.exit_code == 1
        assert "already up" in refused.output
    finally:
        runner.invoke(network_app, ["down", "--root", str(root)])
    assert consortium.running() == []
