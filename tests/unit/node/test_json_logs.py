"""The node's JSON logs: what a command prints on stderr around its output."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from node.observability.json_logs import configure_logging


@pytest.fixture
def json_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    migration = logging.getLogger("alembic.runtime.migration")
    filters = migration.filters[:]
    configure_logging("info")
    yield
    root.handlers[:], root.level = handlers, level
    migration.filters[:] = filters


def test_a_database_open_logs_only_the_schemas_steps(
    json_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    migration = logging.getLogger("alembic.runtime.migration")
    migration.info("Context impl SQLiteImpl.")
    migration.info("Will assume non-transactional DDL.")
    migration.info("Running upgrade 0009 -> 0010, receiving_batches.manifest_json")
    migration.warning("Will assume something odd")

    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.err.splitlines()]

    assert captured.out == ""
    assert [line["message"] for line in lines] == [
        "Running upgrade 0009 -> 0010, receiving_batches.manifest_json",
        "Will assume something odd",
    ]
    assert {line["logger"] for line in lines} == {"alembic.runtime.migration"}
