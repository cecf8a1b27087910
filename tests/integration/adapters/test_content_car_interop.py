"""CAR files exchanged with the JS @ipld/car reader and writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.content.embedded import EmbeddedContentStore
from adapters.errors import BlockMismatch

pytestmark = pytest.mark.integration

MakeFile = Callable[..., Path]
Reference = Callable[..., dict[str, Any]]


@pytest.mark.parametrize("cid_version", [0, 1])
def test_js_car_reader_reads_our_export_block_for_block(
    tmp_path: Path, cid_version: int, make_file: MakeFile, reference: Reference
) -> None:
    path = make_file(900_000)
    store = EmbeddedContentStore(tmp_path / "store", cid_version=cid_version)
    cid = store.put(path.read_bytes())
    car = tmp_path / "out.car"
    with car.open("wb") as out:
        store.export_car(cid, out)
    read = reference("car-read", car)
    assert read["version"] == 1
    assert read["roots"] == [str(cid)]
    assert [block["cid"] for block in read["blocks"]] == [
        str(block_cid) for block_cid, _ in store.dag_blocks(cid)
    ]


@pytest.mark.parametrize("cid_version", [0, 1])
def test_a_car_written_by_js_imports_and_exports_byte_identical(
    tmp_path: Path, cid_version: int, make_file: MakeFile, reference: Reference
) -> None:
    path = make_file(700_000, 5)
    js_car = tmp_path / "js.car"
    root = reference("car-write", path, cid_version, js_car)["root"]
    store = EmbeddedContentStore(tmp_path / "store")
    with js_car.open("rb") as stream:
        roots = store.import_car(stream)
    assert [str(r) for r in roots] == [root]
    assert store.get(roots[0]) == path.read_bytes()
    ours = tmp_path / "ours.car"
    with ours.open("wb") as out:
        store.export_car(roots[0], out)
    assert ours.read_bytes() == js_car.read_bytes()


def test_a_car_with_a_tampered_block_is_refused_on_import(
    tmp_path: Path, make_file: MakeFile, reference: Reference
) -> None:
    path = make_file(300_000, 9)
    js_car = tmp_path / "js.car"
    reference("car-write", path, 1, js_car)
    data = bytearray(js_car.read_bytes())
    data[-10] ^= 0xFF  # inside the last leaf
    js_car.write_bytes(bytes(data))
    store = EmbeddedContentStore(tmp_path / "store")
    with js_car.open("rb") as stream, pytest.raises(BlockMismatch):
        store.import_car(stream)
    assert store.pins() == frozenset()
