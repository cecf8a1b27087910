"""CARv1 encoding and decoding in memory."""

from __future__ import annotations

import io

import pytest

from adapters.content.car import CarReader, encode_header, encode_section, write_car
from adapters.content.cid import DAG_PB, RAW, Cid
from adapters.content.unixfs_importer import ImportLayout, import_bytes
from adapters.errors import BlockMismatch, ContentTooLarge, InvalidCar


def _dag(content: bytes) -> tuple[Cid, list[tuple[Cid, bytes]]]:
    blocks: list[tuple[Cid, bytes]] = []
    root = import_bytes(content, ImportLayout(1, 8, 3), lambda c, b: blocks.append((c, b))).cid
    return root, blocks


def test_car_round_trips_roots_and_blocks_in_order() -> None:
    root, blocks = _dag(b"certificate of origin " * 10)
    out = io.BytesIO()
    assert write_car([root], blocks, out) == len(blocks)
    reader = CarReader.from_stream(io.BytesIO(out.getvalue()))
    assert reader.roots == (root,)
    assert list(reader.blocks()) == blocks


def test_header_is_canonical_dag_cbor_with_roots_before_version() -> None:
    root = Cid.for_block(b"x", codec=DAG_PB, version=0)
    header = encode_header([root])
    body = header[1:]
    assert header[0] == len(body)
    assert body.startswith(b"\xa2\x65roots\x81\xd8\x2a\x58\x23\x00")
    assert body.endswith(b"\x67version\x01")


def test_a_block_that_does_not_match_its_cid_is_refused() -> None:
    cid = Cid.for_block(b"genuine", codec=RAW, version=1)
    car = encode_header([cid]) + encode_section(cid, b"forgery")
    with pytest.raises(BlockMismatch):
        list(CarReader.from_stream(io.BytesIO(car)).blocks())


def test_a_truncated_section_is_refused() -> None:
    cid = Cid.for_block(b"genuine", codec=RAW, version=1)
    car = encode_header([cid]) + encode_section(cid, b"genuine")[:-2]
    with pytest.raises(InvalidCar):
        list(CarReader.from_stream(io.BytesIO(car)).blocks())


def test_a_section_longer_than_the_block_limit_is_refused_before_reading_it() -> None:
    cid = Cid.for_block(b"x" * 100, codec=RAW, version=1)
    car = encode_header([cid]) + encode_section(cid, b"x" * 100)
    with pytest.raises(ContentTooLarge):
        list(CarReader.from_stream(io.BytesIO(car), max_block_size=10).blocks())


@pytest.mark.parametrize(
    "header",
    [
        b"",  # nothing at all
        b"\x01\xa0",  # an empty map: no version, no roots
        b"\x0b\xa1\x67version\x02",  # CARv2 pragma
        b"\x03\x82\x01\x02",  # an array, not a map
    ],
)
def test_headers_that_are_not_carv1_are_refused(header: bytes) -> None:
    with pytest.raises(InvalidCar):
        CarReader.from_stream(io.BytesIO(header))
