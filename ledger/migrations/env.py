"""Alembic environment: migrate the connection ledger.index_store hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from ledger.index_schema import IndexBase


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=IndexBase.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("ledger migrations run through ledger.index_store.upgrade(engine)")
run_migrations(_connection)
