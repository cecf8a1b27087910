"""`docex network sign-record`: a member vouches for its validator's enode (ADR 0056)."""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account
from typer.testing import CliRunner

from node.network.cli import network_app
from node.network.node_records import read_node_records

ENODE = "enode://" + "cd" * 64 + "@127.0.0.54:30303"


def test_a_member_signs_its_enode_with_its_member_account(tmp_path: Path) -> None:
    account = Account.create()
    keystore = tmp_path / "MY-member.json"
    keystore.write_text(json.dumps(Account.encrypt(account.key, "pass", iterations=2)))
    (tmp_path / "pass").write_text("pass\n")
    records = tmp_path / "node-records.json"
    arguments = ["sign-record", "--country", "my", "--enode", ENODE, "--chain-id", "7700"]
    arguments += ["--keystore", str(keystore), "--passphrase-file", str(tmp_path / "pass")]
    result = CliRunner().invoke(network_app, [*arguments, "--records", str(records)])
    assert result.exit_code == 0, result.output
    [record] = read_node_records(records)
    assert (record.country, record.enode, record.chain_id) == ("MY", ENODE, 7700)
    assert record.signer() == account.address

    (tmp_path / "pass").write_text("wrong\n")
    refused = CliRunner().invoke(network_app, [*arguments, "--records", str(records)])
    assert refused.exit_code == 2
    assert "Traceback" not in refused.output
    assert len(read_node_records(records)) == 1
