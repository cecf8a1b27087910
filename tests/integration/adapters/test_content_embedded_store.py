"""The embedded store on a real directory: put/get/pins/stat, verification on read."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.content.cid import Cid
from adapters.content.embedded import EmbeddedContentStore
from adapters.content.store import ContentStore
from adapters.content.unixfs_importer import ImportLayout, import_bytes
from adapters.errors import BlockCorrupted, ContentNotFound, ContentStoreUnavailable

pytestmark = pytest.mark.integration

MakeFile = Callable[..., Path]
CONTENT = b"certificate of origin VN-2026-000123 " * 20_000  # 740 KB: 3 chunks


def _block_files(root: Path) -> list[Path]:
    return sorted((root / "blocks").glob("*/*.data"))


@pytest.mark.parametrize("cid_version", [0, 1])
def test_put_returns_the_ipfs_add_cid_and_get_returns_the_bytes(
    tmp_path: Path, cid_version: int
) -> None:
    store: ContentStore = EmbeddedContentStore(tmp_path, cid_version=cid_version)
    cid = store.put(CONTENT)
    assert cid == import_bytes(CONTENT, ImportLayout(cid_version=cid_version)).cid
    assert store.get(cid) == CONTENT
    assert store.has(cid)


def test_a_stream_put_is_stored_and_read_back_in_pieces(
    tmp_path: Path, make_file: MakeFile
) -> None:
    path = make_file(3 * 1024 * 1024 + 5)
    store = EmbeddedContentStore(tmp_path / "store")
    with path.open("rb") as stream:
        cid = store.put(stream)
    pieces = list(store.stream(cid))
    assert len(pieces) > 1
    assert b"".join(pieces) == path.read_bytes()


def test_stat_reports_file_size_and_cumulative_size(tmp_path: Path) -> None:
    store = EmbeddedContentStore(tmp_path)
    cid = store.put(CONTENT)
    stat = store.stat(cid)
    assert stat.size == len(CONTENT)
    assert stat.cumulative_size == sum(path.stat().st_size for path in _block_files(tmp_path))


def test_pins_are_listed_removed_and_survive_reopening(tmp_path: Path) -> None:
    store = EmbeddedContentStore(tmp_path)
    pinned = store.put(b"pinned")
    loose = store.put(b"loose", pin=False)
    assert store.pins() == {pinned}
    store.pin(loose)
    assert EmbeddedContentStore(tmp_path).pins() == {pinned, loose}
    store.unpin(pinned)
    store.unpin(pinned)  # unpinning twice is not an error
    assert store.pins() == {loose}


def test_pinning_content_that_is_not_held_fails(tmp_path: Path) -> None:
    store = EmbeddedContentStore(tmp_path)
    absent = import_bytes(b"never stored", ImportLayout(cid_version=1)).cid
    with pytest.raises(ContentNotFound):
        store.pin(absent)
    assert not store.has(absent)
    with pytest.raises(ContentNotFound):
        store.get(absent)


def test_a_block_corrupted_on_disk_is_detected_on_read(tmp_path: Path) -> None:
    store = EmbeddedContentStore(tmp_path)
    cid = store.put(CONTENT)
    victim = _block_files(tmp_path)[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    with pytest.raises(BlockCorrupted):
        store.get(cid)


def test_a_block_missing_below_the_root_makes_the_content_incomplete(tmp_path: Path) -> None:
    store = EmbeddedContentStore(tmp_path, cid_version=1)
    cid = store.put(CONTENT)
    leaf = next(p for p in _block_files(tmp_path) if p.stat().st_size == 262_144)
    leaf.unlink()
    assert not store.has(cid)
    with pytest.raises(ContentNotFound):
        store.get(cid)


def test_an_interrupted_write_never_becomes_a_readable_block(tmp_path: Path) -> None:
    store = EmbeddedContentStore(tmp_path, cid_version=1)
    half_written = tmp_path / "tmp" / "crash.part"
    half_written.write_bytes(b"certif")  # what a crash mid-write leaves behind
    cid = Cid.for_block(b"certificate", codec=0x55, version=1)
    assert not store.has(cid)
    assert _block_files(tmp_path) == []
    assert store.put(b"certificate") == cid
    assert store.get(cid) == b"certificate"


def test_identical_chunks_are_stored_once(tmp_path: Path) -> None:
    store = EmbeddedContentStore(tmp_path, cid_version=1)
    cid = store.put(bytes(262_144 * 4))
    assert len(_block_files(tmp_path)) == 2  # one zero chunk, one parent
    assert store.get(cid) == bytes(262_144 * 4)


def test_car_round_trip_between_two_stores(tmp_path: Path) -> None:
    source = EmbeddedContentStore(tmp_path / "a", cid_version=0)
    target = EmbeddedContentStore(tmp_path / "b")
    cid = source.put(CONTENT)
    car = io.BytesIO()
    source.export_car(cid, car)
    car.seek(0)
    assert target.import_car(car) == (cid,)
    assert target.get(cid) == CONTENT
    assert cid in target.pins()


def test_grouped_writes_are_invisible_until_the_group_is_durable(tmp_path: Path) -> None:
    store = EmbeddedContentStore(tmp_path, cid_version=1)
    with store.grouped_writes():
        first = store.put(b"certificate one")
        second = store.put(CONTENT)
        # written to temporary files only: not readable, not pinned yet
        assert not store.has(first)
        assert not store.has(second)
        assert _block_files(tmp_path) == []
        assert list(store.pins()) == []
    assert store.get(first) == b"certificate one"
    assert store.get(second) == CONTENT
    assert set(store.pins()) == {first, second}
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_group_is_pinned_by_one_pin_set_that_unpins_one_cid_at_a_time(
    tmp_path: Path,
) -> None:
    store = EmbeddedContentStore(tmp_path, cid_version=1)
    single = store.put(b"pinned alone")
    with store.grouped_writes():
        grouped = [store.put(f"certificate {i}".encode()) for i in range(5)]
    assert len(list((tmp_path / "pins").glob("*.pinset"))) == 1
    assert EmbeddedContentStore(tmp_path).pins() == {single, *grouped}

    store.unpin(grouped[2])
    assert store.pins() == {single, *grouped[:2], *grouped[3:]}
    assert store.has(grouped[2])  # unpinned, not deleted
    for cid in grouped:
        store.unpin(cid)
    assert store.pins() == {single}
    assert list((tmp_path / "pins").glob("*.pinset")) == []


def test_a_group_that_fails_stores_nothing(tmp_path: Path) -> None:
    store = EmbeddedContentStore(tmp_path, cid_version=1)
    stored: list[Cid] = []

    def sign_and_store_then_fail() -> None:
        with store.grouped_writes():
            stored.append(store.put(CONTENT))
            raise RuntimeError("the batch failed before its CIDs were committed")

    with pytest.raises(RuntimeError):
        sign_and_store_then_fail()
    assert not store.has(stored[0])
    assert _block_files(tmp_path) == []
    assert list(store.pins()) == []
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_store_whose_directory_is_gone_is_not_ready(tmp_path: Path) -> None:
    store = EmbeddedContentStore(tmp_path / "content", cid_version=1)
    store.check_ready()
    shutil.rmtree(tmp_path / "content")
    with pytest.raises(ContentStoreUnavailable, match="missing"):
        store.check_ready()
