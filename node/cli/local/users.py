"""``docex users``: the institutions that may use this node, their roles and tokens."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from certificates.errors import DocexError
from node.access.roles import Role
from node.cli.exits import EXIT_REFUSED, describe, fail
from node.cli.settings_options import ConfigOption, DataDirOption, settings_for

if TYPE_CHECKING:
    from node.access.users import UserStore

users_app = typer.Typer(
    name="users", help="Issue, list and revoke API credentials.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add ``docex users ...`` to ``app``."""
    app.add_typer(users_app)


def _store(command: str, config: ConfigOption, data_dir: DataDirOption) -> UserStore:
    """The users of an existing node's database; refuses (never creates an empty one,
    whose tokens no node would know) when the data dir holds no node."""
    from node.access.users import UserStore
    from node.db import open_database
    from node.db.schema import database_exists

    settings = settings_for(command, config, data_dir=data_dir)
    if not database_exists(settings.database_location):
        if settings.database_url is not None:
            fail(
                command,
                EXIT_REFUSED,
                "no node database in the PostgreSQL database DOCEX_DATABASE_URL names: "
                "start the node on it first (docex run)",
            )
        fail(
            command,
            EXIT_REFUSED,
            f"no node data in {settings.data_dir.resolve()} (no {settings.database_path.name}"
            "): start the node there first (docex run), or name its data directory with "
            "--data-dir or DOCEX_DATA_DIR",
        )
    return UserStore(open_database(settings.database_location))


@users_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The institution, e.g. moit-coo-office.")],
    role: Annotated[Role, typer.Option("--role", help="issuer, customs-officer, auditor, admin.")],
    types: Annotated[
        str, typer.Option("--types", help="Issuers: document types, e.g. coo,permit.")
    ] = "",
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create a user and print its bearer token (shown once; stored hashed)."""
    try:
        from node.access.users import document_types_from

        store = _store("users add", config, data_dir)
        token = store.add(name, role, document_types_from(types.split(",")))
    except DocexError as error:
        fail("users add", EXIT_REFUSED, describe(error))
    typer.echo(token)


@users_app.command("token")
def token(
    name: Annotated[str, typer.Argument(help="An existing, live user.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Issue another bearer token to a user."""
    try:
        typer.echo(_store("users token", config, data_dir).issue_token(name))
    except DocexError as error:
        fail("users token", EXIT_REFUSED, describe(error))


@users_app.command("list")
def list_users(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
) -> None:
    """List users, their roles and document types."""
    users = _store("users list", config, data_dir).list()
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "name": u.name,
                        "role": u.role.value,
                        "documentTypes": list(u.document_types),
                        "revoked": u.revoked,
                    }
                    for u in users
                ],
                indent=2,
            )
        )
        return
    for user in users:
        types = ",".join(user.document_types) or "-"
        state = "revoked" if user.revoked else "active"
        typer.echo(f"{user.name}\t{user.role.value}\t{types}\t{state}")


@users_app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="The user to revoke, with all its tokens.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Revoke a user and every token it holds."""
    try:
        _store("users revoke", config, data_dir).revoke(name)
    except DocexError as error:
        fail("users revoke", EXIT_REFUSED, describe(error))
    typer.echo(f"revoked {name}")
