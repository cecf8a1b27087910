"""CIDs: text and binary forms, strictness."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.content.cid import (
    DAG_PB,
    RAW,
    Cid,
    base58btc_decode,
    base58btc_encode,
    decode_varint,
    encode_varint,
)
from adapters.errors import InvalidCid


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_varint_round_trips(value: int) -> None:
    encoded = encode_varint(value)
    assert decode_varint(encoded) == (value, len(encoded))


def test_non_minimal_varint_is_refused() -> None:
    with pytest.raises(InvalidCid):
        decode_varint(b"\x81\x00")


@given(st.binary(max_size=64))
def test_base58btc_round_trips_including_leading_zeros(data: bytes) -> None:
    assert base58btc_decode(base58btc_encode(data)) == data


@given(st.binary(max_size=300), st.sampled_from([(0, DAG_PB), (1, DAG_PB), (1, RAW)]))
def test_cid_text_and_binary_forms_round_trip(block: bytes, form: tuple[int, int]) -> None:
    version, codec = form
    cid = Cid.for_block(block, codec=codec, version=version)
    assert Cid.parse(str(cid)) == cid
    assert Cid.from_bytes(cid.to_bytes()) == cid
    assert cid.matches(block)


def test_cidv0_prints_base58btc_and_cidv1_prints_lowercase_base32() -> None:
    block = b"docex"
    assert str(Cid.for_block(block, codec=DAG_PB, version=0)).startswith("Qm")
    v1 = str(Cid.for_block(block, codec=RAW, version=1))
    assert v1.startswith("bafkrei")
    assert v1 == v1.lower()


def test_uppercase_base32_and_base58_cidv1_are_read() -> None:
    cid = Cid.for_block(b"x", codec=RAW, version=1)
    assert Cid.parse("B" + str(cid)[1:].upper()) == cid
    assert Cid.parse("z" + base58btc_encode(cid.to_bytes())) == cid


def test_a_block_with_one_byte_changed_does_not_match() -> None:
    cid = Cid.for_block(b"certificate", codec=RAW, version=1)
    assert not cid.matches(b"Certificate")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Qm",
        "not-a-cid",
        "mAXASIA",  # base64 multibase, not read
        "QmYCRzBajS6sCfuggV7JCTri7PFB4DdJS9Dbj5iuG3oYh0",  # 0 is not base58
    ],
)
def test_text_that_is_not_a_supported_cid_is_refused(text: str) -> None:
    with pytest.raises(InvalidCid):
        Cid.parse(text)


def test_a_cid_over_another_hash_function_is_refused() -> None:
    sha512 = bytes((0x13, 0x40)) + hashlib.sha512(b"x").digest()
    with pytest.raises(InvalidCid):
        Cid.from_bytes(encode_varint(1) + encode_varint(RAW) + sha512)


def test_a_cidv0_cannot_be_raw() -> None:
    with pytest.raises(InvalidCid):
        Cid.for_block(b"x", codec=RAW, version=0)
