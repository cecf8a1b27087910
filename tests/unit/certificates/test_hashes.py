"""The one hash type: 32 bytes, written 0x + 64 lower-case hex at every boundary."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certificates.errors import InvalidInput
from certificates.hashes import canonical_hash, hash_hex, is_hash_hex, parse_hash, to_hex

HASH = bytes(range(32))
WRITTEN = "0x" + HASH.hex()


@given(st.binary(min_size=32, max_size=32))
def test_a_hash_written_and_parsed_is_the_same_hash(value: bytes) -> None:
    written = hash_hex(value)
    assert is_hash_hex(written)
    assert parse_hash(written) == value


@pytest.mark.parametrize(
    "retyped", [WRITTEN.upper().replace("0X", "0x"), WRITTEN[2:], f"  {WRITTEN[2:].upper()} "]
)
def test_a_retyped_hash_is_accepted_only_when_lenient(retyped: str) -> None:
    assert parse_hash(retyped, lenient=True) == HASH
    assert canonical_hash(retyped, lenient=True) == WRITTEN
    assert canonical_hash(retyped) is None
    with pytest.raises(InvalidInput):
        parse_hash(retyped)


@pytest.mark.parametrize("text", ["", "0x", WRITTEN[:-1], WRITTEN + "0", "0x" + "g" * 64])
def test_what_is_not_a_hash_is_refused_in_words_not_a_pattern(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_hash(text, lenient=True, path="/targetHash")
    assert "0x followed by 64 hexadecimal digits" in str(raised.value)
    assert "[0-9" not in str(raised.value)
    assert raised.value.path == "/targetHash"


def test_a_long_input_is_not_echoed_in_full() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_hash("z" * 10_000)
    assert len(str(raised.value)) < 200


def test_only_32_bytes_are_a_hash() -> None:
    assert to_hex(b"\x01" * 20) == "0x" + "01" * 20
    with pytest.raises(InvalidInput):
        hash_hex(b"\x01" * 20)
    assert not is_hash_hex(to_hex(b"\x01" * 20))
    assert not is_hash_hex(None)
