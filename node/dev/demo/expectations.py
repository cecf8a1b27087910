"""What each step of the demo expected, and what happened: the demo's verdict.

A step records one :class:`Expectation` per claim it checks ("990 of 990 uses recorded
on chain"); the step held when every expectation did. A step whose work broke off
(:class:`~node.dev.demo.failures.DemoAborted`) without a failed expectation is ``aborted``
with the reason; either way the steps after a step that broke off are ``not run``. The
demo exits 0 only when every step held.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class StepOutcome(StrEnum):
    HELD = "held"
    FAILED = "failed"
    ABORTED = "aborted"
    NOT_RUN = "not run"


@dataclass(frozen=True, slots=True)
class Expectation:
    """One claim a step checked: what was expected, whether it held, what was seen."""

    expected: str
    held: bool
    observed: str


@dataclass(slots=True)
class StepRecord:
    """One step of the demo: its name, its expectations and how long it took."""

    key: str
    title: str
    expectations: list[Expectation] = field(default_factory=list)
    seconds: float = 0.0
    aborted: str | None = None
    started: bool = False

    def expect(self, expected: str, held: bool, observed: str) -> Expectation:
        expectation = Expectation(expected, held, observed)
        self.expectations.append(expectation)
        return expectation

    def count(self, expected: str, done: int, wanted: int, observed: str = "") -> Expectation:
        """``done of wanted`` as an expectation that holds when they are equal."""
        seen = f"{done} of {wanted}" + (f"; {observed}" if observed else "")
        return self.expect(expected, done == wanted, seen)

    @property
    def outcome(self) -> StepOutcome:
        if not self.started:
            return StepOutcome.NOT_RUN
        if any(not e.held for e in self.expectations):
            return StepOutcome.FAILED  # even when the step then broke off: it says why
        if self.aborted is not None or not self.expectations:
            return StepOutcome.ABORTED
        return StepOutcome.HELD


@dataclass(frozen=True, slots=True)
class DemoOutcome:
    """Every step's record, in order, and the demo's wall time."""

    steps: tuple[StepRecord, ...]
    seconds: float

    @property
    def held(self) -> bool:
        return all(step.outcome is StepOutcome.HELD for step in self.steps)

    @property
    def failed_steps(self) -> tuple[StepRecord, ...]:
        return tuple(step for step in self.steps if step.outcome is not StepOutcome.HELD)
