"""Every ``make soak`` scenario at its smallest size (``python -m bench.soak --smoke``),
so that a change that breaks one fails ``make test``; the full and quick runs, and the
published figures, stay in ``make soak``. One test per scenario: pytest-xdist spreads
them over the workers. Nothing is written to bench/results/ (``--smoke`` never writes).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
#: where a failed scenario's logs are kept (git-ignored): its scratch directory goes
ARTIFACTS = REPO / "tests" / "artifacts" / "soak-smoke"


def _scenarios() -> list[str]:
    """The scenario names, from ``bench.soak`` itself (bench/ is not an installed package),
    but those whose smoke run is a test elsewhere (``SMOKE_ELSEWHERE``)."""
    code = (
        "from bench.soak.scenarios import SCENARIOS, SMOKE_ELSEWHERE; "
        "print(*(name for name in SCENARIOS if name not in SMOKE_ELSEWHERE))"
    )
    listed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return listed.stdout.split()


pytestmark = pytest.mark.slow


@pytest.mark.parametrize("scenario", _scenarios())
def test_the_soak_scenario_holds_at_smoke_size(scenario: str) -> None:
    # a short scratch root: geth's IPC socket lives under it, and a socket path has at most
    # 107 bytes (pytest's own temporary paths grow past that with the run's number)
    with tempfile.TemporaryDirectory(prefix="dxs-") as scratch:
        done = _soak(scenario, Path(scratch))
        if done.returncode != 0:
            kept = _keep_logs(scenario, Path(scratch))
            done.stdout += f"\n(the scenario's logs are kept in {kept})\n"

    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-6000:]
    assert "soak passed" in done.stdout


def _keep_logs(scenario: str, scratch: Path) -> Path:
    """Copy every log of a failed run (the node's, geth's, Kubo's) out of its scratch
    directory, keeping their paths; chain data and keys stay behind and go with it."""
    kept = ARTIFACTS / f"{scenario}-{time.strftime('%Y%m%dT%H%M%S')}"
    for log in scratch.rglob("*.log"):
        if log.is_file():
            target = kept / log.relative_to(scratch)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, target)
    return kept


def _soak(scenario: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.soak",
            "--smoke",
            "--only",
            scenario,
            "--workdir",
            str(workdir),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
