"""Content benchmark (issue 4): CIDs, the embedded store and the trustless gateway.

One run, one 100 MiB file generated deterministically in a temporary directory, every
side pinned to the same single core (the Python process with ``sched_setaffinity``,
Node and the gateway server process with ``taskset -c 0`` when available), best of
several rounds. Results go to bench/results/content.json. MB/s are 10^6 bytes of file
content per second; ratios matter more than absolute rates on these shared machines.

- CID computation, in-process and without store writes (what ``docex cid`` runs:
  ``import_stream`` over the file, 256 KiB reads) for CIDv0 and CIDv1, against the
  official JS importer (npm ``ipfs-unixfs-importer``, same options, blocks sent to a
  ``BlackHoleBlockstore``, timed inside the Node process) -- target >= 1.0x -- and
  against plain ``hashlib.sha256`` over the same bytes read in 256 KiB chunks, the
  single-core limit -- target >= 0.5 of it. The CIDs of both importers must agree.
- Embedded store: ``put`` of the file (CIDv1, fsync on, a fresh data directory each
  round) and ``get`` (every block re-hashed on read; the bytes are checked after).
- Gateway: store A's ``gateway_router`` served by uvicorn in a subprocess on
  127.0.0.1, fetched into a fresh store B with ``GatewayFetcher`` as one CAR and block
  by block; ``transfer`` is the verified fetch into memory, ``fetchInto`` adds the
  writes into store B (what ``fetch_into`` does). Store B's copy is checked after.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from adapters.content.cid import Cid
from adapters.content.embedded import EmbeddedContentStore
from adapters.content.gateway_fetcher import FetchLimits, FetchStrategy, GatewayFetcher
from adapters.content.unixfs_importer import DEFAULT_CHUNK_SIZE, ImportLayout, import_stream
from bench.workdirs import work_directory

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
RESULTS = ROOT / "results" / "content.json"
JS_PEER = ROOT / "peers" / "unixfs_cid.mjs"
JS_IMPORTER_PACKAGE = REPO / "node_modules" / "ipfs-unixfs-importer" / "package.json"
FILE_BYTES = 100 * 1024 * 1024
FILE_SEED = 4
READ_CHUNK = 256 * 1024
ROUNDS = 3
TARGET_JS_RATIO = 1.0
TARGET_SHA256_FRACTION = 0.5
STRATEGIES: tuple[FetchStrategy, ...] = ("car", "blocks")
CORE = 0
MB = 1_000_000

T = TypeVar("T")


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {CORE})


def _has_taskset() -> bool:
    return shutil.which("taskset") is not None


def _on_core(command: list[str]) -> list[str]:
    return ["taskset", "-c", str(CORE), *command] if _has_taskset() else command


def _timed(run: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def best_of(run: Callable[[], T]) -> tuple[float, T]:
    """The fastest of ``ROUNDS`` runs (seconds) and that run's result."""
    return min((_timed(run) for _ in range(ROUNDS)), key=lambda timed: timed[0])


def mb_per_second(seconds: float) -> float:
    return FILE_BYTES / seconds / MB


def write_deterministic_file(path: Path, size: int, seed: int) -> str:
    """Write ``size`` pseudo-random bytes from ``seed``; return their sha256 (hex)."""
    rng = random.Random(seed)
    digest = hashlib.sha256()
    with path.open("wb") as out:
        remaining = size
        while remaining:
            piece = rng.randbytes(min(remaining, 4 * 1024 * 1024))
            digest.update(piece)
            out.write(piece)
            remaining -= len(piece)
    return digest.hexdigest()


# -- CID computation -------------------------------------------------------------------


def sha256_rate(path: Path) -> float:
    def run() -> str:
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            while chunk := stream.read(READ_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    seconds, _ = best_of(run)
    return mb_per_second(seconds)


def docex_cid(path: Path, cid_version: int) -> tuple[float, str]:
    """MB/s and CID of ``docex cid`` (in-process, nothing stored)."""
    layout = ImportLayout(cid_version=cid_version)

    def run() -> str:
        with path.open("rb") as stream:
            return str(import_stream(stream, layout).cid)

    seconds, cid = best_of(run)
    return mb_per_second(seconds), cid


def js_importer_cids(path: Path) -> dict[str, Any]:
    command = _on_core(["node", str(JS_PEER), str(path), str(ROUNDS)])
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


# -- embedded store ----------------------------------------------------------------------


def store_put(path: Path, data_dir: Path) -> tuple[float, Cid, EmbeddedContentStore]:
    """Best put MB/s into fresh directories (none removed before the benchmarks end:
    bench/workdirs.py); the last round's store is kept for the rest."""
    timings: list[float] = []
    store: EmbeddedContentStore | None = None
    cid: Cid | None = None
    for round_ in range(ROUNDS):
        store = EmbeddedContentStore(data_dir / f"put-{round_}", cid_version=1)

        def run(target: EmbeddedContentStore = store) -> Cid:
            with path.open("rb") as stream:
                return target.put(stream)

        seconds, cid = _timed(run)
        timings.append(seconds)
    assert store is not None
    assert cid is not None
    return mb_per_second(min(timings)), cid, store


def store_get(store: EmbeddedContentStore, cid: Cid, expected_sha256: str) -> float:
    seconds, content = best_of(lambda: store.get(cid))
    if hashlib.sha256(content).hexdigest() != expected_sha256:
        raise AssertionError(f"store returned other bytes for {cid}")
    return mb_per_second(seconds)


# -- gateway -------------------------------------------------------------------------------


def start_gateway(store_dir: Path) -> tuple[subprocess.Popen[str], str]:
    """Serve the store's gateway router from a subprocess on 127.0.0.1; its base URL."""
    command = _on_core([sys.executable, "-m", "bench.content", "--serve-gateway", str(store_dir)])
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.isdigit():
        stop_gateway(process)
        raise RuntimeError(f"gateway server did not start (said {line!r})")
    return process, f"http://127.0.0.1:{line}"


def stop_gateway(process: subprocess.Popen[str]) -> None:
    """Stop the server started by ``start_gateway`` (by its PID), then reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _serve_gateway(store_dir: str) -> None:
    import uvicorn

    from adapters.content.gateway_server import gateway_router

    router = gateway_router(EmbeddedContentStore(Path(store_dir)))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    # listening before the port is told: a connection made while uvicorn still starts
    # waits in the backlog (told after bind alone, one was refused: ECONNREFUSED)
    sock.listen(128)
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(router, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


def _fetch_round(
    fetcher: GatewayFetcher, cid: Cid, strategy: FetchStrategy, receiver: EmbeddedContentStore
) -> tuple[float, float, int]:
    """The body of ``GatewayFetcher.fetch_into``, timed in two parts; blocks fetched."""
    started = time.perf_counter()
    fetched = fetcher.fetch(cid, strategy=strategy)
    fetched_at = time.perf_counter()
    receiver.put_blocks(fetched.blocks)
    receiver.pin(cid)
    stored_at = time.perf_counter()
    if fetched.rejections:
        raise AssertionError(f"peer rejected: {fetched.rejections}")
    return fetched_at - started, stored_at - fetched_at, len(fetched.blocks)


def gateway_transfer(
    peer: str, cid: Cid, data_dir: Path, strategy: FetchStrategy, expected_sha256: str
) -> dict[str, Any]:
    limits = FetchLimits(max_content_bytes=FILE_BYTES + 16 * 1024 * 1024)
    transfers: list[float] = []
    totals: list[float] = []
    blocks = 0
    with GatewayFetcher([peer], limits=limits) as fetcher:
        for round_ in range(ROUNDS):
            receiver = EmbeddedContentStore(data_dir / f"fetch-{strategy}-{round_}")
            fetch_seconds, store_seconds, blocks = _fetch_round(fetcher, cid, strategy, receiver)
            transfers.append(fetch_seconds)
            totals.append(fetch_seconds + store_seconds)
            if hashlib.sha256(receiver.get(cid)).hexdigest() != expected_sha256:
                raise AssertionError(f"store B holds other bytes for {cid}")
    return {
        "strategy": strategy,
        "blocks": blocks,
        "transferMBPerSecond": round(mb_per_second(min(transfers)), 1),
        "fetchIntoMBPerSecond": round(mb_per_second(min(totals)), 1),
        "verified": True,
        "target": None,
        "targetMet": None,
    }


# -- run -------------------------------------------------------------------------------------


def _version(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unavailable"


def _cid_entry(
    version: int, ours: tuple[float, str], js: dict[str, Any], sha256_mbps: float
) -> dict[str, Any]:
    ours_mbps, ours_cid = ours
    js_mbps = js["bytesPerSecond"] / MB
    ratio = ours_mbps / js_mbps
    fraction = ours_mbps / sha256_mbps
    return {
        "cidVersion": version,
        "cid": ours_cid,
        "jsCid": js["cid"],
        "cidsMatch": ours_cid == js["cid"],
        "docexMBPerSecond": round(ours_mbps, 1),
        "jsImporterMBPerSecond": round(js_mbps, 1),
        "sha256MBPerSecond": round(sha256_mbps, 1),
        "jsRatio": round(ratio, 2),
        "targetJsRatio": TARGET_JS_RATIO,
        "jsTargetMet": ratio >= TARGET_JS_RATIO,
        "sha256Fraction": round(fraction, 2),
        "targetSha256Fraction": TARGET_SHA256_FRACTION,
        "sha256TargetMet": fraction >= TARGET_SHA256_FRACTION,
    }


def _print_summary(results: dict[str, Any]) -> None:
    def met(value: object) -> str:
        return "-" if value is None else ("yes" if value else "NO")

    rows: list[tuple[str, str, str, str, str]] = []
    for entry in results["cid"].values():
        label = f"CIDv{entry['cidVersion']}"
        rows.append(
            (
                f"{label} docex vs JS importer",
                f"{entry['docexMBPerSecond']:.0f} vs {entry['jsImporterMBPerSecond']:.0f}",
                f"{entry['jsRatio']:.2f}x",
                f">= {TARGET_JS_RATIO}x",
                met(entry["jsTargetMet"]),
            )
        )
        rows.append(
            (
                f"{label} docex vs sha256",
                f"{entry['docexMBPerSecond']:.0f} vs {entry['sha256MBPerSecond']:.0f}",
                f"{entry['sha256Fraction']:.2f}",
                f">= {TARGET_SHA256_FRACTION}",
                met(entry["sha256TargetMet"]),
            )
        )
    store = results["store"]
    rows.append(("store put (fsync)", f"{store['put']['mbPerSecond']:.0f}", "", "", "-"))
    rows.append(("store get (verified)", f"{store['get']['mbPerSecond']:.0f}", "", "", "-"))
    for entry in results["gateway"]["strategies"].values():
        rows.append(
            (
                f"gateway {entry['strategy']} transfer / into B",
                f"{entry['transferMBPerSecond']:.0f} / {entry['fetchIntoMBPerSecond']:.0f}",
                "",
                "",
                "-",
            )
        )
    header = ("measurement", "MB/s", "ratio", "target", "met")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())


def main() -> int:
    pin_to_one_core()
    with work_directory("docex-bench-content-") as temp:
        work = Path(temp)
        path = work / "content.bin"
        expected = write_deterministic_file(path, FILE_BYTES, FILE_SEED)
        print(f"{FILE_BYTES // (1024 * 1024)} MiB file, best of {ROUNDS} rounds", flush=True)

        sha256_mbps = sha256_rate(path)
        ours = {version: docex_cid(path, version) for version in (0, 1)}
        js = js_importer_cids(path)
        cid = {
            f"v{version}": _cid_entry(version, ours[version], js[f"cidV{version}"], sha256_mbps)
            for version in (0, 1)
        }

        put_mbps, root, origin = store_put(path, work)
        if str(root) != ours[1][1]:
            raise AssertionError(f"store put gave {root}, docex cid gave {ours[1][1]}")
        get_mbps = store_get(origin, root, expected)

        server, peer = start_gateway(origin.root)
        try:
            strategies = {
                strategy: gateway_transfer(peer, root, work, strategy, expected)
                for strategy in STRATEGIES
            }
        finally:
            stop_gateway(server)

    results: dict[str, Any] = {
        "benchmark": "content",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "node": _version(["node", "--version"]),
            "cpuCount": os.cpu_count(),
            "pinnedCore": CORE,
            "nodePinnedWithTaskset": _has_taskset(),
            "platform": platform.platform(),
            "jsImporter": "ipfs-unixfs-importer "
            + json.loads(JS_IMPORTER_PACKAGE.read_text(encoding="utf-8"))["version"],
        },
        "unit": "MB/s = 10^6 bytes of file content per second",
        "fileBytes": FILE_BYTES,
        "fileSha256": expected,
        "readChunkBytes": READ_CHUNK,
        "chunkSize": DEFAULT_CHUNK_SIZE,
        "rounds": ROUNDS,
        "cid": cid,
        "store": {
            "cidVersion": 1,
            "fsync": True,
            "put": {"mbPerSecond": round(put_mbps, 1), "target": None, "targetMet": None},
            "get": {
                "mbPerSecond": round(get_mbps, 1),
                "verified": True,
                "target": None,
                "targetMet": None,
            },
        },
        "gateway": {
            "server": "gateway_router on uvicorn (subprocess, 127.0.0.1, same core)",
            "cid": str(root),
            "strategies": strategies,
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    _print_summary(results)
    print(f"results: {RESULTS}")
    met = all(
        entry["cidsMatch"] and entry["jsTargetMet"] and entry["sha256TargetMet"]
        for entry in cid.values()
    )
    return 0 if met else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-gateway":
        _serve_gateway(sys.argv[2])
    else:
        sys.exit(main())
