"""How the demo prints itself (rich): a header per step, one line per expectation with
its result, the step's verdict line (``✔ [issue] held (3.1 s)``), the summary table and
the final verdict. Lines are built as :class:`rich.text.Text`, never parsed as markup:
observations quote node answers verbatim, brackets included."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from node.dev.demo.expectations import DemoOutcome, StepOutcome, StepRecord

_MARKS = {
    StepOutcome.HELD: ("✔", "green"),
    StepOutcome.FAILED: ("✘", "red"),
    StepOutcome.ABORTED: ("✘", "red"),
    StepOutcome.NOT_RUN: ("·", "yellow"),
}


def step_header(console: Console, number: int, total: int, step: StepRecord) -> None:
    console.print()
    console.print(
        Text.assemble(
            (f"Step {number}/{total} ", "bold"), (f"[{step.key}] ", "bold cyan"), step.title
        )
    )


def note(console: Console, message: str) -> None:
    """A line of narration under the current step."""
    console.print(Text("  " + message, style="dim"))


def step_result(console: Console, step: StepRecord) -> None:
    for expectation in step.expectations:
        mark, style = ("✔", "green") if expectation.held else ("✘", "red")
        console.print(
            Text.assemble(
                ("  " + mark + " ", style),
                expectation.expected,
                (" — ", "dim"),
                expectation.observed,
            )
        )
    if step.aborted is not None:
        console.print(Text.assemble(("  ✘ ", "red"), ("broke off: ", "red"), step.aborted))
    mark, style = _MARKS[step.outcome]
    console.print(
        Text.assemble(
            (f"{mark} [{step.key}] {step.outcome.value}", f"bold {style}"),
            f" ({step.seconds:.1f} s)",
        )
    )


def summary(console: Console, outcome: DemoOutcome) -> None:
    table = Table(title="docex demo: summary", title_justify="left")
    table.add_column("step")
    table.add_column("what")
    table.add_column("expectations", justify="right")
    table.add_column("result")
    table.add_column("time", justify="right")
    for step in outcome.steps:
        held = sum(e.held for e in step.expectations)
        mark, style = _MARKS[step.outcome]
        table.add_row(
            step.key,
            step.title,
            f"{held}/{len(step.expectations)}",
            Text(f"{mark} {step.outcome.value}", style=style),
            f"{step.seconds:.1f} s",
        )
    console.print()
    console.print(table)
    if outcome.held:
        console.print(
            Text(
                f"docex demo: every expectation held ({len(outcome.steps)} steps, "
                f"{outcome.seconds:.1f} s)",
                style="bold green",
            )
        )
        return
    failed = ", ".join(
        f"{step.key} ({step.outcome.value})"
        for step in outcome.failed_steps
        if step.outcome is not StepOutcome.NOT_RUN
    )
    not_run = [s.key for s in outcome.failed_steps if s.outcome is StepOutcome.NOT_RUN]
    tail = f"; not run: {', '.join(not_run)}" if not_run else ""
    console.print(
        Text(f"docex demo: FAILED: {failed}{tail} ({outcome.seconds:.1f} s)", style="bold red")
    )
