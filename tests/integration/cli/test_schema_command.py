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


# --- docex schema TYPE --mapping: the standards, from the table the VC export uses ---------


@pytest.mark.parametrize("type_id", ["coo/1", "coo/2", "permit/1", "declaration/1"])
def test_schema_mapping_shows_every_field_in_each_standard(type_id: str) -> None:
    from certificates.schemas import FIELD_MAPPINGS

    result = runner.invoke(app, ["schema", type_id, "--mapping", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["path"] for row in rows] == [row.path for row in FIELD_MAPPINGS[type_id]]
    assert set(rows[0]) == {"path", "formD", "uncefact", "untp", "wco", "credential"}

    shown = runner.invoke(app, ["schema", type_id, "--mapping"])
    assert shown.exit_code == 0
    for row in FIELD_MAPPINGS[type_id]:
        assert f"\n{row.path}\n" in shown.stdout
        assert f"in the VC       {row.credential}\n" in shown.stdout


def test_schema_mapping_to_form_d_names_the_boxes_the_vc_export_fills() -> None:
    from adapters.formats.vc import export_credential
    from certificates.schemas.samples import sample_document
    from certificates.signing import Eip712Domain
    from certificates.wrapping import wrap_batch

    result = runner.invoke(app, ["schema", "coo/2", "--mapping", "--standard", "form-d"])
    assert result.exit_code == 0, result.output
    assert "/items/*/originCriterion" in result.stdout
    assert "Box 8: origin criterion" in result.stdout
    assert "/documentType" not in result.stdout  # Form D has no such box

    in_vc = json.loads(
        runner.invoke(app, ["schema", "coo/2", "--mapping", "--standard", "vc", "--json"]).stdout
    )
    domain = Eip712Domain(chain_id=31337, verifying_contract="0x" + "11" * 20)
    documents = [validate_document(sample_document("coo/2", i)) for i in (1, 2)]
    wrapped = next(iter(wrap_batch(documents, signing_key=bytes(range(1, 33)), domain=domain)))
    subject = export_credential(wrapped, issuer_did="did:web:customs.example.vn")[
        "credentialSubject"
    ]
    pointer = in_vc["/items/*/originCriterion"].replace("*", "0").strip("/").split("/")
    value: object = subject
    for token in pointer:
        value = value[int(token)] if isinstance(value, list) else value[token]  # type: ignore[index]
    assert value == sample_document("coo/2", 1)["items"][0]["originCriterion"]  # type: ignore[index,call-overload]


def test_schema_mapping_markdown_is_the_table_in_docs_standards() -> None:
    from pathlib import Path

    docs = Path(__file__).resolve().parents[3] / "docs" / "standards.md"
    result = runner.invoke(app, ["schema", "permit/1", "--mapping", "--markdown"])
    assert result.exit_code == 0
    assert result.stdout.strip() in docs.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["schema", "coo/1", "--json"], "go with --mapping"),
        (["schema", "coo/1", "--mapping", "--standard", "edifact"], "--standard is one of"),
    ],
)
def test_schema_mapping_options_are_checked(arguments: list[str], words: str) -> None:
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2
    assert words in result.stderr
