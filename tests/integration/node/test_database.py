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
    # the outbox's partial indexes (revision 0011) serve what the node asks of them
    "SELECT * FROM outbox WHERE cid IN ('bafy', 'bafk')",
    "SELECT id FROM outbox WHERE batch_id = 'b1' ORDER BY position",
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
    with sqlite3.connect(path) as connection:  # as a docex before the lookup indexes left it
        for index in ("outbox_target_hash", "outbox_cid", "inbox_cid"):
            connection.execute(f"DROP INDEX {index}")
        connection.execute("DROP TABLE alembic_version")  # and before Alembic
        connection.execute("DROP TABLE document_numbers")  # and before document numbers
        connection.execute("DROP TABLE share_links")  # and before content access (0007)
        connection.execute("DROP TABLE member_request_nonces")
        connection.execute("DROP TABLE credential_status")  # and before the VC export (0008)
        connection.execute("DROP TABLE credential_keys")
        for column in ("received_from", "fallbacks_json"):  # and before 0009
            connection.execute(f"ALTER TABLE inbox DROP COLUMN {column}")
        connection.execute("ALTER TABLE receiving_batches DROP COLUMN manifest_json")  # 0010
        for table in ("outbox_documents", "outbox_wrapped"):  # and before 0011
            connection.execute(f"DROP TABLE {table}")
        connection.execute("ALTER TABLE outbox ADD COLUMN document_json BLOB NOT NULL DEFAULT x''")
        connection.execute("ALTER TABLE outbox ADD COLUMN wrapped_json BLOB")
    assert _plan(path, LOOKUPS[1]).startswith("SCAN")
    open_database(path).dispose()
    assert "INDEX outbox_cid" in _plan(path, LOOKUPS[1])


def test_a_pending_row_takes_no_entry_in_the_indexes_of_columns_it_has_not_set(
    tmp_path: Path,
) -> None:
    path = tmp_path / "node.sqlite"
    open_database(path).dispose()
    with sqlite3.connect(path) as connection:
        sql = dict(
            connection.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox'"
            ).fetchall()
        )
    for name, column in (
        ("outbox_target_hash", "target_hash"),
        ("outbox_cid", "cid"),
        ("ix_outbox_batch_id", "batch_id"),
    ):
        assert sql[name].endswith(f"WHERE {column} IS NOT NULL"), sql[name]
