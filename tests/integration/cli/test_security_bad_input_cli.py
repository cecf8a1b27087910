"""Security: the bad-input corpus (``tests/corpus/bad_input/``) through the offline commands
an administration runs on files it was sent: ``docex check``, ``docex wrap`` and
``docex car import``. Each bad file ends the command with a non-zero exit and a message
naming the problem, and nothing is written: no output folder, no block in the store.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Final

import pytest
from typer.testing import CliRunner

from adapters.content.car import encode_header, encode_section
from adapters.content.cid import Cid
from adapters.content.embedded import EmbeddedContentStore
from certificates import BatchBuilder, Eip712Domain, validate_document
from certificates.schemas.samples import sample_document
from node.cli.main import app

pytestmark = pytest.mark.integration

runner = CliRunner()
REGISTRY: Final = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DOMAIN: Final = Eip712Domain(31337, REGISTRY)


def _corpus() -> ModuleType:
    """``tests/corpus/corpus.py``, imported by path (the tests folder is no package)."""
    name = "docex_bad_input_corpus"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[2] / "corpus" / "corpus.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


corpus = _corpus()


def _files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# --- docex check ----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", corpus.NOT_JSON, ids=lambda bad: bad.name)
def test_check_refuses_a_file_that_is_not_strict_json_as_unreadable(bad: Any) -> None:
    result = runner.invoke(app, ["check", str(bad.path)])

    assert result.exit_code == 2, result.output
    assert bad.code in result.output


@pytest.mark.parametrize("bad", corpus.NOT_A_DOCUMENT, ids=lambda bad: bad.name)
def test_check_finds_json_that_is_not_a_wrapped_document_invalid(bad: Any) -> None:
    result = runner.invoke(app, ["check", str(bad.path), "--json"])

    assert result.exit_code == 1, result.output
    verdict = json.loads(result.stdout)
    assert verdict["valid"] is False
    assert verdict["checks"][0]["name"] == "integrity"
    assert "not a wrapped document" in verdict["checks"][0]["reason"]


def test_check_refuses_a_file_over_its_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.wrapped.json"
    big.write_bytes(corpus.oversized(4 * 1024 * 1024))

    result = runner.invoke(app, ["check", str(big)])

    assert result.exit_code == 2
    assert "larger than" in result.output


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> Any:
    builder = BatchBuilder()
    for index in (1, 2, 3):
        builder.add(validate_document(sample_document("coo/1", index)))
    signed = builder.sign(signing_key=os.urandom(32), domain=DOMAIN)
    return next(iter(signed)).to_json()


@pytest.mark.parametrize("forgery", corpus.FORGERIES, ids=lambda forgery: forgery.name)
def test_check_finds_every_forgery_invalid_and_names_the_check(
    tmp_path: Path, genuine: Any, forgery: Any
) -> None:
    good = tmp_path / "good.wrapped.json"
    good.write_text(json.dumps(genuine))
    assert runner.invoke(app, ["check", str(good)]).exit_code == 0
    forged = tmp_path / "forged.wrapped.json"
    forged.write_text(json.dumps(corpus.forge(genuine, forgery)), encoding="utf-8")

    result = runner.invoke(
        app,
        ["check", str(forged), "--json", "--chain-id", "31337", "--registry", REGISTRY],
    )

    assert result.exit_code == 1, result.output
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks[forgery.fails]["status"] == "invalid", checks


# --- docex wrap -----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", corpus.BAD_FILES, ids=lambda bad: bad.name)
def test_wrap_refuses_a_batch_with_one_bad_file_and_writes_nothing(
    tmp_path: Path, keystore: tuple[Path, Path], bad: Any
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    good = inputs / "good.json"
    good.write_text(json.dumps(sample_document("coo/1", 1)), encoding="utf-8")
    evil = inputs / bad.name
    evil.write_bytes(bad.raw)
    before = _files_under(tmp_path)

    result = runner.invoke(
        app,
        [
            "wrap",
            str(good),
            str(evil),
            "-o",
            str(tmp_path / "out"),
            "--key",
            str(keystore[0]),
            "--passphrase-file",
            str(keystore[1]),
            "--chain-id",
            "31337",
            "--registry",
            REGISTRY,
        ],
    )

    assert result.exit_code in (1, 2), result.output
    assert bad.name in result.output
    assert bad.code in result.output
    assert "nothing was written" in result.output
    assert _files_under(tmp_path) == before


# --- docex car import -----------------------------------------------------------------------

_CONTENT: Final = bytes(range(256)) * 2048  # 512 KiB: three blocks under CIDv1 raw leaves


@pytest.fixture
def origin(tmp_path: Path) -> tuple[Cid, list[tuple[Cid, bytes]]]:
    store = EmbeddedContentStore(tmp_path / "origin", cid_version=1)
    root = store.put(_CONTENT)
    return root, list(store.dag_blocks(root))


def _bad_cars(origin: tuple[Cid, list[tuple[Cid, bytes]]]) -> dict[str, bytes]:
    root, blocks = origin
    header = encode_header([root])
    sections = [encode_section(cid, block) for cid, block in blocks]
    leaf_cid, leaf = blocks[-1]
    flipped = bytes([leaf[0] ^ 1]) + leaf[1:]
    good = header + b"".join(sections)
    return {
        "wrong-block": header + b"".join(sections[:-1]) + encode_section(leaf_cid, flipped),
        "wrong-first-block": header + encode_section(blocks[0][0], b"not the root") + sections[1],
        "truncated": good[: len(good) - 100],
        "truncated-header": header[:5],
        "not-a-car": b"PK\x03\x04 a zip file, not a CAR",
        "empty": b"",
        "huge-section-length": header + b"\xff\xff\xff\xff\xff\xff\xff\xff\x7f",
        "header-not-cbor": b"\x05hello" + b"".join(sections),
    }


_CAR_CASES: Final = (
    "wrong-block",
    "wrong-first-block",
    "truncated",
    "truncated-header",
    "not-a-car",
    "empty",
    "huge-section-length",
    "header-not-cbor",
)


@pytest.mark.parametrize("case", _CAR_CASES)
def test_car_import_refuses_a_bad_car_and_stores_nothing(
    tmp_path: Path, origin: tuple[Cid, list[tuple[Cid, bytes]]], case: str
) -> None:
    car = tmp_path / f"{case}.car"
    car.write_bytes(_bad_cars(origin)[case])
    store = tmp_path / "store"
    EmbeddedContentStore(store)  # an existing, empty store
    before = _files_under(store)

    result = runner.invoke(app, ["car", "import", str(car), "--store", str(store)])

    assert result.exit_code == 1, result.output
    assert result.output.startswith("error: "), result.output
    assert _files_under(store) == before
