"""The UnixFS importer's layout, checked on small chunk sizes where trees grow deep.

(Equality with the JS reference importer is in tests/integration/adapters.)
"""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.content.cid import DAG_PB, RAW, Cid
from adapters.content.dag_pb import decode_node, decode_unixfs
from adapters.content.unixfs_exporter import file_chunks, stat_file
from adapters.content.unixfs_importer import (
    ImportLayout,
    import_bytes,
    import_chunks,
    import_stream,
    rechunk,
)


class _Blocks(dict[Cid, bytes]):
    """An in-memory block source: checks what it is given, fails on what it lacks."""

    def put(self, cid: Cid, block: bytes) -> None:
        assert cid.matches(block)
        self[cid] = block

    def get(self, cid: Cid) -> bytes:  # type: ignore[override]
        return self[cid]


layouts = st.builds(ImportLayout, st.sampled_from([0, 1]), st.integers(1, 16), st.integers(2, 5))


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600), layouts)
def test_a_file_read_back_from_its_dag_is_the_file(content: bytes, layout: ImportLayout) -> None:
    blocks = _Blocks()
    imported = import_bytes(content, layout, blocks.put)
    assert b"".join(file_chunks(imported.cid, blocks)) == content
    assert imported.size == len(content)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600), layouts, st.integers(1, 50))
def test_streaming_in_any_piece_size_gives_the_same_cid(
    content: bytes, layout: ImportLayout, piece: int
) -> None:
    whole = import_bytes(content, layout).cid
    assert import_stream(io.BytesIO(content), layout).cid == whole
    pieces = [content[i : i + piece] for i in range(0, len(content), piece)]
    assert import_chunks(rechunk(pieces, layout.chunk_size), layout).cid == whole


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=1, max_size=600), layouts)
def test_no_node_has_more_links_than_the_layout_allows(
    content: bytes, layout: ImportLayout
) -> None:
    blocks = _Blocks()
    import_bytes(content, layout, blocks.put)
    for cid, block in blocks.items():
        if cid.codec == DAG_PB:
            node = decode_node(block)
            assert len(node.links) <= layout.max_links
            unixfs = decode_unixfs(node.data or b"")
            assert len(unixfs.blocksizes) == len(node.links)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=600), layouts)
def test_cumulative_size_counts_every_block_of_the_dag(
    content: bytes, layout: ImportLayout
) -> None:
    blocks = _Blocks()
    imported = import_bytes(content, layout, blocks.put)

    def tree_size(cid: Cid) -> int:
        block = blocks[cid]
        if cid.codec == RAW:
            return len(block)
        return len(block) + sum(tree_size(link.hash) for link in decode_node(block).links)

    assert imported.cumulative_size == tree_size(imported.cid)
    assert stat_file(imported.cid, blocks[imported.cid]).cumulative_size == tree_size(imported.cid)


def test_cid_version_1_uses_raw_leaves_and_version_0_dag_pb_leaves() -> None:
    small = ImportLayout(cid_version=1, chunk_size=4, max_links=3)
    blocks = _Blocks()
    root = import_bytes(b"0123456789", small, blocks.put).cid
    assert root.version == 1
    assert root.codec == DAG_PB
    assert {cid.codec for cid in blocks if cid != root} == {RAW}
    blocks_v0 = _Blocks()
    import_bytes(b"0123456789", ImportLayout(0, 4, 3), blocks_v0.put)
    assert {(cid.version, cid.codec) for cid in blocks_v0} == {(0, DAG_PB)}


def test_a_single_chunk_file_is_its_leaf_block_alone() -> None:
    blocks = _Blocks()
    imported = import_bytes(b"one chunk", ImportLayout(cid_version=1), blocks.put)
    assert list(blocks) == [imported.cid]
    assert imported.cid.codec == RAW


def test_one_chunk_more_than_max_links_adds_a_level() -> None:
    layout = ImportLayout(cid_version=1, chunk_size=1, max_links=3)
    blocks = _Blocks()
    root = import_bytes(b"abcd", layout, blocks.put).cid
    top = decode_node(blocks[root])
    assert len(top.links) == 2  # a full node of 3 leaves, then a node holding the 4th
    assert [len(decode_node(blocks[link.hash]).links) for link in top.links] == [3, 1]
