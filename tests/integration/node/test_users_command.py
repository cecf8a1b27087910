"""``docex users add/list/revoke``: credentials the API then accepts or refuses."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from node.access.roles import Role
from node.access.users import UserStore
from node.cli.main import app
from node.db.schema import open_database

runner = CliRunner()


def test_an_added_issuer_token_authenticates_until_the_user_is_revoked(tmp_path: Path) -> None:
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
            str(tmp_path),
        ],
    )
    assert added.exit_code == 0, added.output
    token = added.output.strip()
    store = UserStore(open_database(tmp_path / "node.sqlite"))
    principal = store.authenticate(token)
    assert principal is not None
    assert principal.role is Role.ISSUER
    assert principal.document_types == {"coo/1", "coo/2", "permit/1"}  # "coo": every version

    revoked = runner.invoke(app, ["users", "revoke", "moit", "--data-dir", str(tmp_path)])

    assert revoked.exit_code == 0, revoked.output
    assert store.authenticate(token) is None
    listed = runner.invoke(app, ["users", "list", "--json", "--data-dir", str(tmp_path)])
    assert json.loads(listed.output) == [
        {
            "name": "moit",
            "role": "issuer",
            "documentTypes": ["coo/1", "coo/2", "permit/1"],
            "revoked": True,
        }
    ]


def test_tokens_are_stored_hashed_never_in_clear(tmp_path: Path) -> None:
    token = runner.invoke(
        app, ["users", "add", "audit", "--role", "auditor", "--data-dir", str(tmp_path)]
    ).output.strip()

    for database_file in tmp_path.glob("node.sqlite*"):
        assert token.encode() not in database_file.read_bytes()


def test_a_role_that_takes_no_document_types_refuses_them(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["users", "add", "x", "--role", "auditor", "--types", "coo", "--data-dir", str(tmp_path)],
    )

    assert result.exit_code == 1
    assert "only issuers have document types" in result.output
