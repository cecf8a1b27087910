"""Core benchmark (issue 2): wrap and offline verification, docex vs OpenAttestation.

Both sides get the same synthetic certificates of origin (OpenAttestation's copy adds
the ``$template`` and ``issuers`` members its schema requires), in one run, each pinned
to the same single core, best of several rounds. Results go to bench/results/core.json;
what matters is the ratio, since these machines are shared and noisy.

- wrap (the issue's definition: salt + hash + batch): docex = salting + field hashes +
  Merkle batch + EIP-712 signature of the root, on documents already validated;
  OpenAttestation = ``wrapDocuments`` (which also checks its own small envelope
  schema). docex with its full document-schema validation included is reported next
  to it as ``validateAndWrap`` (pydantic models of every party and item: the larger the
  document, the larger its share).
- verify: docex integrity (parse the wrapped form, recompute the target hash, check the
  Merkle proof) against OpenAttestation ``verifySignature`` (the same checks); docex
  with the signature recovery as well is reported next to it.
- memory: peak RSS of a separate process that wraps a batch of 100,000 documents.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from certificates.offline_checks import check_integrity, verify_offline
from certificates.schemas import validate_document
from certificates.schemas.samples import sample_certificate_of_origin
from certificates.signing import Eip712Domain
from certificates.wrapped import WrappedDocument
from certificates.wrapping import BatchBuilder, wrap_batch

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "core.json"
DOCUMENTS = 2000
ROUNDS = 3
SIZES = {"1-item": 1, "5-items": 5, "20-items": 20}
#: wrap (issue 2)
TARGET_RATIO = 1.5
#: issue 15 point 7: with the full schema validation, and offline verification
TARGET_VALIDATE_AND_WRAP_RATIO = 2.0
TARGET_VERIFY_RATIO = 3.0
MEMORY_BATCH = 100_000
MEMORY_TARGET_MIB = 1024
DOMAIN = Eip712Domain(
    chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3"
)
SIGNING_KEY = bytes(range(1, 33))
OA_EXTRAS = {
    "$template": {"name": "COO", "type": "EMBEDDED_RENDERER", "url": "https://renderer.invalid"},
    "issuers": [
        {
            "name": "Ministry of Industry and Trade",
            "documentStore": DOMAIN.verifying_contract,
            "identityProof": {"type": "DNS-TXT", "location": "moit.invalid"},
        }
    ],
}
CORE = 0


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {CORE})


def best_rate(count: int, run: Callable[[], object]) -> float:
    fastest = min(_timed(run) for _ in range(ROUNDS))
    return count / fastest


def _timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def docex_rates(documents: list[dict[str, Any]]) -> dict[str, float]:
    validated = [validate_document(document) for document in documents]

    def wrap() -> list[WrappedDocument]:
        return list(wrap_batch(validated, signing_key=SIGNING_KEY, domain=DOMAIN))

    def validate_and_wrap() -> list[WrappedDocument]:
        checked = [validate_document(document) for document in documents]
        return list(wrap_batch(checked, signing_key=SIGNING_KEY, domain=DOMAIN))

    wrapped_json = [document.to_json() for document in wrap()]

    def verify_integrity() -> None:
        for value in wrapped_json:
            assert check_integrity(WrappedDocument.from_json(value)).status == "valid"

    def verify_with_signature() -> None:
        for value in wrapped_json:
            assert verify_offline(WrappedDocument.from_json(value), DOMAIN).valid

    return {
        "wrapDocsPerSecond": best_rate(len(documents), wrap),
        "validateAndWrapDocsPerSecond": best_rate(len(documents), validate_and_wrap),
        "verifyIntegrityDocsPerSecond": best_rate(len(documents), verify_integrity),
        "verifyWithSignatureDocsPerSecond": best_rate(len(documents), verify_with_signature),
        "wrappedBytes": len(json.dumps(wrapped_json[0], separators=(",", ":"))),
    }


def open_attestation_rates(documents: list[dict[str, Any]]) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump([{**OA_EXTRAS, **document} for document in documents], file)
    try:
        command = ["node", str(ROOT / "peers" / "oa_core.mjs"), file.name, str(ROUNDS)]
        if _has_taskset():
            command = ["taskset", "-c", str(CORE), *command]
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    finally:
        os.unlink(file.name)
    result: dict[str, float] = json.loads(completed.stdout)
    return result


def _has_taskset() -> bool:
    return subprocess.run(["sh", "-c", "command -v taskset"], capture_output=True).returncode == 0


def peak_memory_mib(count: int) -> float:
    """Peak RSS of a fresh process wrapping ``count`` documents (5 items each) in one batch."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.core", "--memory-child", str(count)],
        cwd=ROOT.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(completed.stdout)["peakMiB"])


def _memory_child(count: int) -> None:
    """Wrap ``count`` documents the way ``docex wrap`` does: stream in, sign, stream out."""
    builder = BatchBuilder()
    for index in range(count):
        builder.add(validate_document(sample_certificate_of_origin(index, items=5)))
    batch = builder.sign(signing_key=SIGNING_KEY, domain=DOMAIN)
    written = sum(len(json.dumps(document.to_json())) for document in batch)
    assert len(batch) == count
    assert written > 0
    print(json.dumps({"peakMiB": _peak_rss_kib() / 1024}))


def _peak_rss_kib() -> int:
    """This process's peak resident set since its ``exec`` (``VmHWM``). Not ``ru_maxrss``:
    Linux carries that across ``exec`` from the parent's memory (``subprocess`` forks
    with ``vfork``), so under ``python -m bench``, after the in-process scale run, the
    child reported the parent's 1 GiB as its own."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> int:
    pin_to_one_core()
    sizes: dict[str, Any] = {}
    for label, items in SIZES.items():
        documents = [sample_certificate_of_origin(i, items=items) for i in range(DOCUMENTS)]
        ours = docex_rates(documents)
        peer = open_attestation_rates(documents)
        wrap_ratio = ours["wrapDocsPerSecond"] / peer["wrapDocsPerSecond"]
        validate_and_wrap_ratio = ours["validateAndWrapDocsPerSecond"] / peer["wrapDocsPerSecond"]
        verify_ratio = ours["verifyIntegrityDocsPerSecond"] / peer["verifyDocsPerSecond"]
        sizes[label] = {
            "itemsPerDocument": items,
            "documentBytes": len(json.dumps(documents[0], separators=(",", ":"))),
            "docex": ours,
            "openAttestation": peer,
            "wrapRatio": round(wrap_ratio, 2),
            "verifyRatio": round(verify_ratio, 2),
            "validateAndWrapRatio": round(validate_and_wrap_ratio, 2),
            "verifyWithSignatureRatio": round(
                ours["verifyWithSignatureDocsPerSecond"] / peer["verifyDocsPerSecond"], 2
            ),
            "wrapTargetMet": wrap_ratio >= TARGET_RATIO,
            "validateAndWrapTargetMet": validate_and_wrap_ratio >= TARGET_VALIDATE_AND_WRAP_RATIO,
            "verifyTargetMet": verify_ratio >= TARGET_VERIFY_RATIO,
        }
        print(
            f"{label:>9}: wrap {ours['wrapDocsPerSecond']:6.0f}/s vs OA "
            f"{peer['wrapDocsPerSecond']:6.0f}/s = {wrap_ratio:4.2f}x "
            f"(validate+wrap {ours['validateAndWrapDocsPerSecond']:6.0f}/s) | verify "
            f"{ours['verifyIntegrityDocsPerSecond']:8.0f}/s vs OA "
            f"{peer['verifyDocsPerSecond']:8.0f}/s = {verify_ratio:4.2f}x "
            f"(with signature {ours['verifyWithSignatureDocsPerSecond']:8.0f}/s)",
            flush=True,
        )
    memory = peak_memory_mib(MEMORY_BATCH)
    print(f"peak memory wrapping {MEMORY_BATCH} documents: {memory:.0f} MiB", flush=True)
    results: dict[str, Any] = {
        "benchmark": "core",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "node": subprocess.run(
                ["node", "--version"], capture_output=True, text=True
            ).stdout.strip(),
            "cpuCount": os.cpu_count(),
            "pinnedCore": CORE,
            "platform": platform.platform(),
        },
        "documentsPerRun": DOCUMENTS,
        "rounds": ROUNDS,
        "loadAverage1min": round(os.getloadavg()[0], 2),
        "targetRatio": TARGET_RATIO,
        "targets": {
            "wrapRatio": TARGET_RATIO,
            "validateAndWrapRatio": TARGET_VALIDATE_AND_WRAP_RATIO,
            "verifyRatio": TARGET_VERIFY_RATIO,
        },
        "sizes": sizes,
        "memory": {
            "documents": MEMORY_BATCH,
            "peakMiB": round(memory, 1),
            "targetMiB": MEMORY_TARGET_MIB,
            "targetMet": memory < MEMORY_TARGET_MIB,
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"results: {RESULTS}")
    met = all(
        s["wrapTargetMet"] and s["validateAndWrapTargetMet"] and s["verifyTargetMet"]
        for s in sizes.values()
    )
    return 0 if met and results["memory"]["targetMet"] else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--memory-child":
        _memory_child(int(sys.argv[2]))
    else:
        sys.exit(main())
