"""Writes on the issuing path, compiled once and sent as one ``executemany`` of plain values.

The outbox writes a row per document at each step of issuing (accepted, claimed into a
batch, signed). Through the ORM or a Core ``execute`` each of those statements builds
its cache key, looks the compiled form up and runs every value of every row through its
column type's processor: under mixed load that was most of the acceptance writer's and
the batcher's own CPU (bench.mixed_load, ``profile``), for values the driver takes as
they are.

:class:`PreparedWrite` compiles an ``INSERT`` or ``UPDATE`` with one named bind
parameter per column once for the engine's dialect, and runs it on the caller's
connection (in its transaction) with rows given as tuples in the declared column order.
Only columns whose Python value the driver takes as it is belong here (integers,
floats, booleans, text, ``bytes``, None): SQLite and psycopg both do.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase


class PreparedWrite:
    """One ``INSERT`` or ``UPDATE`` compiled for ``engine``'s dialect, its bind parameters
    named ``columns``; :meth:`execute_many` runs it once per row."""

    def __init__(self, engine: Engine, statement: UpdateBase, columns: Sequence[str]) -> None:
        compiled = statement.compile(dialect=engine.dialect)
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"not a SQL statement: {statement!r}")
        self.sql = compiled.string
        self.columns = tuple(columns)
        if set(compiled.binds) != set(self.columns):
            raise ValueError(
                f"the statement binds {sorted(compiled.binds)}, not {sorted(self.columns)}"
            )
        #: for a positional paramstyle (SQLite's ``?``): each row's values in bind order
        self._order: tuple[int, ...] | None = (
            tuple(self.columns.index(name) for name in compiled.positiontup or ())
            if compiled.positional
            else None
        )
        #: the rows can be sent as they are (positional, binds in ``columns`` order)
        self._as_given = self._order == tuple(range(len(self.columns)))

    def execute_many(self, connection: Connection, rows: Sequence[Sequence[object]]) -> None:
        """Run the statement for each of ``rows`` (values in ``columns`` order), in
        ``connection``'s transaction."""
        if not rows:
            return
        for row in rows:
            if len(row) != len(self.columns):
                raise ValueError(f"expected {len(self.columns)} values, got {len(row)}")
        order = self._order
        if self._as_given:
            connection.exec_driver_sql(self.sql, list(rows))
        elif order is None:
            named = [dict(zip(self.columns, row, strict=True)) for row in rows]
            connection.exec_driver_sql(self.sql, named)
        else:
            positional = [tuple(row[index] for index in order) for row in rows]
            connection.exec_driver_sql(self.sql, positional)
