"""Writes on the issuing path, compiled once and sent with the driver's own values.

The outbox writes a row per document at each step of issuing (accepted, claimed into a
batch, signed). Through the ORM or a Core ``execute`` each of those statements builds
its cache key, looks the compiled form up and runs every value of every row through its
column type's processor: under mixed load that was most of the acceptance writer's and
the batcher's own CPU (bench.mixed_load, ``profile``), for values the driver takes as
they are. Here a statement is compiled once for the engine's dialect, and rows are given
as tuples in a declared column order:

- :class:`PreparedInsert` sends many rows as multi-row ``VALUES`` statements (up to
  ``per_statement`` rows each). One statement is one step of the database for all its
  rows: SQLite's driver gives Python's GIL away at every step, and in a process whose
  event loop is busy each step then waits for the GIL to come back (a row per step made
  the acceptance writer's group commits wait, and issuing slower, under mixed load);
- :class:`PreparedWrite` runs one statement per row (``executemany``), for the updates
  by primary key.

Only columns whose Python value the driver takes as it is belong here (integers,
floats, booleans, text, ``bytes``, None): SQLite and psycopg both do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert
from sqlalchemy.sql.dml import UpdateBase


class PreparedWrite:
    """One ``INSERT`` or ``UPDATE`` compiled for ``engine``'s dialect, its bind parameters
    named ``columns``; :meth:`execute_many` runs it once per row."""

    def __init__(self, engine: Engine, statement: UpdateBase, columns: Sequence[str]) -> None:
        # imported here: the ledger package loads alembic, which node/db leaves to the
        # opening of a database (tests/unit/node/test_db_layering.py)
        from ledger.prepared_reads import compiled_for

        compiled = compiled_for(engine, statement)
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
        _check_widths(rows, len(self.columns))
        order = self._order
        if self._as_given:
            connection.exec_driver_sql(self.sql, list(rows))
        elif order is None:
            named = [dict(zip(self.columns, row, strict=True)) for row in rows]
            connection.exec_driver_sql(self.sql, named)
        else:
            positional = [tuple(row[index] for index in order) for row in rows]
            connection.exec_driver_sql(self.sql, positional)


class PreparedInsert:
    """An ``INSERT`` of ``columns`` into ``entity``'s table (the others take their
    defaults) for many rows at once: multi-row ``VALUES`` statements of up to
    ``per_statement`` rows, each size compiled once for ``engine``'s dialect."""

    def __init__(
        self, engine: Engine, entity: Any, columns: Sequence[str], *, per_statement: int = 64
    ) -> None:
        if per_statement < 1:
            raise ValueError("per_statement must be at least 1")
        self._engine = engine
        self._entity = entity
        self.columns = tuple(columns)
        self.per_statement = per_statement
        #: rows -> (SQL, for a positional paramstyle each bind's (row, column), else None)
        self._statements: dict[int, tuple[str, tuple[tuple[int, int], ...] | None]] = {}
        self._statement(1)  # an unknown column or a missing default fails here, not later

    def _statement(self, rows: int) -> tuple[str, tuple[tuple[int, int], ...] | None]:
        found = self._statements.get(rows)
        if found is None:
            names = {
                f"{column}_{row}": (row, index)
                for row in range(rows)
                for index, column in enumerate(self.columns)
            }
            statement = insert(self._entity).values(
                [
                    {column: bindparam(f"{column}_{row}") for column in self.columns}
                    for row in range(rows)
                ]
            )
            from ledger.prepared_reads import compiled_for  # as in PreparedWrite

            compiled = compiled_for(self._engine, statement)
            if set(compiled.binds) != set(names):
                # another column's Python-side default would be a bind of its own
                raise ValueError(
                    f"the insert binds {sorted(set(compiled.binds) - set(names))} beside the "
                    f"given columns: give every column that has a default"
                )
            order = (
                tuple(names[name] for name in compiled.positiontup or ())
                if compiled.positional
                else None
            )
            found = (compiled.string, order)
            self._statements[rows] = found
        return found

    def execute_many(self, connection: Connection, rows: Sequence[Sequence[object]]) -> None:
        """Insert ``rows`` (values in ``columns`` order) in ``connection``'s transaction."""
        _check_widths(rows, len(self.columns))
        for start in range(0, len(rows), self.per_statement):
            chunk = rows[start : start + self.per_statement]
            sql, order = self._statement(len(chunk))
            if order is None:
                connection.exec_driver_sql(
                    sql,
                    {
                        f"{column}_{row}": value
                        for row, values in enumerate(chunk)
                        for column, value in zip(self.columns, values, strict=True)
                    },
                )
            else:
                connection.exec_driver_sql(sql, tuple(chunk[row][index] for row, index in order))


def _check_widths(rows: Sequence[Sequence[object]], width: int) -> None:
    for row in rows:
        if len(row) != width:
            raise ValueError(f"expected {width} values, got {len(row)}")
