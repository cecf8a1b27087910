"""dag-pb and UnixFS Data: canonical encoding, strict decoding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.content.cid import DAG_PB, RAW, Cid
from adapters.content.dag_pb import (
    UNIXFS_FILE,
    PBLink,
    PBNode,
    UnixFsData,
    decode_node,
    decode_unixfs,
    encode_node,
    encode_unixfs,
    file_leaf_block,
)
from adapters.errors import InvalidBlock

cids = st.builds(
    lambda data, raw: Cid.for_block(data, codec=RAW if raw else DAG_PB, version=1 if raw else 0),
    st.binary(max_size=8),
    st.booleans(),
)
links = st.builds(
    PBLink,
    cids,
    st.one_of(st.none(), st.text(max_size=10)),
    st.one_of(st.none(), st.integers(0, 2**40)),
)
nodes = st.builds(
    PBNode, st.lists(links, max_size=5).map(tuple), st.one_of(st.none(), st.binary(max_size=40))
)


@given(nodes)
def test_dag_pb_nodes_round_trip(node: PBNode) -> None:
    assert decode_node(encode_node(node)) == node


@given(
    st.builds(
        UnixFsData,
        st.just(UNIXFS_FILE),
        st.one_of(st.none(), st.binary(min_size=1, max_size=40)),
        st.one_of(st.none(), st.integers(0, 2**50)),
        st.lists(st.integers(0, 2**30), max_size=5).map(tuple),
    )
)
def test_unixfs_data_round_trips(unixfs: UnixFsData) -> None:
    assert decode_unixfs(encode_unixfs(unixfs)) == unixfs


def test_file_leaf_is_a_dag_pb_node_holding_unixfs_file_data() -> None:
    node = decode_node(file_leaf_block(b"abc"))
    assert node.links == ()
    assert decode_unixfs(node.data or b"") == UnixFsData(UNIXFS_FILE, b"abc", 3)


def test_data_before_links_is_not_canonical_and_refused() -> None:
    link = PBLink(Cid.for_block(b"x", codec=RAW, version=1), "", 1)
    canonical = encode_node(PBNode((link,), b"\x08\x02"))
    data_field = encode_node(PBNode((), b"\x08\x02"))
    with pytest.raises(InvalidBlock):
        decode_node(data_field + canonical[: len(canonical) - len(data_field)])


@pytest.mark.parametrize(
    "block",
    [
        b"\x12\x00",  # a link without a hash
        b"\x0a\x05ab",  # data running past the end
        b"\x1a\x00",  # unknown field 3
        b"\x08\x01",  # varint where dag-pb has only bytes fields
    ],
)
def test_malformed_dag_pb_is_refused(block: bytes) -> None:
    with pytest.raises(InvalidBlock):
        decode_node(block)


@given(st.binary(max_size=400))
def test_fast_file_leaf_encoding_equals_the_generic_encoding(chunk: bytes) -> None:
    generic = encode_node(PBNode((), encode_unixfs(UnixFsData(UNIXFS_FILE, chunk, len(chunk)))))
    assert file_leaf_block(chunk) == generic
