"""``docex verify`` shows each check's stable code beside its status and reason."""

from __future__ import annotations

import pytest

from node.cli.client.verify import _print_verdict


def test_the_table_shows_each_checks_code(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    answer = {
        "valid": False,
        "checks": [
            {"name": "integrity", "status": "valid", "code": "intact", "reason": "ok", "data": {}},
            {
                "name": "status",
                "status": "invalid",
                "code": "revoked",
                "reason": "revoked in block 9",
                "data": {},
            },
        ],
    }

    _print_verdict(answer)

    out = capsys.readouterr().out
    assert "code" in out
    assert "intact" in out
    assert "revoked in block 9" in out
    assert out.count("revoked") == 2  # the code and the reason
    assert "INVALID" in out
