"""``docex wrap``, ``check``, ``conceal`` on real files: all or nothing, clear exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from certificates.schemas.samples import sample_certificate_of_origin, sample_permit
from node.cli.main import app

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
runner = CliRunner()


def write_documents(folder: Path, documents: list[dict[str, object]]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, document in enumerate(documents):
        path = folder / f"doc-{index}.json"
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        paths.append(path)
    return paths


def wrap(keystore: tuple[Path, Path], files: list[Path], output: Path, *extra: str) -> object:
    key, passphrase = keystore
    return runner.invoke(
        app,
        [
            "wrap",
            *map(str, files),
            "-o",
            str(output),
            "--key",
            str(key),
            "--passphrase-file",
            str(passphrase),
            "--registry",
            REGISTRY,
            "--chain-id",
            "31337",
            *extra,
        ],
    )


def test_wrap_writes_one_wrapped_file_per_document_and_a_manifest(
    tmp_path: Path, keystore: tuple[Path, Path]
) -> None:
    files = write_documents(tmp_path / "in", [sample_certificate_of_origin(i) for i in range(3)])
    result = wrap(keystore, files, tmp_path / "out")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    written = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert written == [
        "batch-manifest.json",
        "doc-0.wrapped.json",
        "doc-1.wrapped.json",
        "doc-2.wrapped.json",
    ]
    manifest = json.loads((tmp_path / "out" / "batch-manifest.json").read_text())
    assert manifest["documentCount"] == 3
    assert [entry["file"] for entry in manifest["documents"]] == written[1:]
    for name in written[1:]:
        check = runner.invoke(app, ["check", str(tmp_path / "out" / name)])
        assert check.exit_code == 0, check.output
        assert "VALID" in check.output


def test_one_invalid_document_aborts_the_batch_naming_file_and_path(
    tmp_path: Path, keystore: tuple[Path, Path]
) -> None:
    bad = sample_certificate_of_origin(1)
    bad["items"][0]["hsCode"] = "coffee"  # type: ignore[index]
    files = write_documents(tmp_path / "in", [sample_certificate_of_origin(0), bad])
    result = wrap(keystore, files, tmp_path / "out")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "doc-1.json" in result.output  # type: ignore[attr-defined]
    assert "/items/0/hsCode" in result.output  # type: ignore[attr-defined]
    assert not (tmp_path / "out").exists()
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".out")] == []


def test_documents_of_two_types_are_refused_and_nothing_written(
    tmp_path: Path, keystore: tuple[Path, Path]
) -> None:
    files = write_documents(tmp_path / "in", [sample_certificate_of_origin(0), sample_permit(0)])
    result = wrap(keystore, files, tmp_path / "out")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "one document type" in result.output  # type: ignore[attr-defined]
    assert not (tmp_path / "out").exists()


def test_a_wrong_passphrase_writes_nothing(tmp_path: Path, keystore: tuple[Path, Path]) -> None:
    files = write_documents(tmp_path / "in", [sample_certificate_of_origin(0)])
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the passphrase\n")
    result = wrap((keystore[0], wrong), files, tmp_path / "out")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert not (tmp_path / "out").exists()


def test_wrap_refuses_a_non_empty_output_directory(
    tmp_path: Path, keystore: tuple[Path, Path]
) -> None:
    files = write_documents(tmp_path / "in", [sample_certificate_of_origin(0)])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    result = wrap(keystore, files, tmp_path / "out")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["keep.txt"]


def test_check_exit_codes_valid_invalid_unreadable(
    tmp_path: Path, keystore: tuple[Path, Path]
) -> None:
    files = write_documents(tmp_path / "in", [sample_certificate_of_origin(0)])
    assert wrap(keystore, files, tmp_path / "out").exit_code == 0  # type: ignore[attr-defined]
    wrapped = tmp_path / "out" / "doc-0.wrapped.json"
    document = json.loads(wrapped.read_text())

    document["data"]["remarks"] = "altered after issue"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document))
    invalid = runner.invoke(app, ["check", str(tampered), "--json"])
    assert invalid.exit_code == 1
    verdict = json.loads(invalid.stdout)
    assert verdict["valid"] is False
    assert {c["name"]: c["status"] for c in verdict["checks"]}["integrity"] == "invalid"

    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b'{"version": "docex-wrapped/1", "version": 2}')
    assert runner.invoke(app, ["check", str(garbage)]).exit_code == 2
    assert runner.invoke(app, ["check", str(tmp_path / "missing.json")]).exit_code == 2


def test_check_takes_many_files_one_result_each_and_exits_with_the_worst(
    tmp_path: Path, keystore: tuple[Path, Path]
) -> None:
    files = write_documents(
        tmp_path / "in", [sample_certificate_of_origin(0), sample_certificate_of_origin(1)]
    )
    assert wrap(keystore, files, tmp_path / "out").exit_code == 0  # type: ignore[attr-defined]
    good = [str(tmp_path / "out" / f"doc-{i}.wrapped.json") for i in (0, 1)]
    document = json.loads(Path(good[0]).read_text())
    document["data"]["remarks"] = "altered after issue"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document))
    missing = str(tmp_path / "missing.json")

    all_valid = runner.invoke(app, ["check", *good])
    one_invalid = runner.invoke(app, ["check", *good, str(tampered)])
    one_unreadable = runner.invoke(app, ["check", missing, str(tampered), *good, "--json"])

    assert all_valid.exit_code == 0, all_valid.output
    assert all_valid.output.count("VALID") == 2  # one headline per file
    assert one_invalid.exit_code == 1
    assert one_invalid.output.count("INVALID") == 1
    assert one_unreadable.exit_code == 2
    results = json.loads(one_unreadable.stdout)
    assert [r["file"] for r in results] == [missing, str(tampered), *good]
    assert "cannot read" in results[0]["error"]
    assert [r["verdict"]["valid"] for r in results[1:]] == [False, True, True]


def test_check_against_another_chain_is_invalid(
    tmp_path: Path, keystore: tuple[Path, Path]
) -> None:
    files = write_documents(tmp_path / "in", [sample_certificate_of_origin(0)])
    assert wrap(keystore, files, tmp_path / "out").exit_code == 0  # type: ignore[attr-defined]
    wrapped = str(tmp_path / "out" / "doc-0.wrapped.json")
    same = runner.invoke(app, ["check", wrapped, "--chain-id", "31337", "--registry", REGISTRY])
    assert same.exit_code == 0, same.output
    other = runner.invoke(app, ["check", wrapped, "--chain-id", "1", "--registry", REGISTRY])
    assert other.exit_code == 1
    assert "signature" in other.output
    assert "(domain-mismatch)" in other.output


def test_conceal_keeps_the_document_valid_and_removes_the_value(
    tmp_path: Path, keystore: tuple[Path, Path]
) -> None:
    files = write_documents(tmp_path / "in", [sample_certificate_of_origin(0)])
    assert wrap(keystore, files, tmp_path / "out").exit_code == 0  # type: ignore[attr-defined]
    wrapped = tmp_path / "out" / "doc-0.wrapped.json"
    importer_name = json.loads(wrapped.read_text())["data"]["importer"]["name"]
    concealed = tmp_path / "concealed.json"
    result = runner.invoke(
        app, ["conceal", str(wrapped), "--field", "/importer", "-o", str(concealed)]
    )
    assert result.exit_code == 0, result.output
    assert importer_name not in concealed.read_text()
    assert runner.invoke(app, ["check", str(concealed)]).exit_code == 0
    missing = runner.invoke(app, ["conceal", str(wrapped), "--field", "/nope"])
    assert missing.exit_code == 1
    assert "/nope" in missing.output


def test_wrap_can_conceal_fields_in_every_output(
    tmp_path: Path, keystore: tuple[Path, Path]
) -> None:
    files = write_documents(tmp_path / "in", [sample_certificate_of_origin(i) for i in range(2)])
    result = wrap(keystore, files, tmp_path / "out", "--conceal", "/exporter")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    for index in range(2):
        document = json.loads((tmp_path / "out" / f"doc-{index}.wrapped.json").read_text())
        assert "exporter" not in document["data"]
        assert any(path.startswith("/exporter/") for path in document["concealed"])
