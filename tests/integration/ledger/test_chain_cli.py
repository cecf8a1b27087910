"""``docex chain deploy`` and ``docex chain status`` on the managed anvil."""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account
from typer.testing import CliRunner

from ledger.chains import dev_private_keys, find_free_port
from ledger.deploy import Deployment
from node.cli.main import app


def write_config(path: Path) -> Path:
    vn, vn_issuer, th = (Account.from_key(k).address for k in dev_private_keys(4)[1:4])
    path.write_text(
        f"""
quorum = 2

[[members]]
country = "VN"
name = "Viet Nam Customs"
account = "{vn}"
issuer_keys = [{{ account = "{vn_issuer}", document_type = "coo/1" }}]

[[members]]
country = "TH"
name = "Thai Customs"
account = "{th}"

[[agreements]]
verifier = "TH"
issuer = "VN"
document_type = "coo/1"
""",
        encoding="utf-8",
    )
    return path


def test_deploy_on_the_managed_anvil_writes_addresses_that_status_reads_back(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path / "consortium.toml")
    data_dir = tmp_path / "data"
    port = str(find_free_port())
    runner = CliRunner()

    deployed = runner.invoke(
        app,
        [
            *("chain", "deploy", str(config), "--data-dir", str(data_dir)),
            *("--anvil", "--anvil-port", port, "--dev-account"),
        ],
    )
    assert deployed.exit_code == 0, deployed.output
    deployment = Deployment.read(data_dir)

    # the managed anvil was stopped; status starts it again from its persisted state
    shown = runner.invoke(
        app, ["chain", "status", "--data-dir", str(data_dir), "--anvil", "--anvil-port", port]
    )

    assert shown.exit_code == 0, shown.output
    status = json.loads(shown.stdout)
    assert status["consortium_registry"] == deployment.consortium_registry
    assert (status["quorum"], status["members"], status["active_members"]) == (2, 2, 2)


def test_deploy_refuses_both_an_rpc_url_and_anvil(tmp_path: Path) -> None:
    config = write_config(tmp_path / "consortium.toml")

    refused = CliRunner().invoke(
        app,
        [
            *("chain", "deploy", str(config), "--data-dir", str(tmp_path), "--anvil"),
            *("--rpc-url", "http://127.0.0.1:1", "--dev-account"),
        ],
    )

    assert refused.exit_code == 2
