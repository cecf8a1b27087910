"""``python -m bench.soak [--quick | --smoke] [--only NAME ...]``: run the reliability
scenarios."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench.soak.results import RESULTS, ScenarioResult, SoakContext, write_results
from bench.soak.scenarios import SCENARIOS


def _run_one(name: str, context: SoakContext) -> list[ScenarioResult]:
    module = importlib.import_module(f"bench.soak.scenarios.{SCENARIOS[name]}")
    run: Callable[[SoakContext], ScenarioResult | list[ScenarioResult]] = module.run
    started = time.monotonic()
    try:
        outcome = run(context)
    except Exception as error:  # a scenario that breaks is a failed scenario, reported
        traceback.print_exc()
        return [
            ScenarioResult(
                name,
                name,
                outcome="fail",
                notes=[f"the scenario itself failed: {type(error).__name__}: {error}"],
                seconds=time.monotonic() - started,
            )
        ]
    return outcome if isinstance(outcome, list) else [outcome]


def _print_node_trouble(workdir: Path, lines: int = 12) -> None:
    """The last warnings and errors of every docex log in ``workdir`` (JSON lines): the
    scratch directory goes with the run, and a failure in CI is read from this."""
    for log in sorted(workdir.rglob("*.log")):
        trouble: list[str] = []
        with contextlib.suppress(OSError), log.open(encoding="utf-8", errors="replace") as text:
            for line in text:
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    if isinstance(record, dict) and record.get("level") in ("warning", "error"):
                        said = str(record.get("error") or record.get("exception", ""))[-300:]
                        trouble.append(
                            f"{record.get('time')} {record.get('logger')}: "
                            f"{record.get('message')} {said}".rstrip().replace("\n", " | ")
                        )
        if trouble:
            print(f"     {log.relative_to(workdir)}, last warnings and errors:", flush=True)
            for entry in trouble[-lines:]:
                print(f"       {entry[:400]}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="3 trials each, a 15 s load")
    size.add_argument(
        "--smoke",
        action="store_true",
        help="every scenario once, a 5 s load (what `make test` runs; never written to "
        "the results unless --write)",
    )
    parser.add_argument(
        "--only", action="append", choices=sorted(SCENARIOS), help="run only this scenario"
    )
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="do not write bench/results/reliability.json and docs/reliability.md "
        "(the default with --only)",
    )
    parser.add_argument(
        "--write", action="store_true", help="write the results even with --only or --smoke"
    )
    parser.add_argument("--list", action="store_true", help="print the scenario names and stop")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument(
        "--workdir", type=Path, help="scratch directory to use (default: a new temporary one)"
    )
    options = parser.parse_args(argv)
    if options.list:
        print("\n".join(SCENARIOS))
        return 0
    names = options.only or list(SCENARIOS)
    mode = "quick" if options.quick else "smoke" if options.smoke else "full"
    if options.workdir is not None:
        options.workdir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="docex-soak-", dir=options.workdir))
    context = SoakContext(workdir=workdir, mode=mode)
    results: list[ScenarioResult] = []
    try:
        for name in names:
            print(f"== soak: {name}", flush=True)
            for result in _run_one(name, context):
                results.append(result)
                print(f"   {result.outcome.upper()} {result.title}: {result.figures}", flush=True)
                for note in result.notes:
                    print(f"     - {note}", flush=True)
                if result.failed:
                    _print_node_trouble(workdir)
    finally:
        if options.keep:
            print(f"scratch directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if options.write or not (options.no_write or options.only or options.smoke):
        write_results(results, mode=mode)
        print(f"merged into {RESULTS.relative_to(RESULTS.parents[2])} and docs/reliability.md")
    failed = [r.title for r in results if r.failed]
    if failed:
        print(f"soak FAILED: {', '.join(failed)}")
        return 1
    print("soak passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
