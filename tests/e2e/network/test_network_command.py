"""`docex network up/status/down`: four members, each its own signer, IPFS peer and node.

One network for the module (it takes tens of seconds of CPU to bring up), the tests in
order: up, closed, producing blocks, every member's node ready on its own address; a
certificate of origin issued at VN's node anchors and verifies (then is received) at
KR's node; a member whose Kubo or geth dies is reported with a reason, by `status` and
by its node's /readyz; down leaves no process (by PID); up again in the foreground
restarts the same chain with the same contracts and nodes, and Ctrl-C stops everything.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from certificates.keystore import decrypt_keystore
from node.consortium.member_keys import passphrase_of
from node.dev.demo.certificates_of_origin import certificate_for_korea
from node.network.cli import network_app
from node.network.consortium import Consortium, MemberEndpoints, wait_for_blocks
from node.network.genesis import clique_signers
from node.network.processes import RecordedProcess

pytestmark = pytest.mark.slow

DOCEX = Path(sys.executable).parent / "docex"
CHECKS = ("integrity", "signature", "issuance", "issuer", "status", "recognition")


@dataclass
class Network:
    root: Path
    consortium: Consortium
    printed: str
    #: every process `up` started, as recorded
    started: list[RecordedProcess]

    def member(self, country: str) -> MemberEndpoints:
        return next(m for m in self.consortium.members() if m.country == country)

    def status(self) -> Any:
        return CliRunner().invoke(network_app, ["status", "--root", str(self.root)])


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    root = tmp_path_factory.mktemp("consortium") / "network"
    consortium = Consortium(root)
    up = ["up", "--root", str(root), "--detach", "--light-kdf", "--agreement", "KR:VN:coo/1"]
    try:
        result = CliRunner().invoke(network_app, up)
        assert result.exit_code == 0, result.output
        yield Network(root, consortium, result.output, consortium.pid_file.entries())
    finally:
        CliRunner().invoke(network_app, ["down", "--root", str(root)])
    assert consortium.running() == []


def users_add(node_dir: Path, name: str, role: str, types: str = "") -> str:
    """A bearer token from ``docex users add`` on a member's node data dir."""
    command = [str(DOCEX), "users", "add", name, "--role", role, "--data-dir", str(node_dir)]
    command += ["--types", types] if types else []
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def keystore_address(path: Path) -> str:
    from eth_account import Account

    key = decrypt_keystore(json.loads(path.read_text()), passphrase_of(path))
    return str(Account.from_key(key).address)


def test_up_starts_every_members_engines_and_node_closed(network: Network) -> None:
    members = network.consortium.members()
    assert [m.country for m in members] == ["VN", "KR", "SG", "TH"]
    assert len({m.host for m in members}) == 4
    assert "DocumentRegistry 0x" in network.printed
    assert all(m.node_url in network.printed for m in members)
    assert sorted(e.name.split("-")[-1] for e in network.started) == (
        ["followers"] + ["geth"] * 4 + ["kubo"] * 4 + ["node"] * 4
    )

    # the genesis lists the members' own signers, which each made in its directory
    genesis = json.loads((network.root / "VN" / "geth" / "genesis.json").read_text())
    assert set(clique_signers(bytes.fromhex(genesis["extraData"][2:]))) == {
        m.signer for m in members
    }
    root = network.root
    assert len({(root / m.country / "geth" / "nodekey").read_text() for m in members}) == 4
    for member in members:
        # each node's keys are in its own member's directory and nowhere else: its member
        # account is its signer, its issuer account the one the registry was given
        keys = root / member.country / "node" / "keys"
        assert keystore_address(keys / f"{member.country}-member.json") == member.signer
        assert keystore_address(keys / f"{member.country}-issuer.json") == member.issuer
        others = [m for m in members if m is not member]
        assert not any(
            (root / o.country / "node" / "keys" / f"{member.country}-issuer.json").exists()
            for o in others
        )
    wait_for_blocks(network.consortium, 3)
    assert network.consortium.audit() == []

    status = network.status()
    assert status.exit_code == 0, status.output
    assert status.output.count(" ok ") == 13  # 4 x (geth, Kubo, node) + the followers
    assert status.output.count("3 peers") == 8
    for member in members:
        assert f"{member.country}  node  ok    ready, block" in status.output
        assert httpx.get(f"{member.node_url}/readyz", timeout=10).status_code == 200


def test_a_document_issued_at_vn_anchors_and_reaches_kr_through_the_nodes(
    network: Network,
) -> None:
    vn, kr = network.member("VN"), network.member("KR")
    ministry = users_add(network.root / "VN" / "node", "vn-ministry", "issuer", "coo")
    officer = users_add(network.root / "KR" / "node", "kr-customs", "customs-officer")
    document = certificate_for_korea(7)

    answer = httpx.post(
        f"{vn.node_url}/v1/documents",
        params={"confidential": "true"},  # sealed for VN and KR: their keys are on chain
        json=[document],
        headers={"Authorization": f"Bearer {ministry}"},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    (receipt,) = answer.json()["receipts"]
    anchored = wait_for(
        "VN's receipt anchored",
        lambda: _anchored(vn.node_url, receipt["url"], ministry),
    )
    assert anchored["blockNumber"] > 0

    # KR's node verifies it against its own geth's copy of the chain, once it has indexed
    # the anchoring block
    statuses = wait_for("KR's verdict", lambda: _verdict_once_indexed(kr.node_url, anchored))
    assert {name: statuses.get(name) for name in CHECKS} == dict.fromkeys(CHECKS, "valid")

    received = wait_for(
        "KR's inbox holding VN's certificate",
        lambda: _in_inbox(kr.node_url, officer, anchored["targetHash"]),
    )
    assert received["issuerCountry"] == "VN"
    assert received["valid"] is True


def test_status_and_readyz_say_which_engine_a_member_lost(network: Network) -> None:
    entries = {e.name: e for e in network.consortium.pid_file.entries()}
    os.kill(entries["SG-kubo"].pid, signal.SIGKILL)
    os.kill(entries["TH-geth"].pid, signal.SIGKILL)
    sg, th = network.member("SG"), network.member("TH")

    status = network.status()
    assert status.exit_code == 1
    assert "SG  kubo  DOWN  not running" in status.output
    assert "TH  geth  DOWN  not running" in status.output
    assert "SG  node  DOWN  not ready (store: content-store-unavailable: Kubo" in status.output
    assert "TH  node  DOWN  not ready (chain: rpc-unreachable: " in status.output
    assert "Traceback" not in status.output
    assert "VN  node  ok" in status.output

    store = httpx.get(f"{sg.node_url}/readyz", timeout=30)
    assert store.status_code == 503
    assert store.json()["checks"]["store"]["code"] == "content-store-unavailable"
    chain = httpx.get(f"{th.node_url}/readyz", timeout=30)
    assert chain.status_code == 503
    assert chain.json()["checks"]["chain"]["code"] == "rpc-unreachable"
    assert th.rpc_url in chain.json()["checks"]["chain"]["reason"]


def test_down_stops_every_process_and_up_again_restarts_the_same_network(
    network: Network,
) -> None:
    root, consortium = network.root, network.consortium
    runner = CliRunner()
    deployment = json.loads((root / "chain.json").read_text())
    height = consortium.geth("VN").block_number()

    result = runner.invoke(network_app, ["down", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert "TH-node" in result.output
    assert "VN-geth" in result.output
    assert "SG-kubo" not in result.output  # it was dead already
    assert not [e.name for e in network.started if e.running()]
    assert not [e.name for e in network.started if _alive(e.pid)]
    assert consortium.pid_file.entries() == []
    assert runner.invoke(network_app, ["status", "--root", str(root)]).exit_code == 1

    # up again in the foreground, as an operator runs it; Ctrl-C stops every member
    foreground = subprocess.Popen(
        [str(DOCEX), "network", "up", "--root", str(root), "--light-kdf"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
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
        refused = runner.invoke(network_app, ["up", "--root", str(root), "--detach"])
        assert refused.exit_code == 1
        assert "already up" in refused.output
        entries = consortium.pid_file.entries()
        assert len(entries) == 13  # 4 x (geth, Kubo, node) + the members' signer followers
        status = runner.invoke(network_app, ["status", "--root", str(root)])
        assert status.exit_code == 0, status.output

        foreground.send_signal(signal.SIGINT)
        rest, _ = foreground.communicate(timeout=120)
        assert foreground.returncode == 0, rest
        assert "stopped" in rest
        assert not [e.name for e in entries if e.running()]
    finally:
        if foreground.poll() is None:
            foreground.kill()  # the docex process this test started, by its PID
            foreground.wait()
    assert consortium.running() == []


def _anchored(node_url: str, receipt_url: str, token: str) -> dict[str, Any] | None:
    answer = httpx.get(
        f"{node_url}{receipt_url}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    answer.raise_for_status()
    receipt: dict[str, Any] = answer.json()
    assert receipt["status"] in ("pending", "anchored"), receipt
    return receipt if receipt["status"] == "anchored" else None


def _verdict_once_indexed(node_url: str, anchored: dict[str, Any]) -> dict[str, Any] | None:
    answer = httpx.post(f"{node_url}/v1/verify", json=anchored["document"], timeout=30)
    assert answer.status_code == 200, answer.text
    statuses = {check["name"]: check["status"] for check in answer.json()["checks"]}
    return statuses if statuses["issuance"] == "valid" else None


def _in_inbox(node_url: str, token: str, target_hash: str) -> dict[str, Any] | None:
    answer = httpx.get(
        f"{node_url}/v1/inbox", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    answer.raise_for_status()
    documents: list[dict[str, Any]] = answer.json()["documents"]
    return next((d for d in documents if d.get("targetHash") == target_hash), None)


def wait_for(what: str, probe: Any, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (found := probe()) is None:
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.5)
    result: dict[str, Any] = found
    return result


def _alive(pid: int) -> bool:
    """The PID is still a process (and not a zombie of ours: those are reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
