"""CLI start-up benchmark (issue 15, point 2): how long a ``docex`` command takes, start to
exit, when it is run once per file, beside what the same machine needs to start anything.

Each command runs as a fresh process (the way a script checks a folder one command at a
time), ``ROUNDS`` times after one warm-up (the OS page cache is warm for every row, ours
and the peers' alike); the median and the 90th percentile of the wall time are reported:

- **docex**: ``docex cid`` on a 3-byte file (the issue's example), ``docex check`` on one
  wrapped certificate of origin, ``docex check`` on 100 files at once (per file), and
  ``docex --help`` (which imports every command's module).
- **ceilings** on the same machine, in the same run: the venv's Python doing nothing
  (``python -c pass``: interpreter, site, the editable install's path hook), and Node
  doing nothing (``node -e 0``).
- **peers** doing what ``docex cid`` does: Kubo's ``ipfs add --only-hash`` (a Go binary,
  the pinned build of ``make engines``, on an offline repository made for the run) and the
  official JS UnixFS importer (``bench/peers/unixfs_cid.mjs``, Node start-up included).

Target: a command's start (``docex cid`` on a 3-byte file) under 0.15 s. ``ceiling_ratio``
is the docex figure over Python's own start, the figure to compare across runs on these
shared machines. Results go to bench/results/cli.json.

Run: ``python -m bench.cli_start [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.workdirs import work_directory

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
RESULTS = ROOT / "results" / "cli.json"
VENV_BIN = Path(sys.executable).parent
DOCEX = VENV_BIN / "docex"
KUBO = REPO / "bin" / "ipfs"
JS_CID = ROOT / "peers" / "unixfs_cid.mjs"
TARGET_SECONDS = 0.15
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
MANY = 100


def timed(command: Sequence[str], rounds: int, env: dict[str, str] | None = None) -> list[float]:
    """Wall seconds of ``command`` run ``rounds`` times (after one warm-up); it must exit 0."""
    times: list[float] = []
    for round_ in range(rounds + 1):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, env=env, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} exited {done.returncode}: {done.stderr[-400:]!r}")
        if round_:
            times.append(elapsed)
    return times


def summary(times: list[float], per: int = 1) -> dict[str, Any]:
    ordered = sorted(t / per for t in times)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {
        "median_s": round(statistics.median(ordered), 4),
        "p90_s": round(p90, 4),
        "rounds": len(ordered),
    }


def _run(*command: str, cwd: Path | None = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=cwd)
    return done.stdout


def prepare(work: Path) -> dict[str, Path]:
    """A 3-byte file, an issuer keystore and MANY wrapped certificates of origin."""
    small = work / "three-bytes.txt"
    small.write_bytes(b"abc")
    passphrase = work / "passphrase.txt"
    passphrase.write_text("correct horse battery\n")
    keystore = work / "issuer.json"
    _run(
        str(DOCEX), "keys", "new", "-o", str(keystore),
        "--passphrase-file", str(passphrase), "--light-kdf",
    )  # fmt: skip
    documents = work / "documents"
    documents.mkdir()
    files = []
    for index in range(MANY):
        path = documents / f"coo-{index}.json"
        path.write_text(_run(str(DOCEX), "sample", "coo/1", "--index", str(index)))
        files.append(str(path))
    wrapped = work / "wrapped"
    _run(
        str(DOCEX), "wrap", *files, "-o", str(wrapped), "--key", str(keystore),
        "--passphrase-file", str(passphrase), "--registry", REGISTRY, "--chain-id", "31337",
    )  # fmt: skip
    return {"small": small, "wrapped": wrapped}


def kubo_repo(work: Path) -> dict[str, str] | None:
    """An offline Kubo repository for ``ipfs add --only-hash`` (no daemon, no network)."""
    if not KUBO.is_file():
        return None
    env = {**os.environ, "IPFS_PATH": str(work / "kubo"), "LIBP2P_FORCE_PNET": "1"}
    subprocess.run(
        [str(KUBO), "init", "--profile", "test", "--empty-repo"],
        capture_output=True,
        env=env,
        check=True,
    )
    return env


def measure(rounds: int) -> dict[str, Any]:
    python = str(VENV_BIN / "python")
    node = shutil.which("node")
    with work_directory("docex-cli-bench-") as scratch:
        work = Path(scratch)
        files = prepare(work)
        wrapped = sorted(str(p) for p in files["wrapped"].glob("*.wrapped.json"))
        docex = {
            "cid_3_bytes": summary(timed([str(DOCEX), "cid", str(files["small"])], rounds)),
            "check_one_file": summary(timed([str(DOCEX), "check", wrapped[0]], rounds)),
            f"check_{MANY}_files_per_file": summary(
                timed([str(DOCEX), "check", *wrapped], max(3, rounds // 4)), per=len(wrapped)
            ),
            "help_every_command": summary(timed([str(DOCEX), "--help"], max(3, rounds // 4))),
        }
        ceilings = {"python_pass": summary(timed([python, "-c", "pass"], rounds))}
        peers: dict[str, Any] = {}
        if node is not None:
            ceilings["node_noop"] = summary(timed([node, "-e", "0"], rounds))
            peers["js_unixfs_importer_cid_3_bytes"] = summary(
                timed([node, str(JS_CID), str(files["small"]), "1"], rounds)
            )
        kubo_env = kubo_repo(work)
        if kubo_env is not None:
            peers["kubo_add_only_hash_3_bytes"] = summary(
                timed(
                    [str(KUBO), "add", "--only-hash", "-Q", "--offline", str(files["small"])],
                    rounds,
                    env=kubo_env,
                )
            )
    cid = docex["cid_3_bytes"]["median_s"]
    python_start = ceilings["python_pass"]["median_s"]
    return {
        "benchmark": "CLI start-up: a docex command start to exit, one process per run",
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "shared": "other work may use the same cores: compare ratios, not absolutes",
        },
        "docex": docex,
        "ceilings": ceilings,
        "peers": peers,
        "ceiling_ratio": {"cid_3_bytes_over_python_pass": round(cid / python_start, 2)},
        "target": {
            "statement": "a command's start (docex cid on a 3-byte file) under 0.15 s",
            "bound_s": TARGET_SECONDS,
            "measured_median_s": cid,
            "outcome": "met" if cid <= TARGET_SECONDS else "not met",
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cli_start", description=__doc__)
    parser.add_argument("--rounds", type=int, default=20, help="runs per command (20)")
    parser.add_argument("--no-write", action="store_true", help="print, do not write JSON")
    options = parser.parse_args(argv)
    result = measure(options.rounds)
    text = json.dumps(result, indent=2) + "\n"
    print(text, end="")
    if not options.no_write:
        RESULTS.write_text(text)
        print(f"written to {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
