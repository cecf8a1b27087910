"""A command loads what it needs when it runs, and no more (issue 15 §2): ``docex cid`` and
``docex check`` run in a fresh interpreter, and what it imported by the end is compared
with the libraries that make a command slow to start. Checked by imports, never by
timing (the time itself is measured by ``python -m bench.cli_start``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from certificates.schemas.samples import sample_certificate_of_origin
from node.cli.main import app

#: web3 and eth_account (the chain), fastapi, starlette, uvicorn, httpx (the node and its
#: clients), sqlalchemy (the databases), pydantic and eth_utils (schemas and their helpers)
HEAVY = (
    "web3",
    "eth_account",
    "eth_utils",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "httpx",
    "pydantic",
)
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
runner = CliRunner()


def heavy_imported_by(*arguments: str) -> list[str]:
    """Run ``docex ARGUMENTS`` in a fresh interpreter; the heavy libraries it imported."""
    code = (
        "import json, sys\n"
        "from node.cli.main import app\n"
        "try:\n"
        f"    app({list(arguments)!r}, standalone_mode=False)\n"
        "except SystemExit as stop:\n"
        "    assert not stop.code, stop.code\n"
        f"loaded = {{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}\n"
        "print(json.dumps(sorted(loaded)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stderr.strip().splitlines()[-1]))


def test_cid_loads_none_of_them(tmp_path: Path) -> None:
    small = tmp_path / "three-bytes.txt"
    small.write_bytes(b"abc")
    assert heavy_imported_by("cid", str(small)) == []


@pytest.fixture
def wrapped_certificate(tmp_path: Path, keystore: tuple[Path, Path]) -> Path:
    key_file, passphrase = keystore
    document = tmp_path / "coo.json"
    document.write_text(json.dumps(sample_certificate_of_origin(0)), encoding="utf-8")
    key = ["--key", str(key_file), "--passphrase-file", str(passphrase)]
    chain = ["--registry", REGISTRY, "--chain-id", "31337"]
    wrapped = runner.invoke(app, ["wrap", str(document), "-o", str(tmp_path / "out"), *key, *chain])
    assert wrapped.exit_code == 0, wrapped.output
    return tmp_path / "out" / "coo.wrapped.json"


def test_check_of_a_docex_document_loads_none_of_them(wrapped_certificate: Path) -> None:
    assert heavy_imported_by("check", str(wrapped_certificate)) == []
