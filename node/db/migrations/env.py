"""Alembic environment: migrate the connection node.db.schema hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from node.db.tables import NodeBase


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=NodeBase.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("node migrations run through node.db.schema.upgrade(engine)")
run_migrations(_connection)
