"""What the CLI tests share: an issuer keystore made by ``docex keys new``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from node.cli.main import app


@pytest.fixture
def keystore(tmp_path: Path) -> tuple[Path, Path]:
    """An issuer keystore (light KDF: fast) and its passphrase file, in ``tmp_path``."""
    passphrase = tmp_path / "passphrase.txt"
    passphrase.write_text("correct horse battery\n")
    keystore = tmp_path / "issuer.json"
    made = CliRunner().invoke(
        app,
        ["keys", "new", "-o", str(keystore), "--passphrase-file", str(passphrase), "--light-kdf"],
    )
    assert made.exit_code == 0, made.output
    return keystore, passphrase
