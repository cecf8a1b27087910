"""Where a database lives: a SQLite file (the default) or a schema of a PostgreSQL database.

The node database and the event index are each one SQLite file in the data dir, or, when
``DOCEX_DATABASE_URL`` names a PostgreSQL database, one schema of it each (``node`` and
``event_index``): their tables and Alembic version tables stay apart, and the index can be
dropped and rebuilt from the chain on its own. Connections reach their schema through
``search_path``, so the same SQLAlchemy tables and migrations serve both dialects.

The schema is created when the engine is made. A PostgreSQL migration runs in one
transaction (PostgreSQL's DDL is transactional) under an advisory lock: all revisions or
none, one process at a time, like SQLite's ``BEGIN IMMEDIATE`` migration.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Final

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

#: what ``DOCEX_DATABASE_URL`` may start with; every form is driven by psycopg 3
POSTGRES_SCHEMES: Final = ("postgresql", "postgresql+psycopg", "postgres")

#: a database is a SQLite file (Path) or a PostgreSQL URL (str)
DatabaseLocation = Path | str


def postgres_url(url: str) -> URL:
    """``url`` (``postgresql://user:password@host:port/database``) with psycopg 3 as its
    driver; ValueError for any other scheme."""
    parsed = make_url(url)
    if parsed.drivername not in POSTGRES_SCHEMES:
        raise ValueError(
            f"a database URL must be postgresql://USER:PASSWORD@HOST:PORT/DATABASE, "
            f"not {parsed.drivername}://"
        )
    return parsed.set(drivername="postgresql+psycopg")


def _lock_id(schema: str) -> int:
    return zlib.crc32(f"docex:{schema}".encode())


def postgres_engine(url: str, schema: str) -> Engine:
    """An engine whose connections work in ``schema`` of the database ``url`` names,
    creating the schema first if it is missing (so that the engine's first connection
    already finds it, and SQLAlchemy takes it for the default schema)."""
    _create_schema(url, schema)
    return create_engine(
        postgres_url(url),
        connect_args={"options": f"-csearch_path={schema}"},
        # no pool_pre_ping: it costs a round trip at every checkout, several per verified
        # document. After a server restart the first statement on a dead connection fails
        # (one 5xx, or one retry of a worker's loop) and SQLAlchemy then replaces the whole
        # pool (its disconnect handling)
    )


def _create_schema(url: str, schema: str) -> None:
    bootstrap = create_engine(postgres_url(url), poolclass=NullPool)
    try:
        with bootstrap.begin() as connection:
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _lock_id(schema)}
            )
            # looked up first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on
            # the database even when the schema is there (a user granted the schemas only)
            found = connection.scalar(
                text("SELECT count(*) FROM pg_namespace WHERE nspname = :schema"),
                {"schema": schema},
            )
            if not found:
                connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    finally:
        bootstrap.dispose()


def migrate_postgres(engine: Engine, schema: str, migrate: Callable[[Connection], None]) -> None:
    """Run ``migrate`` in one transaction that holds an advisory lock named after the
    schema: a second process waits, then finds the schema up to date."""
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _lock_id(schema)})
        migrate(connection)


def postgres_schema_exists(url: str, schema: str, table: str) -> bool:
    """Whether ``schema`` of the database ``url`` holds ``table`` (creating nothing)."""
    engine = create_engine(postgres_url(url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            found = connection.scalar(
                text(
                    "SELECT count(*) FROM information_schema.tables"
                    " WHERE table_schema = :schema AND table_name = :table"
                ),
                {"schema": schema, "table": table},
            )
        return bool(found)
    finally:
        engine.dispose()
