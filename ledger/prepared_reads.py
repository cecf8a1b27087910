"""Reads on the verifier's path, compiled once and run on a pooled DBAPI connection.

A SQLAlchemy Core ``execute`` builds the statement's cache key, looks the compiled
form up, wraps the cursor in a result and processes every row: about 170 µs for a
one-row indexed read on SQLite, where the read itself takes 6. The verifier makes two
such reads for every document it has not seen at the current checkpoint (the
checkpoint, then the document's events), so under mixed load that overhead was most of
a verification's cost (bench/results/mixed_load.json, ``profile``).

:class:`PreparedRead` compiles a ``select`` with named bind parameters once for the
engine's dialect and runs it on a connection checked out of the engine's own pool
(the pool's ``connect`` events, SQLite's pragmas or PostgreSQL's ``search_path``,
still apply): rows come back as the driver gives them. Only columns whose Python value
is the driver's own belong here (integers, text, ``bytes``): SQLite and psycopg both
return ``LargeBinary`` as ``bytes``.

On PostgreSQL a read runs in autocommit: the driver otherwise opens a transaction with a
``BEGIN`` of its own round trip before the ``SELECT``, and the pool ends it with a
``ROLLBACK``, a third (which also drops the driver's prepared statements). One statement
is its own transaction, on one snapshot, as it was inside ``BEGIN`` ... ``ROLLBACK``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement


def compiled_for(engine: Engine, statement: ClauseElement) -> SQLCompiler:
    """``statement`` compiled once for ``engine``'s dialect (its SQL, its bind names and,
    for a positional paramstyle, their order); also the node's prepared writes'
    (``node.db.prepared_writes``)."""
    compiled = statement.compile(dialect=engine.dialect)
    if not isinstance(compiled, SQLCompiler):
        raise TypeError(f"not a SQL statement: {statement!r}")
    return compiled


class PreparedRead:
    """One ``SELECT`` compiled for ``engine``'s dialect; :meth:`rows` runs it."""

    def __init__(self, engine: Engine, statement: ClauseElement) -> None:
        self._engine = engine
        compiled = compiled_for(engine, statement)
        self.sql = compiled.string
        #: bind names in the order a positional paramstyle (SQLite's ``?``) wants them
        self._order: tuple[str, ...] | None = (
            tuple(compiled.positiontup or ()) if compiled.positional else None
        )
        self._names = frozenset(compiled.binds)
        #: a database server: the read in autocommit, one round trip (see above)
        self._autocommit = engine.dialect.name == "postgresql"

    def rows(self, params: Mapping[str, object]) -> list[tuple[Any, ...]]:
        """Every row for ``params`` (one value per bind name), in the statement's order."""
        if set(params) != self._names:
            raise ValueError(f"expected parameters {sorted(self._names)}, got {sorted(params)}")
        arguments: tuple[object, ...] | Mapping[str, object] = (
            tuple(params[name] for name in self._order) if self._order is not None else params
        )
        connection = self._engine.raw_connection()
        try:
            driver: Any = connection.driver_connection if self._autocommit else None
            if driver is not None:
                driver.autocommit = True
            try:
                with contextlib.closing(connection.cursor()) as cursor:
                    cursor.execute(self.sql, arguments)
                    return [tuple(row) for row in cursor.fetchall()]
            finally:
                # as the engine's other users expect it back from the pool; a lost
                # connection is not (the pool drops it), and the error that lost it
                # is the one to raise, not the driver's refusal to change it now
                if driver is not None and not driver.broken:
                    driver.autocommit = False
        finally:
            # back to the pool, which ends a read transaction (rollback on return)
            connection.close()
