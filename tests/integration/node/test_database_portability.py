"""The node database's repositories behave alike on SQLite and on PostgreSQL: what the
node tests do not reach through the API (peer reports, the byte search for an attached
file, a unique key refused in a transaction, the users command), on both databases; and
the private PostgreSQL server the tests start."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, bindparam, select, update
from sqlalchemy.exc import CompileError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from node.access.roles import Role
from node.access.users import UserStore
from node.cli.main import app as docex
from node.db import open_database
from node.db.prepared_writes import PreparedInsert, PreparedWrite
from node.db.tables import (
    DocumentNumberRow,
    SubmissionRow,
    SubmittedJsonRow,
    UserRow,
    WrappedJsonRow,
)
from node.documents.held_documents import find_document_attaching
from node.errors import DocumentNumberTaken
from node.issuing.outbox import (
    Acceptance,
    NewDocument,
    Outbox,
    SignedDocument,
    StoredResponse,
)
from node.receiving.inbox import Inbox, PeerReport
from node.testing.postgres_server import PostgresServer

pytestmark = pytest.mark.both_databases

ATTACHED = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


@pytest.fixture
def database_location(tmp_path: Path, database_url: str | None) -> Path | str:
    return database_url or tmp_path / "node.sqlite"


def test_a_peer_report_is_kept_as_reported(database_location: Path | str) -> None:
    inbox = Inbox(open_database(database_location))
    report = PeerReport(
        peer="http://127.0.0.1:8001",
        issuer_country="KR",
        batch_root=b"\xbb" * 32,
        target_hash=None,
        cid="bafy-not-a-cid",
        reason="invalid-manifest",
        detail="x" * 5000,  # longer than the column: cut, on both databases
        reported_at=1.5,
    )
    inbox.report(report)

    [kept] = inbox.reports()
    assert kept.detail == "x" * 2000
    assert (kept.peer, kept.batch_root, kept.target_hash, kept.reason) == (
        report.peer,
        report.batch_root,
        None,
        report.reason,
    )


def _issuer(database: Engine) -> int:
    """The id of the issuer ``moit-coo``, added on first use."""
    with Session(database) as session:
        found = session.scalar(select(UserRow.id).where(UserRow.name == "moit-coo"))
    if found is not None:
        return found
    UserStore(database).add("moit-coo", Role.ISSUER, ["coo/1"])
    return _issuer(database)


def _issued_with_attachment(outbox: Outbox, user_id: int) -> str:
    document = {"certificateNumber": "VN-1", "attachments": [{"cid": ATTACHED}]}
    response = outbox.enqueue(
        user_id,
        [
            NewDocument(
                "coo/1",
                json.dumps(document, separators=(",", ":")).encode(),
                ("KR",),
                document_number="VN-1",
            )
        ],
        lambda ids: StoredResponse(202, ",".join(ids).encode()),
    )
    receipt_id = response.body.decode()
    batch_id = outbox.claim_batch(1, 0, force=True)
    assert batch_id is not None
    outbox.record_signed(
        batch_id,
        b"\xaa" * 32,
        ("KR",),
        [SignedDocument(receipt_id, b"\xcc" * 32, "bafy-wrapped", b'{"wrapped":true}')],
    )
    return receipt_id


def test_a_file_attached_to_an_issued_document_leads_to_that_document(
    database_location: Path | str,
) -> None:
    database = open_database(database_location)
    receipt_id = _issued_with_attachment(Outbox(database), _issuer(database))

    held = find_document_attaching(database, "VN", ATTACHED)

    assert held is not None
    assert held.receipt_id == receipt_id
    assert held.addressees == ("KR",)
    assert find_document_attaching(database, "VN", ATTACHED[:-1] + "a") is None


def test_a_number_taken_refuses_the_whole_request_and_the_outbox_goes_on(
    database_location: Path | str,
) -> None:
    """A unique key refused inside a transaction: SQLite goes on in it, PostgreSQL aborts
    it; the outbox rolls back and reads the first receipt on both."""
    database = open_database(database_location)
    outbox = Outbox(database)
    first = _issued_with_attachment(outbox, _issuer(database))

    with pytest.raises(DocumentNumberTaken) as refused:
        _issued_with_attachment(outbox, _issuer(database))

    assert refused.value.first_receipt == first
    assert outbox.count_by_state() == {"batched": 1}


def test_the_outbox_rows_written_in_one_statement_read_back_as_the_orm_wrote_them(
    database_location: Path | str,
) -> None:
    """The outbox writes its per-document rows with compiled statements and the driver's
    own values (node.db.prepared_writes): every column reads back with its type on both
    databases, a group's requests each with their own user, time and numbers."""
    database = open_database(database_location)
    user = _issuer(database)
    outbox = Outbox(database)
    plain = NewDocument("coo/1", b'{"n":1}', (), document_number="VN-7")
    sealed = NewDocument("coo/1", b'{"n":"\xc3\xa9"}', ("KR", "TH"), True, 3, "VN-8")
    unnumbered = NewDocument("coo/1", b'{"n":3}', ("KR",))
    answers = outbox.enqueue_many(
        [
            Acceptance(user, [plain], lambda ids: StoredResponse(202, ids[0].encode()), None, 10.5),
            Acceptance(
                user,
                [sealed, unnumbered],
                lambda ids: StoredResponse(202, ",".join(ids).encode()),
                None,
                11.25,
            ),
        ]
    )
    assert all(isinstance(answer, StoredResponse) for answer in answers)
    first = answers[0].body.decode()  # type: ignore[union-attr]
    second, third = answers[1].body.decode().split(",")  # type: ignore[union-attr]

    with Session(database) as session:
        rows = {row.id: row for row in session.scalars(select(SubmissionRow))}
        numbers = dict(
            session.execute(select(DocumentNumberRow.document_number, DocumentNumberRow.receipt_id))
            .tuples()
            .all()
        )
    assert set(rows) == {first, second, third}
    assert numbers == {"VN-7": first, "VN-8": second}
    row = rows[second]
    with Session(database) as session:
        submitted = session.get(SubmittedJsonRow, second)
        assert session.get(WrappedJsonRow, second) is None  # not signed yet
    assert submitted is not None
    assert (row.user_id, row.document_type, submitted.document_json) == (
        user,
        "coo/1",
        sealed.document_json,
    )
    assert (row.addressees, row.confidential, row.allowance) == ("KR,TH", True, 3)
    assert (row.accepted_at, row.state, row.batch_id) == (11.25, "pending", None)
    assert rows[first].confidential is False
    assert rows[first].accepted_at == 10.5

    batch_id = outbox.claim_batch(3, 0, force=True)
    assert batch_id is not None
    claimed = outbox.batch(batch_id)
    assert [receipt for receipt, *_ in claimed.documents] == [first, second, third]
    outbox.record_signed(
        batch_id,
        b"\xaa" * 32,
        ("KR", "TH"),
        [
            SignedDocument(receipt, bytes([n]) * 32, f"bafy-{n}", b'{"w":%d}' % n)
            for n, receipt in enumerate((first, second, third))
        ],
    )
    with Session(database) as session:
        signed = session.get(SubmissionRow, third)
        wrapped = session.get(WrappedJsonRow, third)
        assert signed is not None
        assert wrapped is not None
        assert (signed.state, signed.batch_id, signed.position) == ("batched", batch_id, 2)
        assert (signed.target_hash, signed.cid, wrapped.wrapped_json) == (
            b"\x02" * 32,
            "bafy-2",
            b'{"w":2}',
        )


def test_a_compiled_insert_sends_its_rows_in_statements_of_a_few_and_loses_none(
    database_location: Path | str,
) -> None:
    database = open_database(database_location)
    columns = ("name", "role", "document_types", "created_at")
    users = PreparedInsert(database, UserRow, columns, per_statement=2)
    rows = [(f"user-{n}", "issuer", f"coo/{n}", 100.0 + n) for n in range(5)]

    with database.begin() as connection:
        users.execute_many(connection, rows)

    with Session(database) as session:
        stored = session.execute(
            select(UserRow.name, UserRow.role, UserRow.document_types, UserRow.created_at).order_by(
                UserRow.name
            )
        ).all()
    assert [tuple(row) for row in stored] == rows


def test_a_compiled_write_names_exactly_the_columns_it_binds(
    database_location: Path | str,
) -> None:
    database = open_database(database_location)
    statement = (
        update(UserRow)
        .where(UserRow.id == bindparam("user_id"))
        .values(revoked_at=bindparam("revoked_at"))
    )

    with pytest.raises(ValueError, match="binds"):
        PreparedWrite(database, statement, ("revoked_at",))
    write = PreparedWrite(database, statement, ("revoked_at", "user_id"))
    with database.connect() as connection, pytest.raises(ValueError, match="2 values"):
        write.execute_many(connection, [(1.0,)])
    with pytest.raises(ValueError, match="default"):
        PreparedInsert(database, UserRow, ("name", "role", "created_at"))
    with pytest.raises(CompileError):
        PreparedInsert(database, UserRow, ("name", "nickname"))


def test_the_users_command_finds_the_node_database_by_the_same_setting(
    tmp_path: Path, database_location: Path | str, database_url: str | None
) -> None:
    runner = CliRunner()
    data_dir = ["--data-dir", str(tmp_path)]
    env = {"DOCEX_DATABASE_URL": database_url} if database_url is not None else {}

    refused = runner.invoke(docex, ["users", "list", *data_dir], env=env)
    assert refused.exit_code != 0
    assert "start the node" in refused.output

    open_database(database_location).dispose()  # as `docex run` leaves it
    added = runner.invoke(
        docex, ["users", "add", "hq-admin", "--role", "admin", *data_dir], env=env
    )
    listed = runner.invoke(docex, ["users", "list", *data_dir], env=env)

    assert added.exit_code == 0, added.output
    assert "hq-admin" in listed.output


@pytest.mark.postgres
def test_the_test_server_listens_on_loopback_only_unprivileged_and_stops_by_its_pid(
    tmp_path: Path,
) -> None:
    server = PostgresServer(tmp_path / "postgres")
    server.start()
    pid = server.pid
    assert pid is not None
    try:
        with psycopg.connect(server.url().replace("+psycopg", "")) as connection:
            settings = dict(
                connection.execute(
                    "SELECT name, setting FROM pg_settings"
                    " WHERE name IN ('listen_addresses', 'unix_socket_directories')"
                ).fetchall()
            )
        assert settings == {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(tmp_path / "postgres" / "socket"),
        }
        assert Path(f"/proc/{pid}").stat().st_uid != 0  # PostgreSQL refuses root anyway
    finally:
        server.stop()
    assert server.pid is None
    assert not Path(f"/proc/{pid}").exists()
