"""The contracts against the consortium model, a long Hypothesis stateful run (soak).

The state machine is ``ConsortiumMachine`` of ``tests/integration/contracts/test_stateful.py``
(``make test`` runs it briefly, a few examples): random votes on admissions, suspensions,
departures, key rotations and revocations, encryption keys; anchors with per-document terms,
uses and revocations. Invariants: no member's keys changed without its approval, authority at
every block equals the model's, the quorum is the fraction of the active members, uses only
by a document's own addressees within its allowance. Here 200 examples of 20 steps on one
anvil: the consortium is deployed once and every example starts from it (``evm_snapshot``
before, ``evm_revert`` after). The outcome is merged into ``bench/results/reliability.json``
under ``contract_state_machine`` (other keys kept).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Final

import pytest

pytestmark = pytest.mark.soak

MAX_EXAMPLES: Final = 200
STEPS: Final = 20
RESULTS: Final = Path(__file__).resolve().parents[3] / "bench" / "results" / "reliability.json"


def record_outcome(outcome: dict[str, Any]) -> None:
    """Merge ``outcome`` under its key, leaving every other key of the file as it was."""
    report = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    report["contract_state_machine"] = outcome
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


@pytest.mark.timeout(7200)
def test_contracts_agree_with_the_model_over_a_long_run(
    anvil_chain: Any, consortium_factory: Any, consortium_machine: Any
) -> None:
    import sys

    run_machine = sys.modules[consortium_machine.__module__].run_machine
    started = time.monotonic()
    outcome: dict[str, Any] = {
        "chain": "anvil",
        "examples": MAX_EXAMPLES,
        "steps": STEPS,
        "invariants": [
            "no member's keys changed without its approval",
            "authority at block B equals the model's",
            "quorum is the fraction of the active members",
            "uses only by a document's own addressees within its allowance",
        ],
    }
    try:
        run_machine(anvil_chain, consortium_factory, examples=MAX_EXAMPLES, steps=STEPS)
    except BaseException as exc:
        outcome.update(outcome="fail", error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    else:
        outcome["outcome"] = "pass"
    finally:
        outcome["seconds"] = round(time.monotonic() - started, 1)
        outcome["generated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        record_outcome(outcome)
