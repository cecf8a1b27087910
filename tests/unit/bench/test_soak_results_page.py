"""The generated reliability page (docs/reliability.md) says what the results file holds."""

from __future__ import annotations

from typing import Any

from bench.soak.results import render_page


def _report(**extra: Any) -> dict[str, Any]:
    return {
        "mode": "quick",
        "generated": "2026-12-05T08:00:00Z",
        "machine": {"cpus": 2, "python": "3.11.7"},
        "passed": True,
        "scenarios": [
            {
                "name": "load",
                "title": "Mixed load",
                "outcome": "pass",
                "figures": {"lost": 0, "duplicated": 0},
                "seconds": 15.2,
                "notes": [],
            }
        ],
        **extra,
    }


def test_the_contracts_long_run_is_on_the_page_with_its_outcome() -> None:
    run = {
        "chain": "anvil",
        "examples": 200,
        "steps": 20,
        "invariants": ["no member's keys changed without its approval"],
        "outcome": "fail",
        "error": "AssertionError: authority differs\nat block 12",
        "seconds": 2094.2,
        "generated": "2026-12-05T08:46:41Z",
    }
    page = render_page(_report(contract_state_machine=run))
    assert "## The contracts against their model" in page
    assert "200 random examples of up to 20 steps" in page
    assert "**fail**" in page
    assert "- no member's keys changed without its approval" in page
    assert "AssertionError: authority differs ... at block 12" in page


def test_a_report_without_the_long_run_has_no_such_section() -> None:
    page = render_page(_report())
    assert "| Mixed load | **pass** | lost: 0<br>duplicated: 0 | 15 |" in page
    assert "against their model" not in page
