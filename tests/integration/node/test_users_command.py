"""``docex users add/list/revoke``: credentials the API then accepts or refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from node.access.roles import Role
from node.access.users import UserStore
from node.cli.main import app
from node.db.schema import open_database

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data dir holding a node's database, as ``docex run`` leaves it."""
    open_database(tmp_path / "node.sqlite").dispose()
    return tmp_path


@pytest.mark.parametrize("command", [["add", "x", "--role", "auditor"], ["list"], ["token", "x"]])
def test_users_commands_refuse_a_directory_without_node_data(
    tmp_path_factory: pytest.TempPathFactory, command: list[str]
) -> None:
    empty = tmp_path_factory.mktemp("not-a-node")

    result = runner.invoke(app, ["users", *command, "--data-dir", str(empty)])

    assert result.exit_code == 1
    assert f"no node data in {empty.resolve()}" in result.output
    assert list(empty.iterdir()) == []  # no empty database created


def test_an_added_issuer_token_authenticates_until_the_user_is_revoked(data_dir: Path) -> None:
    added = runner.invoke(
        app,
        [
            "users",
            "add",
            "moit",
            "--role",
            "issuer",
            "--types",
            "coo,permit",
            "--data-dir",
            str(data_dir),
        ],
    )
    assert added.exit_code == 0, added.output
    token = added.stdout.strip()  # logs go to stderr
    store = UserStore(open_database(data_dir / "node.sqlite"))
    principal = store.authenticate(token)
    assert principal is not None
    assert principal.role is Role.ISSUER
    assert principal.document_types == {"coo/1", "coo/2", "permit/1"}  # "coo": every version

    revoked = runner.invoke(app, ["users", "revoke", "moit", "--data-dir", str(data_dir)])

    assert revoked.exit_code == 0, revoked.output
    assert store.authenticate(token) is None
    listed = runner.invoke(app, ["users", "list", "--json", "--data-dir", str(data_dir)])
    assert json.loads(listed.stdout) == [
        {
            "name": "moit",
            "role": "issuer",
            "documentTypes": ["coo/1", "coo/2", "permit/1"],
            "revoked": True,
        }
    ]


def test_tokens_are_stored_hashed_never_in_clear(data_dir: Path) -> None:
    token = runner.invoke(
        app, ["users", "add", "audit", "--role", "auditor", "--data-dir", str(data_dir)]
    ).stdout.strip()

    for database_file in data_dir.glob("node.sqlite*"):
        assert token.encode() not in database_file.read_bytes()


def test_a_role_that_takes_no_document_types_refuses_them(data_dir: Path) -> None:
    result = runner.invoke(
        app,
        ["users", "add", "x", "--role", "auditor", "--types", "coo", "--data-dir", str(data_dir)],
    )

    assert result.exit_code == 1
    assert "only issuers have document types" in result.output
