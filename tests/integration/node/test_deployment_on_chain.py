"""A node of a real consortium pointed at a chain that does not hold its deployment (a
fresh chain without our contracts, or another chain id) refuses to start with a clear
error (``deployment-not-on-chain``), not a stack trace, and starts nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from certificates.keystore import LIGHT_SCRYPT_N
from ledger import Deployment, ManagedAnvil
from ledger.chains import find_free_port
from node.cli.main import app
from node.consortium.member_keys import create_signing_key, keystore_path
from node.errors import DeploymentNotOnChain
from node.runtime import NodeRuntime
from node.settings import load_settings

pytestmark = pytest.mark.integration

#: addresses where nothing was deployed on a fresh chain
NOWHERE = Deployment(
    chain_id=31337,
    consortium_registry="0x" + "11" * 20,
    document_registry="0x" + "22" * 20,
    deployed_block=0,
    deployer="0x" + "33" * 20,
)


def member_data_dir(tmp_path: Path, deployment: Deployment) -> Path:
    """A member's data dir as a real consortium's node has it: its own keys, chain.json."""
    data_dir = tmp_path / "vn"
    create_signing_key(
        keystore_path(data_dir / "keys", "VN", "issuer"), kdf_iterations=LIGHT_SCRYPT_N
    )
    deployment.write(data_dir)
    return data_dir


def test_a_chain_without_our_contracts_is_refused_at_start(
    tmp_path: Path, anvil: ManagedAnvil
) -> None:
    data_dir = member_data_dir(tmp_path, NOWHERE)
    result = CliRunner().invoke(
        app,
        ["run", "--data-dir", str(data_dir), "--chain", "rpc", "--rpc-url", anvil.url,
         "--country", "VN", "--port", str(find_free_port())],
        env={"DOCEX_DEV_CONSORTIUM": "false", "DOCEX_PROFILE": "production"},
    )  # fmt: skip

    assert result.exit_code == 1, result.output
    assert "deployment-not-on-chain" in result.output
    assert f"has no ConsortiumRegistry at {NOWHERE.consortium_registry}" in result.output
    assert "Traceback" not in result.output
    assert not (data_dir / "node.sqlite").exists()  # nothing opened, nothing stored


def test_a_chain_with_another_chain_id_is_refused_at_start(
    tmp_path: Path, anvil: ManagedAnvil
) -> None:
    data_dir = member_data_dir(tmp_path, replace(NOWHERE, chain_id=7700))
    settings = load_settings(
        data_dir=data_dir, chain="rpc", rpc_url=anvil.url, dev_consortium=False, country="VN"
    )
    runtime = NodeRuntime(settings)
    try:
        with pytest.raises(DeploymentNotOnChain, match="is chain 31337, but this node's"):
            runtime.open()
    finally:
        runtime.stop()
