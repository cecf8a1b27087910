"""The dag-pb codec (PBNode, PBLink) and the UnixFS ``Data`` message, by hand.

Encoding follows the dag-pb specification's canonical form: links first (field 2),
then data (field 1); inside a link, Hash (1), Name (2), Tsize (3). Decoding is
strict the same way, so one node has exactly one encoding and one CID.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from adapters.content.cid import Cid, decode_varint, encode_varint
from adapters.errors import InvalidBlock, InvalidCid

_WIRE_VARINT: Final = 0
_WIRE_BYTES: Final = 2

UNIXFS_RAW: Final = 0
UNIXFS_DIRECTORY: Final = 1
UNIXFS_FILE: Final = 2


@dataclass(frozen=True, slots=True)
class PBLink:
    hash: Cid
    name: str | None = ""
    tsize: int | None = None


@dataclass(frozen=True, slots=True)
class PBNode:
    links: tuple[PBLink, ...]
    data: bytes | None


@dataclass(frozen=True, slots=True)
class UnixFsData:
    """The UnixFS protobuf carried in a dag-pb node's Data (only the file fields)."""

    type: int
    data: bytes | None = None
    filesize: int | None = None
    blocksizes: tuple[int, ...] = ()


def _key(field: int, wire_type: int) -> bytes:
    return encode_varint(field << 3 | wire_type)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _key(field, _WIRE_BYTES) + encode_varint(len(payload)) + payload


def encode_link(link: PBLink) -> bytes:
    parts = [_length_delimited(1, link.hash.to_bytes())]
    if link.name is not None:
        parts.append(_length_delimited(2, link.name.encode("utf-8")))
    if link.tsize is not None:
        parts.append(_key(3, _WIRE_VARINT) + encode_varint(link.tsize))
    return b"".join(parts)


def encode_node(node: PBNode) -> bytes:
    parts = [_length_delimited(2, encode_link(link)) for link in node.links]
    if node.data is not None:
        parts.append(_length_delimited(1, node.data))
    return b"".join(parts)


def encode_unixfs(unixfs: UnixFsData) -> bytes:
    parts = [_key(1, _WIRE_VARINT) + encode_varint(unixfs.type)]
    if unixfs.data:
        parts.append(_length_delimited(2, unixfs.data))
    if unixfs.filesize is not None:
        parts.append(_key(3, _WIRE_VARINT) + encode_varint(unixfs.filesize))
    parts.extend(_key(4, _WIRE_VARINT) + encode_varint(size) for size in unixfs.blocksizes)
    return b"".join(parts)


def file_leaf_block(chunk: bytes) -> bytes:
    """A dag-pb UnixFS file leaf holding ``chunk`` (``ipfs add`` without raw leaves)."""
    # Same bytes as _length_delimited(1, encode_unixfs(...)), with one copy of the chunk
    # instead of four: this is the importer's hot path for CIDv0.
    size = encode_varint(len(chunk))
    head = _key(1, _WIRE_VARINT) + encode_varint(UNIXFS_FILE)
    if chunk:
        head += _key(2, _WIRE_BYTES) + size
    tail = _key(3, _WIRE_VARINT) + size
    unixfs_length = len(head) + len(chunk) + len(tail)
    return b"".join((_key(1, _WIRE_BYTES), encode_varint(unixfs_length), head, chunk, tail))


class _Reader:
    """Protobuf field reader over one message; raises InvalidBlock on any malformation."""

    def __init__(self, data: bytes | memoryview) -> None:
        self.data = memoryview(data)
        self.position = 0

    def at_end(self) -> bool:
        return self.position >= len(self.data)

    def varint(self) -> int:
        try:
            value, self.position = decode_varint(self.data, self.position)
        except InvalidCid as error:
            raise InvalidBlock(f"bad protobuf varint: {error.message}") from None
        return value

    def key(self) -> tuple[int, int]:
        key = self.varint()
        return key >> 3, key & 0x7

    def length_delimited(self) -> memoryview:
        length = self.varint()
        end = self.position + length
        if end > len(self.data):
            raise InvalidBlock("protobuf field runs past the end of the block")
        value = self.data[self.position : end]
        self.position = end
        return value


def decode_node(block: bytes | memoryview) -> PBNode:
    """Decode a dag-pb block strictly (links before data, data at most once)."""
    reader = _Reader(block)
    links: list[PBLink] = []
    data: bytes | None = None
    while not reader.at_end():
        field, wire_type = reader.key()
        if wire_type != _WIRE_BYTES:
            raise InvalidBlock(f"dag-pb field {field} has wire type {wire_type}")
        if field == 2:
            if data is not None:
                raise InvalidBlock("dag-pb links must come before data")
            links.append(_decode_link(reader.length_delimited()))
        elif field == 1:
            if data is not None:
                raise InvalidBlock("dag-pb node has two data fields")
            data = bytes(reader.length_delimited())
        else:
            raise InvalidBlock(f"unknown dag-pb node field {field}")
    return PBNode(tuple(links), data)


def _decode_link(encoded: memoryview) -> PBLink:
    reader = _Reader(encoded)
    hash_: Cid | None = None
    name: str | None = None
    tsize: int | None = None
    last_field = 0
    while not reader.at_end():
        field, wire_type = reader.key()
        if field <= last_field:
            raise InvalidBlock("dag-pb link fields out of order or repeated")
        last_field = field
        if field == 1 and wire_type == _WIRE_BYTES:
            try:
                hash_ = Cid.from_bytes(bytes(reader.length_delimited()))
            except InvalidCid as error:
                raise InvalidBlock(f"dag-pb link hash: {error.message}") from None
        elif field == 2 and wire_type == _WIRE_BYTES:
            try:
                name = bytes(reader.length_delimited()).decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidBlock("dag-pb link name is not UTF-8") from None
        elif field == 3 and wire_type == _WIRE_VARINT:
            tsize = reader.varint()
        else:
            raise InvalidBlock(f"unknown dag-pb link field {field}/{wire_type}")
    if hash_ is None:
        raise InvalidBlock("dag-pb link without a hash")
    return PBLink(hash_, name, tsize)


def decode_unixfs(encoded: bytes | memoryview) -> UnixFsData:
    """Decode the UnixFS Data message; fields docex does not use are skipped."""
    reader = _Reader(encoded)
    type_: int | None = None
    data: bytes | None = None
    filesize: int | None = None
    blocksizes: list[int] = []
    while not reader.at_end():
        field, wire_type = reader.key()
        if wire_type == _WIRE_VARINT:
            value = reader.varint()
            if field == 1:
                type_ = value
            elif field == 3:
                filesize = value
            elif field == 4:
                blocksizes.append(value)
        elif wire_type == _WIRE_BYTES:
            payload = reader.length_delimited()
            if field == 2:
                data = bytes(payload)
            elif field == 4:  # packed blocksizes, accepted though writers do not pack
                packed = _Reader(payload)
                while not packed.at_end():
                    blocksizes.append(packed.varint())
        elif wire_type == 5:  # fixed32 (mtime nanoseconds live in a nested message)
            reader.position += 4
        elif wire_type == 1:
            reader.position += 8
        else:
            raise InvalidBlock(f"UnixFS field {field} has wire type {wire_type}")
        if reader.position > len(reader.data):
            raise InvalidBlock("UnixFS field runs past the end")
    if type_ is None:
        raise InvalidBlock("UnixFS data without a type")
    return UnixFsData(type_, data, filesize, tuple(blocksizes))
