"""CARv1: the content-addressed archive ``ipfs dag export`` writes and ``dag import`` reads.

A CAR is a varint-prefixed dag-cbor header ``{"roots": [CID, ...], "version": 1}``
followed by sections ``varint(len(cid) + len(block)) || cid || block``. The writer
emits the header in canonical dag-cbor (keys by length, then bytes); the reader takes
any valid CBOR map with those keys. Every block read is checked against its CID.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, Final

from adapters.content.blockstore import MAX_BLOCK_SIZE
from adapters.content.cid import Cid, encode_varint
from adapters.errors import BlockMismatch, ContentTooLarge, InvalidCar, InvalidCid

MAX_HEADER_SIZE: Final = 64 * 1024
_CID_TAG: Final = 42

#: returns up to ``n`` bytes; fewer only at the end of the stream
ReadFunction = Callable[[int], bytes]


def _cbor_head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes((major << 5 | value,))
    for extra, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * width):
            return bytes((major << 5 | extra,)) + value.to_bytes(width, "big")
    raise InvalidCar("CBOR value too large")


def encode_header(roots: Iterable[Cid]) -> bytes:
    """The dag-cbor CARv1 header for ``roots``, with its varint length prefix."""
    root_list = list(roots)
    parts = [_cbor_head(5, 2), _cbor_head(3, 5), b"roots", _cbor_head(4, len(root_list))]
    for root in root_list:
        cid_bytes = b"\x00" + root.to_bytes()
        parts += [_cbor_head(6, _CID_TAG), _cbor_head(2, len(cid_bytes)), cid_bytes]
    parts += [_cbor_head(3, 7), b"version", _cbor_head(0, 1)]
    header = b"".join(parts)
    return encode_varint(len(header)) + header


def encode_section(cid: Cid, block: bytes) -> bytes:
    cid_bytes = cid.to_bytes()
    return encode_varint(len(cid_bytes) + len(block)) + cid_bytes + block


def write_car(roots: Iterable[Cid], blocks: Iterable[tuple[Cid, bytes]], out: BinaryIO) -> int:
    """Write a CARv1 to ``out``; return the number of blocks written."""
    out.write(encode_header(roots))
    count = 0
    for cid, block in blocks:
        out.write(encode_section(cid, block))
        count += 1
    return count


def car_stream(roots: Iterable[Cid], blocks: Iterable[tuple[Cid, bytes]]) -> Iterator[bytes]:
    """The CARv1 as a stream of byte strings (the header, then one per block)."""
    yield encode_header(roots)
    for cid, block in blocks:
        yield encode_section(cid, block)


class _CborDecoder:
    """Just enough CBOR for CAR headers: ints, strings, arrays, maps, tag 42, simple values."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def _take(self, count: int) -> bytes:
        end = self.position + count
        if end > len(self.data):
            raise InvalidCar("CAR header is truncated")
        chunk = self.data[self.position : end]
        self.position = end
        return chunk

    def _argument(self, info: int) -> int:
        if info < 24:
            return info
        widths = {24: 1, 25: 2, 26: 4, 27: 8}
        if info not in widths:
            raise InvalidCar("indefinite-length CBOR is not dag-cbor")
        return int.from_bytes(self._take(widths[info]), "big")

    def item(self, depth: int = 0) -> object:
        if depth > 8:
            raise InvalidCar("CAR header nests too deeply")
        initial = self._take(1)[0]
        major, info = initial >> 5, initial & 0x1F
        if major == 7:
            simple = {20: False, 21: True, 22: None}
            if info not in simple:
                raise InvalidCar("unsupported CBOR simple value in CAR header")
            return simple[info]
        value = self._argument(info)
        if major == 0:
            return value
        if major == 1:
            return -1 - value
        if major == 2:
            return self._take(value)
        if major == 3:
            try:
                return self._take(value).decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidCar("CAR header string is not UTF-8") from None
        if major == 4:
            return [self.item(depth + 1) for _ in range(value)]
        if major == 5:
            entries: dict[str, object] = {}
            for _ in range(value):
                key = self.item(depth + 1)
                if not isinstance(key, str):
                    raise InvalidCar("CAR header map keys must be strings")
                entries[key] = self.item(depth + 1)
            return entries
        # major 6: a tag; only 42 (CID) appears in a CAR header
        if value != _CID_TAG:
            raise InvalidCar(f"unexpected CBOR tag {value} in CAR header")
        content = self.item(depth + 1)
        if not isinstance(content, bytes) or not content.startswith(b"\x00"):
            raise InvalidCar("CID in CAR header is not a 0x00-prefixed byte string")
        try:
            return Cid.from_bytes(content[1:])
        except InvalidCid as error:
            raise InvalidCar(f"CAR header root: {error.message}") from None


def _read_varint(read: ReadFunction) -> int | None:
    """A section length, or None at a clean end of stream."""
    value = 0
    for index in range(9):
        byte = read(1)
        if not byte:
            if index == 0:
                return None
            raise InvalidCar("CAR stream ends inside a varint")
        value |= (byte[0] & 0x7F) << (7 * index)
        if not byte[0] & 0x80:
            return value
    raise InvalidCar("varint longer than 9 bytes in CAR stream")


def _read_exact(read: ReadFunction, count: int) -> bytes:
    data = read(count)
    while len(data) < count:
        more = read(count - len(data))
        if not more:
            raise InvalidCar("CAR stream ends inside a section")
        data += more
    return data


class CarReader:
    """Reads a CARv1 from a ``read(n)`` function, block by block, checking each block."""

    def __init__(self, read: ReadFunction, *, max_block_size: int = MAX_BLOCK_SIZE) -> None:
        self._read = read
        self._max_section = max_block_size + 64
        length = _read_varint(read)
        if length is None:
            raise InvalidCar("empty CAR stream")
        if length == 0 or length > MAX_HEADER_SIZE:
            raise InvalidCar(f"CAR header length {length} is out of range")
        header = _CborDecoder(_read_exact(read, length))
        parsed = header.item()
        if not isinstance(parsed, dict):
            raise InvalidCar("CAR header is not a map")
        if parsed.get("version") != 1:
            raise InvalidCar(f"CAR version {parsed.get('version')!r} (only CARv1 is read)")
        roots = parsed.get("roots")
        if not isinstance(roots, list) or not all(isinstance(root, Cid) for root in roots):
            raise InvalidCar("CAR header roots are not a list of CIDs")
        self.roots: tuple[Cid, ...] = tuple(root for root in roots if isinstance(root, Cid))

    @classmethod
    def from_stream(cls, stream: BinaryIO, *, max_block_size: int = MAX_BLOCK_SIZE) -> CarReader:
        return cls(stream.read, max_block_size=max_block_size)

    def blocks(self) -> Iterator[tuple[Cid, bytes]]:
        """Each section's CID and block; BlockMismatch if a block does not match its CID."""
        while True:
            length = _read_varint(self._read)
            if length is None:
                return
            if length > self._max_section:
                raise ContentTooLarge(f"CAR section of {length} bytes exceeds the block limit")
            section = _read_exact(self._read, length)
            try:
                cid, offset = Cid.read(section)
            except InvalidCid as error:
                raise InvalidCar(f"CAR section CID: {error.message}") from None
            block = section[offset:]
            if not cid.matches(block):
                raise BlockMismatch(f"CAR block does not hash to {cid}")
            yield cid, block
