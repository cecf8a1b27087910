"""Every CID docex computes equals the official JS UnixFS importer's (which equals Kubo's)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.content.unixfs_importer import ImportLayout, import_stream

pytestmark = pytest.mark.integration

MakeFile = Callable[..., Path]
Reference = Callable[..., dict[str, Any]]

CHUNK = 262_144
SIZES = {
    "empty": 0,
    "one byte": 1,
    "one byte short of a chunk": CHUNK - 1,
    "exactly one chunk": CHUNK,
    "one byte over a chunk": CHUNK + 1,
    "several chunks": 5 * CHUNK + 12_345,
}


def _cid(path: Path, layout: ImportLayout) -> str:
    with path.open("rb") as stream:
        return str(import_stream(stream, layout).cid)


@pytest.mark.parametrize("cid_version", [0, 1])
@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_cid_equals_js_importer(
    size: int, cid_version: int, make_file: MakeFile, reference: Reference
) -> None:
    path = make_file(size)
    expected = reference("cid", path, cid_version)["cid"]
    assert _cid(path, ImportLayout(cid_version=cid_version)) == expected


@pytest.mark.slow
@pytest.mark.parametrize("cid_version", [0, 1])
def test_cid_of_a_50_mib_multi_level_dag_equals_js_importer(
    cid_version: int, make_file: MakeFile, reference: Reference
) -> None:
    path = make_file(50 * 1024 * 1024, 7)  # 200 chunks > 174 links: two levels of parents
    expected = reference("cid", path, cid_version)["cid"]
    assert _cid(path, ImportLayout(cid_version=cid_version)) == expected


@pytest.mark.parametrize("cid_version", [0, 1])
@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 9, 10, 27, 28, 100, 243, 244])
def test_deep_balanced_trees_equal_js_importer_with_small_chunks(
    size: int, cid_version: int, make_file: MakeFile, reference: Reference
) -> None:
    # chunk 1 byte, 3 links per node: up to five levels, every edge of the layout
    path = make_file(size, 3)
    expected = reference("cid", path, cid_version, 1, 3)["cid"]
    assert _cid(path, ImportLayout(cid_version, chunk_size=1, max_links=3)) == expected
