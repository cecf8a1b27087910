"""The node database: lookups on public paths use indexes, also in an older database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from node.db.schema import open_database

pytestmark = pytest.mark.integration

LOOKUPS = [
    "SELECT * FROM outbox WHERE target_hash = x'00'",
    "SELECT * FROM outbox WHERE cid = 'bafy'",
    "SELECT * FROM inbox WHERE target_hash = x'00'",
    "SELECT * FROM inbox WHERE cid = 'bafy'",
]


def _plan(path: Path, query: str) -> str:
    with sqlite3.connect(path) as connection:
        return " ".join(row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {query}"))


@pytest.mark.parametrize("query", LOOKUPS)
def test_a_document_is_found_by_target_hash_or_cid_without_a_table_scan(
    tmp_path: Path, query: str
) -> None:
    path = tmp_path / "node.sqlite"
    open_database(path).dispose()
    plan = _plan(path, query)
    assert "INDEX" in plan, plan
    assert not plan.startswith("SCAN"), plan


def test_a_database_without_the_indexes_gets_them_on_open(tmp_path: Path) -> None:
    path = tmp_path / "node.sqlite"
    open_database(path).dispose()
    with sqlite3.connect(path) as connection:
        connection.execute("DROP INDEX outbox_cid")  # as an earlier docex left it
    assert _plan(path, LOOKUPS[1]).startswith("SCAN")
    open_database(path).dispose()
    assert "INDEX outbox_cid" in _plan(path, LOOKUPS[1])
