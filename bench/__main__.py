"""``python -m bench``: run every benchmark, write JSON under bench/results/, print summaries."""

from __future__ import annotations

import importlib
import sys

#: benchmark modules, each with ``main() -> int``: 0 when it ran and held what it asserts
#: (mixed_load, scale and cli_start record their targets as met or not without asserting
#: them), and the arguments of a run that writes a results file of its own
RUNS: list[tuple[str, list[str]]] = [
    # the isolated best cases first: each mixed-load file quotes them beside its own
    # figures, from this run rather than the one before
    ("bench.node", []),
    ("bench.mixed_load", []),
    # the same mixed load on PostgreSQL (a private server), then on two API processes
    ("bench.mixed_load", ["--postgres"]),
    ("bench.mixed_load", ["--api-workers", "2"]),
    ("bench.scale", []),
    ("bench.core", []),
    ("bench.content", []),
    ("bench.ledger_gas", []),
    ("bench.ledger_throughput", []),
    ("bench.network", []),
    ("bench.cli_start", []),
]


def main() -> int:
    failures = 0
    for name, arguments in RUNS:
        print(f"== {name} {' '.join(arguments)}".rstrip(), flush=True)
        module = importlib.import_module(name)
        failures += (module.main(arguments) if arguments else module.main()) != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
