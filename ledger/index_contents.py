"""The whole content of an event index, to compare two indexes (a rebuilt one with the
live one, an index read in pages with one read in a single request)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from ledger.index_schema import IndexBase


def index_contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every index table's rows, sorted; autoincrement ids are left out (they number
    rows in the order they were written, which two equal indexes need not share)."""
    contents: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in IndexBase.metadata.sorted_tables:
            columns = [
                column
                for column in table.columns
                if not (column.primary_key and column.autoincrement is True)
            ]
            contents[table.name] = sorted(
                (tuple(row) for row in connection.execute(select(*columns))), key=repr
            )
    return contents
