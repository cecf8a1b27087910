"""Shell completion of the client commands: typer's ``--show-completion`` is there, and
``--type`` / ``--to`` / ``--from`` complete to document types and countries."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

DOCEX = Path(__file__).resolve().parents[3] / ".venv" / "bin" / "docex"


def complete(words: str) -> list[str]:
    """What bash completion offers for the last of ``words`` (click's protocol)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCEX_")}
    done = subprocess.run(
        [str(DOCEX)],
        capture_output=True,
        text=True,
        check=True,
        env={
            **env,
            "_DOCEX_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
        },
    )
    return done.stdout.split()


def test_document_types_and_countries_complete() -> None:
    assert complete("docex issue --type co") == ["coo", "coo/1", "coo/2"]
    assert "permit/1" in complete("docex issue --type p")
    assert complete("docex issue --to K") == ["KR", "KH"]
    assert complete("docex inbox --from S") == ["SG"]
    assert complete("docex ver") == ["verify"]


def test_the_completion_script_is_offered() -> None:
    # the script is for the shell the command runs in (typer asks shellingham, which
    # reads the parent processes): run it from bash, not from whatever ran the tests
    # (`make` runs its recipes with sh, for which there is no script); `; exit` keeps
    # bash from replacing itself with the command
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCEX_")}
    shown = subprocess.run(
        ["bash", "-c", f'"{DOCEX}" --show-completion; exit $?'],
        capture_output=True,
        text=True,
        env=env,
    )
    assert shown.returncode == 0, shown.stderr[-4000:]
    assert "_DOCEX_COMPLETE=complete_bash" in shown.stdout
