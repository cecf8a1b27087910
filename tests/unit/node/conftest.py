"""Node unit tests: the repositories over an in-memory SQLite database (no file, no chain,
no HTTP), with a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from node.db.tables import NodeBase, UserRow

#: a moment in 2023, so that times read as times
START = 1_700_000_000.0


class Clock:
    """A clock that stands still until the test moves it."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _foreign_keys_on(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA foreign_keys=ON")  # as node.db.schema sets it


@pytest.fixture
def database() -> Iterator[Engine]:
    """The node schema in memory: one connection shared by every session of the test."""
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    event.listen(engine, "connect", _foreign_keys_on)
    NodeBase.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _add_user(database: Engine, name: str) -> int:
    with Session(database) as session:
        row = UserRow(name=name, role="issuer", document_types="coo/1", created_at=START)
        session.add(row)
        session.commit()
        return row.id


@pytest.fixture
def issuer(database: Engine) -> int:
    """The id of a user documents are issued by (the outbox's foreign key)."""
    return _add_user(database, "moit-coo-office")


@pytest.fixture
def other_issuer(database: Engine) -> int:
    return _add_user(database, "kcs-coo-office")
