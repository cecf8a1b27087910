"""Checked-in contract artifacts are exactly what the pinned compiler builds from the sources."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

CONTRACTS = Path(__file__).resolve().parents[3] / "contracts"


def test_checked_in_artifacts_match_a_fresh_build(tmp_path):
    subprocess.run(
        ["node", str(CONTRACTS / "scripts" / "build.mjs"), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    checked_in = sorted(p.name for p in (CONTRACTS / "build").glob("*.json"))
    fresh = sorted(p.name for p in tmp_path.glob("*.json"))
    assert checked_in == fresh == ["ConsortiumRegistry.json", "DocumentRegistry.json"]
    for name in fresh:
        assert (CONTRACTS / "build" / name).read_bytes() == (tmp_path / name).read_bytes(), (
            f"contracts/build/{name} is stale: run `make contracts`"
        )


def test_artifacts_target_paris_with_the_pinned_compiler():
    pinned = json.loads((CONTRACTS / "package.json").read_text())["devDependencies"]["solc"]
    for path in (CONTRACTS / "build").glob("*.json"):
        artifact = json.loads(path.read_text())
        assert set(artifact) >= {
            "contractName",
            "abi",
            "bytecode",
            "deployedBytecode",
            "metadata",
            "compiler",
        }
        assert artifact["compiler"].startswith(f"{pinned}+")
        settings = json.loads(artifact["metadata"])["settings"]
        assert settings["evmVersion"] == "paris"
        assert settings["optimizer"]["enabled"] is True
        code = bytes.fromhex(artifact["deployedBytecode"][2:])
        assert not set(_opcodes(code)) & POST_PARIS_OPCODES, path.name


# PUSH0 (Shanghai), TLOAD, TSTORE, MCOPY (Cancun): absent from older permissioned clients.
POST_PARIS_OPCODES = {0x5F, 0x5C, 0x5D, 0x5E}


def _opcodes(code: bytes) -> list[int]:
    """The opcodes of runtime code, skipping PUSH data and the CBOR metadata trailer."""
    body = code[: len(code) - 2 - int.from_bytes(code[-2:], "big")]
    ops, i = [], 0
    while i < len(body):
        op = body[i]
        ops.append(op)
        i += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)
    return ops
