"""The contracts against the consortium model, a long Hypothesis stateful run (soak).

The state machine is ``ConsortiumMachine`` of ``tests/integration/contracts/test_stateful.py``
(``make test`` runs it briefly): admissions, suspensions, key rotations and revocations,
anchors, relayed anchors, revocations of documents, quorum changes; invariants: a
non-member never anchors, a suspended member's or a revoked key's later anchors fail, the
quorum stays within [2, active members], a revoked document never becomes valid again,
and authority at every past block agrees with the model. Here with about 8 times the
examples and twice the steps (3,000 steps: about 16 minutes here).
"""

from __future__ import annotations

from typing import Any, Final

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

pytestmark = pytest.mark.soak

MAX_EXAMPLES: Final = 100
STEPS: Final = 30


@pytest.mark.timeout(3600)
def test_contracts_agree_with_the_model_over_a_long_run(
    eth_tester_chain: Any, consortium_factory: Any, consortium_machine: Any
) -> None:
    run_state_machine_as_test(
        lambda: consortium_machine(eth_tester_chain, consortium_factory),
        settings=settings(
            max_examples=MAX_EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
