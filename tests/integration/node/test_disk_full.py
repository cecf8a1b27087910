"""A full disk: a clean 507 ``storage-full`` problem, nothing half-stored, an intact
database, and the node serves again once space returns.

SQLite is made to run out of room for real with ``PRAGMA max_page_count`` on every
connection of the node database (the same SQLITE_FULL a full file system gives, without
mounting one; ``make soak`` fills a real tmpfs). ENOSPC from the file system is mapped the
same way (a unit test of :func:`node.http.problems.storage_full_cause`).
"""

from __future__ import annotations

import errno
import sqlite3
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from certificates.schemas.samples import sample_document
from node.http.problems import storage_full_cause
from node.issuing.outbox import SubmissionRow

if TYPE_CHECKING:
    from conftest import NodeUnderTest


def outbox_rows(node: NodeUnderTest) -> int:
    with Session(node.services.database) as session:
        return int(session.scalar(select(func.count()).select_from(SubmissionRow)) or 0)


def test_a_full_database_answers_507_stores_nothing_and_recovers(node: NodeUnderTest) -> None:
    engine = node.services.database
    assert node.issue(sample_document("coo/1", 1)).status_code == 202
    before = outbox_rows(node)
    with engine.connect() as connection:
        pages = int(connection.exec_driver_sql("PRAGMA page_count").scalar_one())

    def no_room(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(engine, "connect", no_room)
    engine.dispose()
    try:
        body = [sample_document("coo/1", i, items=40) for i in range(2, 60)]
        full = node.issue(body)
    finally:
        event.remove(engine, "connect", no_room)
        engine.dispose()

    problem = node.problem(full, 507, "storage-full")
    assert "nothing was stored" in problem["detail"]
    assert outbox_rows(node) == before
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    again = node.issue(body)
    assert again.status_code == 202, again.text
    assert outbox_rows(node) == before + len(body)


def test_enospc_and_sqlite_full_are_found_behind_wrapping_errors() -> None:
    no_space = OSError(errno.ENOSPC, "No space left on device")
    wrapped = RuntimeError("store failed")
    wrapped.__cause__ = no_space
    assert storage_full_cause(wrapped) is no_space
    full = sqlite3.OperationalError("database or disk is full")
    assert storage_full_cause(full) is full
    assert storage_full_cause(OSError(errno.EACCES, "Permission denied")) is None
    assert storage_full_cause(ValueError("no")) is None
