"""Open the event index database and bring its schema up to date (Alembic, in process).

The index is ``index.sqlite`` in the data dir, or the ``event_index`` schema of the
PostgreSQL database ``DOCEX_DATABASE_URL`` names (:mod:`ledger.sql_engines`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event

from ledger.sql_engines import DatabaseLocation, migrate_postgres, postgres_engine

MIGRATIONS = Path(__file__).with_name("migrations")
#: the PostgreSQL schema of the index
SCHEMA: Final = "event_index"
#: bytes of the index file a SQLite connection reads through a memory map instead of a
#: read call per page (address space, not memory: the pages are the OS's page cache,
#: shared by every connection). At 10^6 indexed events a status query's p99 fell from
#: 0.11 to 0.09 ms, level with 10^3 (bench.ledger_throughput); SQLite's caveat, a
#: SIGBUS on an I/O error under the map, costs a process whose index the chain rebuilds
INDEX_MMAP_BYTES: Final = 1 << 30


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # the index can be rebuilt from the chain: durability per page is enough
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA mmap_size={INDEX_MMAP_BYTES}")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def _upgrade_on(connection: Connection, revision: str = "head") -> None:
    config = alembic_config(connection.engine)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the index migrations up to ``revision``."""
    if engine.dialect.name == "postgresql":
        migrate_postgres(engine, SCHEMA, lambda connection: _upgrade_on(connection, revision))
        return
    with engine.begin() as connection:
        _upgrade_on(connection, revision)


def open_index(location: DatabaseLocation) -> Engine:
    """The index database (created if missing), migrated to the latest schema: a SQLite
    file at ``location`` (a Path), or the index schema of the PostgreSQL database that
    ``location`` (a URL) names."""
    if isinstance(location, str):
        engine = postgres_engine(location, SCHEMA)
    else:
        location.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite:///{location}")
        event.listen(engine, "connect", _sqlite_pragmas)
    upgrade(engine)
    return engine
