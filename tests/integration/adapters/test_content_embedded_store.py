"""The embedded store on a real directory: put/get/pins/stat, verification on read."""

from __future__ import annotations

import io
import multiprocessing
import os
import shutil
import sqlite3
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from adapters.content.blockstore import SMALL_BLOCK_LIMIT
from adapters.content.cid import Cid
from adapters.content.embedded import EmbeddedContentStore
from adapters.content.store import ContentStore
from adapters.content.unixfs_importer import ImportLayout, import_bytes
from adapters.errors import (
    BlockCorrupted,
    BlockMismatch,
    ContentNotFound,
    ContentStoreUnavailable,
)

pytestmark = pytest.mark.integration

MakeFile = Callable[..., Path]
CONTENT = b"certificate of origin VN-2026-000123 " * 20_000  # 740 KB: 3 chunks


def _block_files(root: Path) -> list[Path]:
    """The blocks stored as files of their own (larger than SMALL_BLOCK_LIMIT)."""
    return sorted((root / "blocks").glob("*/*.data"))


def _stored(store: EmbeddedContentStore) -> list[bytes]:
    """The multihash of every block the store holds, packed or a file."""
    return sorted(store.blocks.multihashes())


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
    assert (
        stat.cumulative_size
        == sum(len(block) for _, block in store.dag_blocks(cid))
        == sum(path.stat().st_size for path in _block_files(tmp_path)) + store.blocks.size(cid)
    )


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


def test_small_blocks_are_rows_of_the_pack_and_large_ones_files(tmp_path: Path) -> None:
    store = EmbeddedContentStore(tmp_path, cid_version=1)
    document = store.put(b"a wrapped certificate of origin" * 100)
    attachment = store.put(CONTENT)  # three 256 KiB chunks and a small root
    files = _block_files(tmp_path)
    assert len(files) == 3
    assert all(path.stat().st_size > SMALL_BLOCK_LIMIT for path in files)
    assert len(_stored(store)) == 5  # the document, the attachment's root and chunks
    assert store.blocks.pack.has(document.multihash)
    assert store.blocks.pack.has(attachment.multihash)
    reopened = EmbeddedContentStore(tmp_path, cid_version=1)
    assert reopened.get(document) == b"a wrapped certificate of origin" * 100
    assert reopened.get(attachment) == CONTENT


def test_blocks_stored_as_files_before_the_pack_existed_are_still_read(tmp_path: Path) -> None:
    """A store written by an earlier version holds every block as a file: still read,
    verified, listed and deleted."""
    store = EmbeddedContentStore(tmp_path, cid_version=1)
    cid = Cid.for_block(b"an older certificate", codec=0x55, version=1)
    store.blocks.files.put(cid, b"an older certificate")
    store.pin(cid)
    assert store.get(cid) == b"an older certificate"
    assert store.blocks.size(cid) == len(b"an older certificate")
    assert _stored(store) == [cid.multihash]
    store.put(b"an older certificate")  # stored again: the pack's copy is listed once
    assert _stored(store) == [cid.multihash]
    store.blocks.delete(cid)
    assert not store.has(cid)
    assert _stored(store) == []


def test_a_block_corrupted_in_the_pack_is_detected_on_read(tmp_path: Path) -> None:
    store = EmbeddedContentStore(tmp_path, cid_version=1)
    cid = store.put(b"certificate of origin VN-2026-000124")
    with sqlite3.connect(tmp_path / "blocks.sqlite") as pack:
        pack.execute("UPDATE blocks SET data = ?", (b"certificate of origin VN-2026-000125",))
    with pytest.raises(BlockCorrupted):
        store.get(cid)


def test_a_damaged_pack_is_block_corrupted_and_blocks_kept_as_files_are_still_read(
    tmp_path: Path,
) -> None:
    store = EmbeddedContentStore(tmp_path, cid_version=1)
    packed = store.put(b"certificate of origin VN-2026-000126")
    attachment = store.put(CONTENT)  # its chunks are files, its root a row of the pack
    chunk = next(
        cid for cid, block in store.dag_blocks(attachment) if len(block) > SMALL_BLOCK_LIMIT
    )
    del store
    pack = tmp_path / "blocks.sqlite"
    with sqlite3.connect(pack) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = int(db.execute("PRAGMA page_size").fetchone()[0])
    damaged = bytearray(pack.read_bytes())
    damaged[page_size : 2 * page_size] = b"\xff" * page_size  # the table's root page
    pack.write_bytes(bytes(damaged))

    reopened = EmbeddedContentStore(tmp_path, cid_version=1)
    with pytest.raises(BlockCorrupted, match="damaged"):
        reopened.get(packed)
    with pytest.raises(BlockCorrupted, match="damaged"):
        reopened.has(packed)
    assert reopened.blocks.has(chunk)
    assert len(reopened.blocks.get(chunk)) > SMALL_BLOCK_LIMIT


def test_a_forked_child_uses_a_connection_of_its_own(tmp_path: Path) -> None:
    """The parent's connection is neither used nor closed in a child made by fork."""
    store = EmbeddedContentStore(tmp_path, cid_version=1)
    before = store.put(b"stored before the fork")
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's outcome is its exit status
        status = 1
        try:
            if store.get(before) == b"stored before the fork":
                store.put(b"stored by the child")
                status = 0
        finally:
            os._exit(status)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.get(Cid.for_block(b"stored by the child", codec=0x55, version=1)) == (
        b"stored by the child"
    )
    after = store.put(b"stored after the fork")
    assert store.get(after) == b"stored after the fork"


def test_a_block_is_refused_when_it_does_not_hash_to_its_cid(tmp_path: Path) -> None:
    store = EmbeddedContentStore(tmp_path, cid_version=1)
    cid = Cid.for_block(b"the real block", codec=0x55, version=1)
    with pytest.raises(BlockMismatch):
        store.put_blocks([(cid, b"another block")])
    assert _stored(store) == []


def test_the_pack_is_shared_by_processes(tmp_path: Path) -> None:
    """The wrapping child writes a batch's documents; the node reads them at once."""
    store = EmbeddedContentStore(tmp_path, cid_version=1)
    contents = tuple(f"certificate {i}".encode() for i in range(20))
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as child:
        cids = child.submit(_put_together_in, tmp_path, contents).result()
    assert [store.get(Cid.parse(cid)) for cid in cids] == list(contents)
    assert store.pins() == {Cid.parse(cid) for cid in cids}


def _put_together_in(root: Path, contents: tuple[bytes, ...]) -> tuple[str, ...]:
    store = EmbeddedContentStore(root, cid_version=1)
    with store.grouped_writes():
        return tuple(str(store.put(content)) for content in contents)


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
    assert _stored(store) == []
    assert store.put(b"certificate") == cid
    assert store.get(cid) == b"certificate"


def test_identical_chunks_are_stored_once(tmp_path: Path) -> None:
    store = EmbeddedContentStore(tmp_path, cid_version=1)
    cid = store.put(bytes(262_144 * 4))
    assert len(_block_files(tmp_path)) == 1  # one zero chunk (the parent is packed)
    assert len(_stored(store)) == 2
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
        assert _stored(store) == []
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
    assert _stored(store) == []
    assert list(store.pins()) == []
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_store_whose_directory_is_gone_is_not_ready(tmp_path: Path) -> None:
    store = EmbeddedContentStore(tmp_path / "content", cid_version=1)
    store.check_ready()
    shutil.rmtree(tmp_path / "content")
    with pytest.raises(ContentStoreUnavailable, match="missing"):
        store.check_ready()
