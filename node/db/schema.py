"""The node's own SQLite database: users and tokens, the outbox, batches, idempotency keys.

One file in the data dir (``node.sqlite``), WAL and ``synchronous=FULL``: a document the
node answered 202 for is on disk. The tables are created on open; their models live
next to the code that uses them (:mod:`node.access.users`, :mod:`node.issuing.outbox`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase


class NodeBase(DeclarativeBase):
    """Declarative base of the node database's tables."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def open_database(path: Path) -> Engine:
    """The node database at ``path`` (created with its tables if missing)."""
    # imported for their side effect: registering their tables on NodeBase.metadata
    import node.access.users
    import node.issuing.outbox
    import node.receiving.inbox  # noqa: F401

    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _sqlite_pragmas)
    NodeBase.metadata.create_all(engine)
    _add_missing_columns(engine)
    _add_missing_indexes(engine)
    return engine


#: lookups by a document's target hash or CID (verify by reference, lifecycle, inbox):
#: (index, table, columns); created on open, also in a database of an earlier docex
_ADDED_INDEXES = (
    ("outbox_target_hash", "outbox", "target_hash"),
    ("outbox_cid", "outbox", "cid"),
    ("inbox_cid", "inbox", "cid"),
)


def _add_missing_indexes(engine: Engine) -> None:
    with engine.begin() as connection:
        for name, table, columns in _ADDED_INDEXES:
            connection.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")


#: columns added to existing tables since their first release: (table, column, DDL)
_ADDED_COLUMNS = (("outbox", "confidential", "BOOLEAN NOT NULL DEFAULT 0"),)


def _add_missing_columns(engine: Engine) -> None:
    """Bring a database created by an earlier docex up to the current columns."""
    with engine.begin() as connection:
        for table, column, ddl in _ADDED_COLUMNS:
            present = {row[1] for row in connection.exec_driver_sql(f"PRAGMA table_info({table})")}
            if column not in present:
                connection.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}")
