"""The verifier's prepared reads (ledger.prepared_reads) on the pool's connections.

Invariant: a read gives its connection back to the pool as the engine's other users
expect it (in PostgreSQL, not in autocommit): a later transaction on that connection
still rolls back, whether the read answered or failed. On PostgreSQL a read is one
statement outside any transaction (no ``BEGIN`` and ``ROLLBACK`` round trips around it).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, bindparam, event, func, select
from sqlalchemy.orm import Session

from ledger import queries
from ledger.index_schema import Checkpoint
from ledger.prepared_reads import PreparedRead

_CHECKPOINT_READ = select(Checkpoint.block_number).where(Checkpoint.stream == bindparam("stream"))
#: a table the index does not have: its read fails on the server
_MISSING = Table("no_such_table", MetaData(), Column("a", Integer))


def _checked_out(engine: Engine) -> list[Any]:
    """The DBAPI connections the engine's pool hands out from now on, in order."""
    connections: list[Any] = []
    event.listen(engine, "checkout", lambda dbapi, _record, _proxy: connections.append(dbapi))
    return connections


def _rolled_back_write_is_gone(engine: Engine, stream: str) -> bool:
    with Session(engine) as session:
        session.add(Checkpoint(stream=stream, block_number=7, block_hash=b"\x01" * 32))
        session.flush()
        session.rollback()
    return queries.checkpoint(engine, stream) is None


def _assert_the_reads_connection_still_rolls_back(
    engine: Engine, connections: list[Any], stream: str
) -> None:
    assert _rolled_back_write_is_gone(engine, stream)
    # the write's transaction ran on the very connection the read had used
    assert len(connections) >= 2
    assert connections[1] is connections[0]
    if engine.dialect.name == "postgresql":
        assert connections[0].autocommit is False


@pytest.mark.both_databases
def test_a_later_transaction_on_the_reads_connection_still_rolls_back(
    index_engine: Engine,
) -> None:
    read = PreparedRead(index_engine, _CHECKPOINT_READ)
    connections = _checked_out(index_engine)

    assert read.rows({"stream": "none"}) == []

    _assert_the_reads_connection_still_rolls_back(index_engine, connections, "after-a-read")


@pytest.mark.both_databases
def test_a_failed_read_leaves_its_connection_as_it_found_it(index_engine: Engine) -> None:
    failing = PreparedRead(index_engine, select(_MISSING.c.a))
    connections = _checked_out(index_engine)

    with pytest.raises(Exception, match="no_such_table"):
        failing.rows({})

    _assert_the_reads_connection_still_rolls_back(index_engine, connections, "after-a-failed-read")


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_on_postgresql_a_read_opens_no_transaction(index_engine: Engine) -> None:
    from psycopg.pq import TransactionStatus

    read = PreparedRead(index_engine, _CHECKPOINT_READ)
    at_return: list[TransactionStatus] = []
    event.listen(
        index_engine,
        "reset",
        lambda dbapi, _record, _state: at_return.append(dbapi.info.transaction_status),
    )

    read.rows({"stream": "none"})
    read.rows({"stream": "none"})

    # given back idle: the driver sent no BEGIN, so the pool has no ROLLBACK to send
    assert at_return == [TransactionStatus.IDLE, TransactionStatus.IDLE]


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_on_postgresql_a_read_that_loses_its_connection_raises_the_servers_error(
    index_engine: Engine,
) -> None:
    from psycopg.errors import AdminShutdown

    # the read's own server process ends (as at a server restart)
    read = PreparedRead(index_engine, select(func.pg_terminate_backend(func.pg_backend_pid())))

    with pytest.raises(AdminShutdown):
        read.rows({})

    # the pool dropped the lost connection: the next read answers
    assert PreparedRead(index_engine, _CHECKPOINT_READ).rows({"stream": "none"}) == []
