"""``docex demo`` as a user runs it: a subprocess that starts anvil and three member
nodes, plays every step over HTTP and exits 0 only when every expectation held.

The short run (50 certificates: 47 used, 1 rejected, 1 amended, 1 revoked) keeps every
step of the full tour. A failed expectation is produced honestly: the member nodes are
told (``--node-config``) to accept fewer certificates per request than the demo sends.
Every process the demo printed a PID for must be gone when it exits, also on Ctrl-C
or ``kill``. ``--network`` runs the same tour on the members of `docex network`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from node.network.engines import ENGINES_BIN_ENV

REPO = Path(__file__).resolve().parents[3]
DOCEX = REPO / ".venv" / "bin" / "docex"
STEPS = (
    "network",
    "issue",
    "receive",
    "verify",
    "use",
    "reuse",
    "feedback",
    "amend",
    "revoke",
    "recognition",
    "audit",
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _environment() -> dict[str, str]:
    # the demo's output is read as plain text: a wide, colourless console
    # (DOCEX_ENGINES_BIN, where `make engines` put geth and Kubo, is not a node setting)
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("DOCEX_") or k == ENGINES_BIN_ENV
    }
    return {**clean, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def run_demo(*args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DOCEX), "demo", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=_environment(),
        check=False,
    )


def started_pids(output: str) -> dict[str, int]:
    """``VN node on http://... (PID 123)`` lines: every process the demo started."""
    return {
        name: int(pid)
        for name, pid in re.findall(
            r"^\s*(\w+ (?:node|chain|geth|kubo|followers)) on .+? \(PID (\d+)\)", output, re.M
        )
    }


ON_ANVIL = frozenset({"VN node", "KR node", "SG node", "anvil chain"})


def assert_stopped(pids: dict[str, int], started: frozenset[str] = ON_ANVIL) -> None:
    assert set(pids) == started, pids
    running = [name for name, pid in pids.items() if _alive(pid)]
    assert not running, f"still running: {running}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    return True


def test_short_demo_holds_every_step(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    done = run_demo("--certificates", "50", "--workdir", str(workdir))
    output = done.stdout
    assert done.returncode == 0, output + done.stderr
    for key in STEPS:
        assert f"✔ [{key}] held" in output, f"step {key}:\n{output}"
    for line in (
        "every certificate anchored (receipt with Merkle proof, batch root, block) — 50 of 50",
        "KR's node received every certificate into its inbox",
        "KR records each use on chain (200) — 47 of 47",
        "KR records each rejection with its reason code (200) — 1 of 1",
        "is refused (409) — 409:",
        "VN sees each use by KR in the document's history — 47 of 47",
        "points to its replacement — 1 of 1",
        "fails `status`: revoked — 1 of 1",
        "SG has no agreement in force recognising coo/1 from VN",
        "every line of the report holds against the chain",
    ):
        assert line in output, f"missing {line!r}:\n{output}"
    assert "✘" not in output
    assert re.search(r"docex demo: every expectation held \(11 steps, [\d.]+ s\)", output)
    assert_stopped(started_pids(output))
    assert not workdir.exists(), "the working directory is removed without --keep"


def test_a_failed_expectation_exits_1_and_names_the_step(tmp_path: Path) -> None:
    # the nodes accept at most 10 documents per request; the demo issues 50 per request
    settings = tmp_path / "smaller-requests.toml"
    settings.write_text("max_documents_per_request = 10\n", encoding="utf-8")
    workdir = tmp_path / "demo"
    done = run_demo(
        "--certificates", "20", "--workdir", str(workdir), "--node-config", str(settings), "--keep"
    )
    output = done.stdout
    assert done.returncode == 1, output + done.stderr
    assert "✔ [network] held" in output
    assert "✘ [issue] failed" in output
    assert "VN's node accepts every certificate (202), 50 per request — 0 of 20" in output
    assert "413" in output or "422" in output, output
    assert "docex demo: FAILED: issue (failed); not run: receive, verify" in output
    assert_stopped(started_pids(output))
    assert (workdir / "vn" / "chain.json").is_file(), "--keep keeps the working directory"


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_an_interrupted_demo_stops_every_process(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    workdir = tmp_path / "demo"
    demo = subprocess.Popen(
        [str(DOCEX), "demo", "--certificates", "60", "--workdir", str(workdir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
        env=_environment(),
    )
    assert demo.stdout is not None
    lines: list[str] = []
    try:
        for line in demo.stdout:
            lines.append(line)
            if "Step 3/11" in line:  # the network is up and certificates are out
                break
        demo.send_signal(stop_signal)
        lines += demo.stdout.readlines()
        assert demo.wait(timeout=120) == 130, "".join(lines)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    output = "".join(lines)
    assert "interrupted; every process it started is stopped" in output
    assert_stopped(started_pids(output))
    assert not workdir.exists()


# the network's engines bind the members' 127.0.0.x addresses: with the network tests
@pytest.mark.xdist_group("network-engines")
def test_the_tour_holds_on_the_consortium_network(tmp_path: Path) -> None:
    """``docex demo --network``: the same tour on the members of `docex network` (each its
    own geth signer, Kubo peer and node), the same expectations and exit status, and the
    13 processes it started stopped."""
    workdir = tmp_path / "demo"
    done = run_demo("--network", "--certificates", "5", "--workdir", str(workdir))
    output = done.stdout
    assert_stopped(
        started_pids(output),
        frozenset(f"{c} {e}" for c in ("VN", "KR", "SG", "TH") for e in ("node", "geth", "kubo"))
        | {"signer followers"},
    )
    assert not workdir.exists(), "the working directory is removed without --keep"
    assert "✔ [network] held" in output, output + done.stderr
    assert "✔ [issue] held" in output, output
    assert done.returncode == 0, output + done.stderr
    for key in STEPS:
        assert f"✔ [{key}] held" in output, f"step {key}:\n{output}"
    assert "✘" not in output
    assert re.search(r"docex demo: every expectation held \(11 steps, [\d.]+ s\)", output)
