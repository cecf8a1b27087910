"""``docex schema`` and ``docex sample``, run in-process."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from certificates.schemas import DOCUMENT_TYPES, document_json_schema, validate_document
from node.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize("type_id", ["coo/1", "permit/1", "declaration/1"])
def test_schema_prints_the_json_schema_of_a_type(type_id: str) -> None:
    result = runner.invoke(app, ["schema", type_id])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == document_json_schema(type_id)


def test_schema_list_names_every_type() -> None:
    result = runner.invoke(app, ["schema", "--list"])
    assert result.exit_code == 0
    listed = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert listed == list(DOCUMENT_TYPES)


@pytest.mark.parametrize("command", [["schema", "coo/9"], ["sample", "invoice/1"]])
def test_unknown_type_is_a_usage_error_listing_the_known_types(command: list[str]) -> None:
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "coo/1, permit/1, declaration/1" in result.stderr


def test_schema_without_a_type_is_a_usage_error() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 2
    assert "--list" in result.stderr


def test_sample_prints_a_valid_document_of_the_size_asked() -> None:
    result = runner.invoke(app, ["sample", "declaration/1", "--index", "4", "--items", "2"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert validate_document(document).data == document
    assert len(document["items"]) == 2


def test_sample_refuses_more_items_than_a_document_may_hold() -> None:
    result = runner.invoke(app, ["sample", "coo/1", "--items", "201"])
    assert result.exit_code == 2
    assert "items" in result.stderr
