"""Open the node database and bring its schema up to date (Alembic).

By default one file in the data dir (``node.sqlite``), WAL and ``synchronous=FULL``: a
document the node answered 202 for is on disk. With ``DOCEX_DATABASE_URL`` the ``node``
schema of that PostgreSQL database (:mod:`ledger.sql_engines`; committed means durable
there too). The tables are :mod:`node.db.tables`; their migrations are
``node/db/migrations/versions/``, applied in process on every open, as the event index's
are (:mod:`ledger.index_store`). A database made before the schema was migrated (no
``alembic_version`` table) is first stamped at the revision its tables match.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from alembic.config import Config

    from ledger.process_lock import ProcessLock
    from ledger.sql_engines import DatabaseLocation

MIGRATIONS = Path(__file__).with_name("migrations")
#: the PostgreSQL schema of the node database
SCHEMA = "node"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    # alembic is imported when a database is opened, not with the tables: importing the
    # outbox or the users (the CLI's commands) should not load it
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def legacy_revision(connection: Connection) -> str | None:
    """The revision a database made before Alembic matches, or None when the database is
    empty or already versioned.

    Those databases were brought up to date by hand on open: ``outbox.confidential``
    arrived with the receiving tables (0002), the lookup indexes after (0003, all three
    in one transaction). The amendments table existed only once a node had started;
    revision 0004 creates it where missing.
    """
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    if "alembic_version" in tables or "outbox" not in tables:
        return None
    if "outbox_cid" in {index["name"] for index in inspector.get_indexes("outbox")}:
        return "0003"
    if "confidential" in {column["name"] for column in inspector.get_columns("outbox")}:
        return "0002"
    return "0001"


def _upgrade_on(connection: Connection, revision: str) -> None:
    from alembic import command

    config = alembic_config(connection.engine)
    config.attributes["connection"] = connection
    legacy = legacy_revision(connection)
    if legacy is not None:
        command.stamp(config, legacy)
    command.upgrade(config, revision)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the node migrations up to ``revision`` (stamping a pre-Alembic database)."""
    if engine.dialect.name == "postgresql":
        from ledger.sql_engines import migrate_postgres

        migrate_postgres(engine, SCHEMA, lambda connection: _upgrade_on(connection, revision))
        return
    with engine.begin() as connection:
        _upgrade_on(connection, revision)


def _migration_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # foreign keys stay off: a batch migration copies a table, then drops the original
    cursor.close()


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _migrate_sqlite(url: str) -> None:
    """Migrate in one SQLite transaction: all revisions or none, one process at a time.

    The sqlite3 module commits DDL as it goes unless it is told not to begin
    transactions itself; the migration connection begins its own (IMMEDIATE: a second
    process opening the database waits, then finds it migrated).
    """
    engine = create_engine(url, connect_args={"isolation_level": None}, poolclass=NullPool)
    event.listen(engine, "connect", _migration_pragmas)
    event.listen(engine, "begin", _begin_immediate)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def open_database(location: DatabaseLocation) -> Engine:
    """The node database (created if missing), migrated to the latest schema: a SQLite
    file at ``location`` (a Path), or the node schema of the PostgreSQL database that
    ``location`` (a URL) names."""
    if isinstance(location, str):
        # imported here: the users command opens SQLite without loading the ledger
        from ledger.sql_engines import postgres_engine

        engine = postgres_engine(location, SCHEMA)
        upgrade(engine)
        return engine
    location.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{location}"
    _migrate_sqlite(url)
    engine = create_engine(url)
    # a many-row INSERT (the acceptance writer's group of requests, a batch's rows) as
    # multi-row VALUES statements rather than one statement per row: the sqlite3 module
    # gives up the GIL around each statement it steps, and under load every step was a
    # wait to get it back from the API's thread (a 165-row insert: 23 ms against 14 with
    # a busy thread beside it, the same CPU). SQLAlchemy does this for PostgreSQL's
    # RETURNING inserts; its documented dialect flag extends it to plain ones.
    engine.dialect.use_insertmanyvalues_wo_returning = True
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def writers_lock(engine: Engine) -> ProcessLock:
    """What the node database's writing transactions hold, one at a time: for a SQLite
    file, across every process of the node (``<file>.lock``: SQLite makes a second writer
    retry in sleeps of up to 100 ms); for PostgreSQL, which queues writers on its own
    locks, among this process's threads only.

    With two API processes under the mixed-load bench's open-loop window (2026-12-08) an
    acceptance group's insert waited 46-85 ms at p99 without it and 38-50 ms with it; the
    issue requests' latency did not change measurably: what is left is the holder's own
    time on two saturated cores."""
    # imported here: the ledger package is heavy, and importing the outbox must not load it
    from ledger.process_lock import ProcessLock

    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return ProcessLock(None)
    return ProcessLock(Path(database + ".lock"))


def database_exists(location: DatabaseLocation) -> bool:
    """Whether a node database is there already (opening one would create it)."""
    if isinstance(location, str):
        from ledger.sql_engines import postgres_schema_exists

        return postgres_schema_exists(location, SCHEMA, "users")
    return location.is_file()
