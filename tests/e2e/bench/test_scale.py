"""The scale benchmark at 10^4 documents (``python -m bench.scale --documents 10000``):
every document really anchored through the node's pipeline verifies, and the index
rebuilt from the chain equals the live one. Correctness only: no timing is asserted
(``make bench`` runs it at 10^6 and publishes the figures)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


def test_ten_thousand_anchored_documents_verify_and_the_rebuilt_index_equals_the_live_one(
    tmp_path: Path,
) -> None:
    output = tmp_path / "scale.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.scale",
            "--documents",
            "10000",
            "--sample",
            "500",
            "--logs-page-blocks",
            "7",
            "--verify-all",
            "--output",
            str(output),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(output.read_text(encoding="utf-8"))

    assert result["documents"] == 10_000
    assert result["every_document_verified"] == {"documents": 10_000, "not_valid": 0}
    assert result["at_small"]["not_valid"] == 0
    assert result["at_large"]["not_valid"] == 0
    assert result["rebuild"]["equals_live_index"], result["rebuild"]["differing_tables"]
    assert result["rebuild"]["logs_page_blocks"] == 7
    assert result["rebuild"]["events"] >= result["anchoring"]["batches"]
