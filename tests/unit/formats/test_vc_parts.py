"""did:web identifiers and Bitstring Status Lists, on their own."""

from __future__ import annotations

import base64
import gzip

import pytest

from adapters.formats import InvalidCredential
from adapters.formats.vc import (
    MIN_BITS,
    decode_status_list,
    did_web,
    did_web_url,
    encode_status_list,
)


def test_did_web_encodes_a_port_and_resolves_to_https() -> None:
    did = did_web("Node.Example.VN:8443")
    assert did == "did:web:node.example.vn%3A8443"
    assert did_web_url(did) == "https://node.example.vn:8443/.well-known/did.json"


@pytest.mark.parametrize("host", ["", "a b", "https://x", "x/y"])
def test_did_web_refuses_what_is_not_a_host(host: str) -> None:
    with pytest.raises(ValueError, match="host"):
        did_web(host)


def test_bit_zero_is_the_first_bytes_most_significant_bit() -> None:
    encoded = encode_status_list({0, 9, MIN_BITS - 1})
    assert encoded.startswith("u")
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(bits) == MIN_BITS // 8 == 16 * 1024
    assert bits[0] == 0x80
    assert bits[1] == 0x40
    assert bits[-1] == 0x01
    assert decode_status_list(encoded) == bits


def test_an_index_outside_the_list_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        encode_status_list({MIN_BITS})


def test_a_list_below_16_kib_or_not_multibase_is_refused() -> None:
    short = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(1024))).rstrip(b"=").decode()
    with pytest.raises(InvalidCredential, match="at least"):
        decode_status_list(short)
    with pytest.raises(InvalidCredential, match="multibase"):
        decode_status_list("H4sI")
