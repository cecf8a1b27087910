"""The ``docex cid`` and ``docex car`` commands, run as processes."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[3]
DOCEX = Path(sys.executable).with_name("docex")
REFERENCE = REPO / "tests" / "reference" / "unixfs_reference.mjs"
MIB = 1024 * 1024


def _file(path: Path, size: int, seed: int) -> Path:
    rng = random.Random(seed)
    with path.open("wb") as out:
        for start in range(0, size, 4 * MIB):
            out.write(rng.randbytes(min(4 * MIB, size - start)))
    return path


def _docex(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DOCEX), *map(str, args)], capture_output=True, text=True, check=False
    )


def _reference_cid(path: Path, cid_version: int) -> str:
    completed = subprocess.run(
        ["node", str(REFERENCE), "cid", str(path), str(cid_version)],
        capture_output=True,
        text=True,
        check=True,
    )
    cid: str = json.loads(completed.stdout)["cid"]
    return cid


@pytest.mark.parametrize("cid_version", [0, 1])
def test_docex_cid_prints_what_ipfs_add_only_hash_prints(tmp_path: Path, cid_version: int) -> None:
    path = _file(tmp_path / "coo.pdf", 3 * 262_144 + 77, 11)
    completed = _docex("cid", path, "--cid-version", cid_version)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == _reference_cid(path, cid_version)


def test_docex_cid_defaults_to_cid_version_0(tmp_path: Path) -> None:
    path = _file(tmp_path / "small.bin", 1000, 12)
    assert _docex("cid", path).stdout.strip() == _reference_cid(path, 0)


@pytest.mark.slow
def test_docex_cid_on_200_mib_stays_under_100_mib_of_memory(tmp_path: Path) -> None:
    path = _file(tmp_path / "big.bin", 200 * MIB, 13)
    # Linux carries a process's pre-exec memory high-water mark into its ru_maxrss, and a
    # child started from this test runner begins as a copy of the runner (hundreds of MiB
    # once the suite has imported the node). So a minimal Python starts `docex cid` and
    # reports its child's peak: that counts at most the few MiB of the minimal Python.
    measure = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(done.returncode, peak, done.stdout.strip())\n"
    )
    report = subprocess.run(
        [sys.executable, "-S", "-c", measure, str(DOCEX), "cid", str(path), "--cid-version", "1"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    returncode, peak_kib, cid = int(report[0]), int(report[1]), report[2]
    assert returncode == 0
    assert cid.startswith("bafybei")
    peak_mib = peak_kib / 1024  # ru_maxrss is in KiB on Linux
    assert peak_mib < 100, f"peak RSS {peak_mib:.1f} MiB"


def test_car_export_then_import_moves_content_between_stores(tmp_path: Path) -> None:
    source = _file(tmp_path / "permit.bin", 600_000, 14)
    from adapters.content.embedded import EmbeddedContentStore  # same code as the node

    origin = EmbeddedContentStore(tmp_path / "origin")
    cid = origin.put(source.read_bytes())
    car = tmp_path / "permit.car"
    exported = _docex("car", "export", cid, "-o", car, "--store", tmp_path / "origin")
    assert exported.returncode == 0, exported.stderr
    imported = _docex("car", "import", car, "--store", tmp_path / "target")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.split() == [str(cid), "pinned"]
    assert EmbeddedContentStore(tmp_path / "target").get(cid) == source.read_bytes()


def test_car_export_of_unknown_content_fails_with_a_coded_error(tmp_path: Path) -> None:
    car = tmp_path / "none.car"
    unknown = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    completed = _docex("car", "export", unknown, "-o", car, "--store", tmp_path / "empty")
    assert completed.returncode == 1
    assert "content-not-found" in completed.stderr
    assert not car.exists()
