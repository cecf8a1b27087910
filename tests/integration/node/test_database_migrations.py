"""The node schema is migrated by Alembic: a fresh database matches the models, and a
``node.sqlite`` made by earlier docex code (fixtures in release_databases/, made by that
code: see make_release_databases.py) upgrades in place, keeping its rows. On PostgreSQL
(marker ``postgres``) the same migrations run from empty, up and down, all or nothing."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from ledger.index_schema import IndexBase
from ledger.index_store import open_index
from node.db import open_database, upgrade
from node.db.schema import SCHEMA, alembic_config
from node.db.tables import (
    AmendmentRow,
    BatchRow,
    IdempotencyRow,
    InboxRow,
    NodeBase,
    PeerReportRow,
    ReceivingBatchRow,
    SubmissionRow,
    SubmittedJsonRow,
    TokenRow,
    UserRow,
    WrappedJsonRow,
)

RELEASE_DATABASES = Path(__file__).parent / "release_databases"
HEAD = "0011"


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), NodeBase.metadata))


def _revision(engine: Engine) -> str:
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    assert revision is not None
    return revision


def _schema(engine: Engine) -> dict[str, object]:
    """Tables, columns (name, type, nullable) and indexes, as the database reports them;
    not the columns' order (a column added later comes last)."""
    inspector = inspect(engine)
    return {
        table: (
            sorted(
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ),
            sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)),
        )
        for table in sorted(inspector.get_table_names())
    }


def _release_copy(name: str, tmp_path: Path) -> Path:
    path = tmp_path / "node.sqlite"
    shutil.copyfile(RELEASE_DATABASES / name, path)
    return path


def test_a_fresh_database_has_exactly_the_tables_of_the_models(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "node.sqlite")
    assert _differences(engine) == []
    assert set(inspect(engine).get_table_names()) == {*NodeBase.metadata.tables, "alembic_version"}
    assert _revision(engine) == HEAD


def test_opening_an_up_to_date_database_again_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "node.sqlite"
    before = _schema(open_database(path))
    engine = open_database(path)
    assert _schema(engine) == before
    assert _revision(engine) == HEAD


def test_the_release_database_upgrades_in_place_and_keeps_every_row(tmp_path: Path) -> None:
    path = _release_copy("node-f67523a.sqlite", tmp_path)
    with sqlite3.connect(path) as connection:
        assert "alembic_version" not in {
            row[0] for row in connection.execute("SELECT name FROM sqlite_master")
        }
    engine = open_database(path)
    assert _differences(engine) == []
    assert _schema(engine) == _schema(open_database(tmp_path / "fresh.sqlite"))
    assert _revision(engine) == HEAD
    with Session(engine) as session:
        assert session.scalars(select(UserRow.name).order_by(UserRow.id)).all() == [
            "moit-coo-office",
            "hq-admin",
        ]
        assert len(session.scalars(select(TokenRow)).all()) == 2
        outbox = session.execute(
            select(SubmissionRow, SubmittedJsonRow.document_json).join(
                SubmittedJsonRow, SubmittedJsonRow.receipt_id == SubmissionRow.id
            )
        ).all()
        assert sorted(r.state for r, _ in outbox) == ["anchored", "anchored", "pending"]
        assert sorted((document, r.confidential) for r, document in outbox) == [
            (b'{"number":"VN-1"}', False),
            (b'{"number":"VN-1"}', False),
            (b'{"number":"VN-2"}', True),
        ]
        wrapped = dict(
            session.execute(select(WrappedJsonRow.receipt_id, WrappedJsonRow.wrapped_json)).all()
        )
        assert sorted(wrapped) == sorted(r.id for r, _ in outbox if r.state == "anchored")
        batch = session.scalars(select(BatchRow)).one()
        assert (batch.state, batch.root, batch.block_number) == ("anchored", b"\xaa" * 32, 42)
        key = session.get(IdempotencyRow, (1, "key-1"))
        assert key is not None
        assert (key.response_status, key.response_body) == (202, b"ok")
        assert session.get(InboxRow, b"\xcc" * 32) is not None
        assert session.get(ReceivingBatchRow, b"\xbb" * 32) is not None
        assert session.scalars(select(PeerReportRow.reason)).all() == ["bad"]
        amendment = session.get(AmendmentRow, "a" * 32)
        assert amendment is not None
        assert amendment.replacement_id == "b" * 32


def test_a_release_database_where_no_node_started_gets_the_amendments_table(
    tmp_path: Path,
) -> None:
    path = _release_copy("node-f67523a-users-only.sqlite", tmp_path)
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert "amendments" not in tables  # DocumentLifecycle created it when a node started
    engine = open_database(path)
    assert _differences(engine) == []
    assert "amendments" in inspect(engine).get_table_names()
    with Session(engine) as session:
        assert len(session.scalars(select(UserRow)).all()) == 2


def test_a_database_from_before_the_lookup_indexes_gets_them(tmp_path: Path) -> None:
    path = _release_copy("node-62e57d6.sqlite", tmp_path)
    engine = open_database(path)
    assert _differences(engine) == []
    indexes = {i["name"] for i in inspect(engine).get_indexes("outbox")}
    assert {"outbox_target_hash", "outbox_cid"} <= indexes
    assert "inbox_cid" in {i["name"] for i in inspect(engine).get_indexes("inbox")}


def test_a_database_from_before_the_confidential_column_gets_it_with_rows_plain(
    tmp_path: Path,
) -> None:
    path = tmp_path / "node.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE alembic_version")  # as before Alembic
        connection.exec_driver_sql(
            "INSERT INTO users (id, name, role, document_types, created_at)"
            " VALUES (1, 'moit', 'issuer', 'coo/1', 0)"
        )
        connection.exec_driver_sql(
            "INSERT INTO outbox (id, user_id, document_type, document_json, addressees,"
            " accepted_at, state) VALUES ('r1', 1, 'coo/1', x'7b7d', 'KR', 0, 'pending')"
        )
    engine.dispose()
    upgraded = open_database(path)
    assert _differences(upgraded) == []
    with Session(upgraded) as session:
        row = session.get(SubmissionRow, "r1")
        assert row is not None
        assert row.confidential is False


@pytest.mark.parametrize("revision", ["0001", "0002", "0003"])
def test_every_revision_upgrades_to_the_models(tmp_path: Path, revision: str) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'node.sqlite'}")
    upgrade(engine, revision)
    upgrade(engine)
    assert _differences(engine) == []


def test_every_revision_downgrades_to_the_schema_it_was_upgraded_from(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'node.sqlite'}")
    config = alembic_config(engine)
    schemas = {}
    for revision in ["0001", "0002", "0003", HEAD]:
        upgrade(engine, revision)
        schemas[revision] = _schema(engine)
    for revision in ["0003", "0002", "0001"]:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
        assert _schema(engine) == schemas[revision], revision
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}


def _outbox_at_0010(engine: Engine) -> None:
    """Rows as revision 0010 kept them: each document's bytes in its outbox row."""
    upgrade(engine, "0010")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO users (id, name, role, document_types, created_at)"
            " VALUES (1, 'moit', 'issuer', 'coo/1', 0)"
        )
        connection.execute(
            text(
                "INSERT INTO outbox (id, user_id, document_type, document_json, addressees,"
                " accepted_at, state, target_hash, cid, wrapped_json) VALUES (:id, 1, 'coo/1',"
                " :document, 'KR', :at, :state, :target, :cid, :wrapped)"
            ),
            [
                {
                    "id": "r1",
                    "document": b"signed document",
                    "at": 0.0,
                    "state": "anchored",
                    "target": b"\x01" * 32,
                    "cid": "bafy1",
                    "wrapped": b"wrapped document",
                },
                {
                    "id": "r2",
                    "document": b"pending document",
                    "at": 1.0,
                    "state": "pending",
                    "target": None,
                    "cid": None,
                    "wrapped": None,
                },
            ],
        )


def _documents_apart(engine: Engine) -> tuple[dict[str, bytes], dict[str, bytes]]:
    with Session(engine) as session:
        submitted = session.execute(
            select(SubmittedJsonRow.receipt_id, SubmittedJsonRow.document_json)
        )
        wrapped = session.execute(select(WrappedJsonRow.receipt_id, WrappedJsonRow.wrapped_json))
        return dict(submitted.all()), dict(wrapped.all())


def _documents_in_rows(engine: Engine) -> list[tuple[str, bytes, bytes | None]]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT id, document_json, wrapped_json FROM outbox ORDER BY id"
        ).all()
    return [
        (id_, bytes(document), None if wrapped is None else bytes(wrapped))
        for id_, document, wrapped in rows
    ]


def _partial_indexes(engine: Engine) -> set[str]:
    """The outbox's indexes with a WHERE clause, as the database reports them."""
    return {
        index["name"]
        for index in inspect(engine).get_indexes("outbox")
        if any(key.endswith("_where") for key in index.get("dialect_options", {}))
    }


def _check_documents_move_apart_and_back(engine: Engine) -> None:
    _outbox_at_0010(engine)
    before = _documents_in_rows(engine)
    upgrade(engine, "0011")
    assert _differences(engine) == []
    assert _documents_apart(engine) == (
        {"r1": b"signed document", "r2": b"pending document"},
        {"r1": b"wrapped document"},
    )
    columns = {column["name"] for column in inspect(engine).get_columns("outbox")}
    assert not {"document_json", "wrapped_json"} & columns
    assert _partial_indexes(engine) == {"outbox_target_hash", "outbox_cid", "ix_outbox_batch_id"}
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    assert _documents_in_rows(engine) == before
    assert _partial_indexes(engine) == set()
    assert not {"outbox_documents", "outbox_wrapped"} & set(inspect(engine).get_table_names())


def test_revision_0011_moves_each_document_to_its_own_table_and_back(tmp_path: Path) -> None:
    _check_documents_move_apart_and_back(create_engine(f"sqlite:///{tmp_path / 'node.sqlite'}"))


def test_a_migration_that_fails_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "node.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE alembic_version")  # as before Alembic
        connection.exec_driver_sql("CREATE TABLE peer_reports (id INTEGER)")  # in 0002's way
    before = _schema(engine)
    engine.dispose()
    with pytest.raises(OperationalError, match="peer_reports already exists"):
        open_database(path)
    assert _schema(create_engine(f"sqlite:///{path}")) == before  # not stamped, nothing added


# --- PostgreSQL (DOCEX_DATABASE_URL): the same migrations, in the node schema ------------


def _postgres(url: str) -> Engine:
    from ledger.sql_engines import postgres_engine

    return postgres_engine(url, SCHEMA)


@pytest.mark.postgres
def test_a_fresh_postgres_database_has_exactly_the_tables_of_the_models(
    postgres_database: str,
) -> None:
    engine = open_database(postgres_database)
    assert _differences(engine) == []
    assert set(inspect(engine).get_table_names()) == {*NodeBase.metadata.tables, "alembic_version"}
    assert _revision(engine) == HEAD
    before = _schema(engine)
    again = open_database(postgres_database)
    assert _schema(again) == before
    index = open_index(postgres_database)  # beside it, in a schema of its own
    with index.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), IndexBase.metadata) == []
    assert set(inspect(index).get_table_names()) == {*IndexBase.metadata.tables, "alembic_version"}
    for opened in (engine, again, index):
        opened.dispose()


@pytest.mark.postgres
def test_every_revision_upgrades_and_downgrades_on_postgres(postgres_database: str) -> None:
    engine = _postgres(postgres_database)
    config = alembic_config(engine)
    schemas = {}
    for revision in ["0001", "0002", "0003", HEAD]:
        upgrade(engine, revision)
        schemas[revision] = _schema(engine)
    assert _differences(engine) == []
    for revision in ["0003", "0002", "0001"]:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
        assert _schema(engine) == schemas[revision], revision
    engine.dispose()


@pytest.mark.postgres
def test_revision_0011_moves_each_document_apart_and_back_on_postgres(
    postgres_database: str,
) -> None:
    engine = _postgres(postgres_database)
    try:
        _check_documents_move_apart_and_back(engine)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_migration_that_fails_on_postgres_leaves_the_database_as_it_was(
    postgres_database: str,
) -> None:
    engine = _postgres(postgres_database)
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE peer_reports (id INTEGER)")  # in 0002's way
    before = _schema(engine)
    with pytest.raises(ProgrammingError, match="peer_reports"):
        open_database(postgres_database)
    assert _schema(engine) == before  # PostgreSQL's DDL rolled back with the transaction
    assert _revision(engine) == "0001"
    engine.dispose()
