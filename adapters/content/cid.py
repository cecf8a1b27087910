"""Content identifiers: CIDv0 and CIDv1 over sha2-256 multihashes.

Only what docex stores is accepted: sha2-256 digests (32 bytes) and the dag-pb and
raw codecs. Text forms are base58btc (CIDv0, ``Qm...``) and lowercase base32
(CIDv1, ``b...``), the forms Kubo prints; base58btc CIDv1 (``z...``) and uppercase
base32 (``B...``) are also read.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Final

from adapters.errors import InvalidCid

SHA2_256: Final = 0x12
SHA2_256_LENGTH: Final = 32
DAG_PB: Final = 0x70
RAW: Final = 0x55
KNOWN_CODECS: Final = frozenset({DAG_PB, RAW})

_BASE58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX: Final = {c: i for i, c in enumerate(_BASE58_ALPHABET)}
#: multiformats unsigned varints are at most 9 bytes (63 bits)
_VARINT_MAX_BYTES: Final = 9


def encode_varint(value: int) -> bytes:
    """Unsigned LEB128, as used by multiformats, protobuf and CAR section lengths."""
    if value < 0:
        raise InvalidCid(f"cannot encode negative varint {value}")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data: bytes | memoryview, offset: int = 0) -> tuple[int, int]:
    """Read a minimally encoded unsigned varint; return (value, offset after it)."""
    value = 0
    shift = 0
    for index in range(_VARINT_MAX_BYTES):
        position = offset + index
        if position >= len(data):
            raise InvalidCid("truncated varint")
        byte = data[position]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if byte == 0 and index > 0:
                raise InvalidCid("varint is not minimally encoded")
            return value, position + 1
        shift += 7
    raise InvalidCid("varint longer than 9 bytes")


def base58btc_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_BASE58_ALPHABET[remainder])
    leading_zeros = len(data) - len(data.lstrip(b"\x00"))
    return "1" * leading_zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = _BASE58_INDEX.get(char)
        if digit is None:
            raise InvalidCid(f"{char!r} is not a base58btc character")
        number = number * 58 + digit
    leading_zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * leading_zeros + body


def base32_encode(data: bytes) -> str:
    """RFC 4648 base32, lowercase, no padding (multibase ``b``)."""
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def base32_decode(text: str) -> bytes:
    padded = text.upper() + "=" * (-len(text) % 8)
    try:
        return base64.b32decode(padded)
    except ValueError as error:
        raise InvalidCid(f"not base32: {error}") from None


def sha256_multihash(block: bytes | memoryview) -> bytes:
    return bytes((SHA2_256, SHA2_256_LENGTH)) + hashlib.sha256(block).digest()


def _check_multihash(multihash: bytes) -> None:
    if len(multihash) != 2 + SHA2_256_LENGTH or multihash[0] != SHA2_256:
        raise InvalidCid("only sha2-256 multihashes (0x12, 32 bytes) are supported")
    if multihash[1] != SHA2_256_LENGTH:
        raise InvalidCid("sha2-256 multihash must declare a 32-byte digest")


@dataclass(frozen=True, slots=True)
class Cid:
    """A CID: version, codec and a sha2-256 multihash."""

    version: int
    codec: int
    multihash: bytes

    def __post_init__(self) -> None:
        if self.version not in (0, 1):
            raise InvalidCid(f"unsupported CID version {self.version}")
        if self.version == 0 and self.codec != DAG_PB:
            raise InvalidCid("a CIDv0 is always dag-pb")
        if self.codec not in KNOWN_CODECS:
            raise InvalidCid(f"unsupported codec 0x{self.codec:x} (dag-pb and raw only)")
        _check_multihash(self.multihash)

    @classmethod
    def for_block(cls, block: bytes | memoryview, *, codec: int, version: int) -> Cid:
        """The CID of ``block`` hashed with sha2-256."""
        return cls(version, codec, sha256_multihash(block))

    @classmethod
    def parse(cls, text: str) -> Cid:
        """Read a CID in any of the text forms described in the module docstring."""
        text = text.strip()
        if len(text) == 46 and text.startswith("Qm"):
            return cls(0, DAG_PB, base58btc_decode(text))
        if len(text) < 2:
            raise InvalidCid(f"{text!r} is not a CID")
        prefix, body = text[0], text[1:]
        if prefix in ("b", "B"):
            raw = base32_decode(body)
        elif prefix == "z":
            raw = base58btc_decode(body)
        else:
            raise InvalidCid(f"{text!r} is not a CID in base58btc or base32")
        cid, end = cls.read(raw)
        if end != len(raw) or cid.version != 1:
            raise InvalidCid(f"{text!r} is not a CIDv1")
        return cid

    @classmethod
    def from_bytes(cls, data: bytes) -> Cid:
        cid, end = cls.read(data)
        if end != len(data):
            raise InvalidCid("trailing bytes after CID")
        return cid

    @classmethod
    def read(cls, data: bytes | memoryview, offset: int = 0) -> tuple[Cid, int]:
        """Read a binary CID at ``offset``; return it and the offset after it."""
        if len(data) - offset >= 2 and data[offset] == SHA2_256 and data[offset + 1] == 0x20:
            end = offset + 2 + SHA2_256_LENGTH
            if end > len(data):
                raise InvalidCid("truncated CIDv0")
            return cls(0, DAG_PB, bytes(data[offset:end])), end
        version, position = decode_varint(data, offset)
        if version != 1:
            raise InvalidCid(f"unsupported CID version {version}")
        codec, position = decode_varint(data, position)
        hash_code, digest_start = decode_varint(data, position)
        length, digest_start = decode_varint(data, digest_start)
        if hash_code != SHA2_256 or length != SHA2_256_LENGTH:
            raise InvalidCid("only sha2-256 multihashes (0x12, 32 bytes) are supported")
        end = digest_start + length
        if end > len(data):
            raise InvalidCid("truncated multihash")
        return cls(1, codec, bytes(data[position:end])), end

    def to_bytes(self) -> bytes:
        if self.version == 0:
            return self.multihash
        return encode_varint(1) + encode_varint(self.codec) + self.multihash

    @property
    def digest(self) -> bytes:
        return self.multihash[2:]

    def matches(self, block: bytes | memoryview) -> bool:
        """True when ``block`` hashes to this CID's digest."""
        return hashlib.sha256(block).digest() == self.digest

    def __str__(self) -> str:
        if self.version == 0:
            return base58btc_encode(self.multihash)
        return "b" + base32_encode(self.to_bytes())

    def __repr__(self) -> str:
        return f"Cid({self})"
