"""``run_demo``: the steps in order, each printed with its result, and the summary.

The network is stopped (every process by its PID) however the tour ends: all steps
done, a step that broke off, or Ctrl-C. A step that breaks off ends the tour (the
later steps build on it) and is reported with the steps not run.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from node.dev.demo import steps
from node.dev.demo.expectations import DemoOutcome, StepRecord
from node.dev.demo.failures import DemoAborted
from node.dev.demo.network import (
    DEMO_NODE_SETTINGS,
    DemoNetwork,
    TourNetwork,
    child_environment,
)
from node.dev.demo.plan import DemoPlan
from node.dev.demo.report import note, step_header, step_result, summary

Step = Callable[[steps.DemoContext, StepRecord], None]


def _steps(plan: DemoPlan, network: str) -> list[tuple[str, str, Step]]:
    n = plan.certificates
    return [
        ("network", network, steps.start_network),
        ("issue", f"VN's trade ministry issues {n} certificates of origin to KR", steps.issue),
        ("receive", "KR's node receives them before the goods arrive", steps.receive),
        ("verify", f"KR customs verifies all {n}", steps.verify),
        (
            "use",
            f"KR customs uses {plan.used} against import declarations, rejects {plan.rejected}",
            steps.use_and_reject,
        ),
        ("reuse", "a certificate used a second time is refused", steps.reuse_refused),
        ("feedback", "VN's node shows KR's feedback", steps.feedback),
        ("amend", f"VN amends {plan.amended}: replacements supersede originals", steps.amend),
        ("revoke", f"VN revokes {plan.revoked}", steps.revoke),
        ("recognition", "SG verifies a VN certificate without an agreement", steps.recognition),
        ("audit", "an auditor exports a provenance and re-checks it on chain", steps.audit),
    ]


@dataclass(frozen=True, slots=True)
class DemoOptions:
    certificates: int
    #: None: a fresh temporary directory
    workdir: Path | None = None
    #: keep the working directory (data dirs, logs, chain state) at the end
    keep: bool = False
    #: extra settings for every member node (a ``--config`` file's keys)
    node_settings: Mapping[str, object] = field(default_factory=dict)
    #: on the members of `docex network` (geth, Kubo and a node each) instead of anvil
    consortium_network: bool = False


def run_demo(options: DemoOptions, console: Console, environment: Mapping[str, str]) -> DemoOutcome:
    """Run every step against a fresh network; ``environment`` is what the node
    processes inherit (``DOCEX_*`` removed)."""
    plan = DemoPlan.for_certificates(options.certificates)
    workdir, created = _workdir(options.workdir)
    started = time.monotonic()
    network = _network(options, workdir, console, environment)
    tour = _steps(plan, network.description)
    records = [StepRecord(key, title) for key, title, _ in tour]
    context = steps.DemoContext(plan, console, network, run_id=secrets.token_hex(4))
    console.print(f"docex demo: {plan.certificates} certificates of origin, work in {workdir}")
    try:
        with network:
            for number, ((_, _, work), record) in enumerate(
                zip(tour, records, strict=True), start=1
            ):
                step_header(console, number, len(records), record)
                record.started = True
                began = time.monotonic()
                try:
                    work(context, record)
                except DemoAborted as error:
                    record.aborted = error.message
                finally:
                    record.seconds = time.monotonic() - began
                step_result(console, record)
                if record.aborted is not None:
                    break
    finally:
        context.close()
        if options.keep:
            note(console, f"kept {workdir}")
        else:
            _remove(workdir, created)
    outcome = DemoOutcome(tuple(records), time.monotonic() - started)
    summary(console, outcome)
    return outcome


def _network(
    options: DemoOptions, workdir: Path, console: Console, environment: Mapping[str, str]
) -> TourNetwork:
    """The network the tour runs on; it reports each process as it stops."""

    def stopped(name: str, pid: int, seconds: float) -> None:
        note(console, f"stopped the {name} (PID {pid}) in {seconds:.1f} s")

    if options.consortium_network:
        from node.dev.demo.consortium_network import ConsortiumTourNetwork
        from node.network.consortium import Consortium

        return ConsortiumTourNetwork(
            Consortium(workdir / "network"),
            {**DEMO_NODE_SETTINGS, **options.node_settings},
            child_environment(environment),
            stopped,
        )
    return DemoNetwork(
        workdir, environment=environment, node_settings=options.node_settings, on_stopped=stopped
    )


def _workdir(chosen: Path | None) -> tuple[Path, bool]:
    """The working directory and whether the demo created it."""
    if chosen is None:
        return Path(tempfile.mkdtemp(prefix="docex-demo-")), True
    if chosen.exists() and any(chosen.iterdir()):
        raise DemoAborted(f"the working directory {chosen} is not empty: the demo starts afresh")
    created = not chosen.exists()
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen, created


def _remove(workdir: Path, created: bool) -> None:
    if created:
        shutil.rmtree(workdir, ignore_errors=True)
        return
    for entry in workdir.iterdir():  # a directory the user gave: emptied, left in place
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
