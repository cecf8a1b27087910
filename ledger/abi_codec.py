"""Encode calls and decode results, events and custom errors from a contract's JSON ABI.

Hand-rolled over eth-abi (not web3 contract objects) because the indexer decodes every
log and the transaction manager encodes every call: this path does no RPC and no
per-call ABI lookups.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode

from certificates.keccak import keccak256

AbiEntry = Mapping[str, Any]


def abi_type(param: AbiEntry) -> str:
    """The canonical type string of an ABI parameter (tuples spelled out)."""
    kind: str = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param.get("components", ()))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def signature(entry: AbiEntry) -> str:
    return f"{entry['name']}({','.join(abi_type(p) for p in entry.get('inputs', ()))})"


def _static_word_decoder(kind: str) -> Callable[[bytes], Any] | None:
    """A fast decoder of one 32-byte word for an elementary static type (None otherwise)."""
    if kind == "address":
        return lambda word: "0x" + word[12:32].hex()
    if kind == "bool":
        return lambda word: word[31] == 1
    if kind.startswith("uint"):
        return lambda word: int.from_bytes(word[:32], "big")
    if kind.startswith("int"):
        return lambda word: int.from_bytes(word[:32], "big", signed=True)
    if kind.startswith("bytes") and kind[5:].isdigit():
        size = int(kind[5:])
        return lambda word: bytes(word[:size])
    return None


HeadDecoder = Callable[[bytes, int], Any]


def _head_decoder(kind: str) -> HeadDecoder | None:
    """Decode the argument whose head word is at ``data[at:at+32]`` in a top-level tuple.

    Covers elementary static types, ``string``, ``bytes`` and ``T[]`` of elementary
    static ``T``; None for anything else (eth-abi then decodes the whole tuple).
    """
    word = _static_word_decoder(kind)
    if word is not None:
        return lambda data, at: word(data[at : at + 32])

    def tail(data: bytes, at: int) -> tuple[int, int]:
        offset = int.from_bytes(data[at : at + 32], "big")
        length = int.from_bytes(data[offset : offset + 32], "big")
        if offset + 32 > len(data) or length > len(data):
            raise ValueError("ABI offset or length beyond the data")
        return offset + 32, length

    if kind == "string":

        def string(data: bytes, at: int) -> str:
            start, length = tail(data, at)
            return data[start : start + length].decode("utf-8")

        return string
    if kind == "bytes":

        def raw(data: bytes, at: int) -> bytes:
            start, length = tail(data, at)
            return data[start : start + length]

        return raw
    if kind.endswith("[]"):
        element = _static_word_decoder(kind[:-2])
        if element is None:
            return None
        element_word = element

        def array(data: bytes, at: int) -> tuple[Any, ...]:
            start, length = tail(data, at)
            if start + 32 * length > len(data):
                raise ValueError("ABI array beyond the data")
            return tuple(
                element_word(data[start + 32 * i : start + 32 * i + 32]) for i in range(length)
            )

        return array
    return None


def _named(params: Sequence[AbiEntry], values: Sequence[Any]) -> dict[str, Any]:
    return {
        (p.get("name") or f"arg{i}"): v for i, (p, v) in enumerate(zip(params, values, strict=True))
    }


@dataclass(frozen=True, slots=True)
class FunctionCodec:
    name: str
    selector: bytes
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    mutability: str

    @classmethod
    def from_abi(cls, entry: AbiEntry) -> FunctionCodec:
        return cls(
            name=entry["name"],
            selector=keccak256(signature(entry).encode())[:4],
            input_types=tuple(abi_type(p) for p in entry.get("inputs", ())),
            output_types=tuple(abi_type(p) for p in entry.get("outputs", ())),
            mutability=entry.get("stateMutability", "nonpayable"),
        )

    def encode(self, args: Sequence[Any]) -> bytes:
        return self.selector + abi_encode(list(self.input_types), list(args))

    def decode_output(self, data: bytes) -> tuple[Any, ...]:
        return tuple(abi_decode(list(self.output_types), data))


@dataclass(frozen=True, slots=True)
class EventCodec:
    name: str
    topic0: bytes
    params: tuple[AbiEntry, ...]
    indexed: tuple[AbiEntry, ...]
    data_params: tuple[AbiEntry, ...]
    data_types: tuple[str, ...]
    #: per indexed parameter: a word decoder, or None to keep the topic (hashed dynamic)
    topic_decoders: tuple[Callable[[bytes], Any] | None, ...]
    #: per data parameter when every one has a fast decoder, else empty (eth-abi decodes)
    data_decoders: tuple[HeadDecoder, ...]
    #: an anonymous event has no signature topic: its first topic is its first indexed value
    anonymous: bool = False

    @classmethod
    def from_abi(cls, entry: AbiEntry) -> EventCodec:
        params = tuple(entry.get("inputs", ()))
        indexed = tuple(p for p in params if p.get("indexed"))
        data_params = tuple(p for p in params if not p.get("indexed"))
        data_types = tuple(abi_type(p) for p in data_params)
        head_decoders = [_head_decoder(kind) for kind in data_types]
        return cls(
            name=entry["name"],
            topic0=keccak256(signature(entry).encode()),
            params=params,
            indexed=indexed,
            data_params=data_params,
            data_types=data_types,
            topic_decoders=tuple(_static_word_decoder(abi_type(p)) for p in indexed),
            data_decoders=(
                tuple(d for d in head_decoders if d is not None)
                if all(d is not None for d in head_decoders)
                else ()
            ),
            anonymous=bool(entry.get("anonymous")),
        )

    def fits(self, topics: Sequence[bytes], data: bytes) -> bool:
        """Whether a log has this event's shape: its number of topics and, when all its data
        arguments are static, its data length."""
        if len(topics) != len(self.indexed) + (0 if self.anonymous else 1):
            return False
        head = 32 * len(self.data_types)
        dynamic = any(t in ("string", "bytes") or t.endswith("]") for t in self.data_types)
        return len(data) >= head if dynamic else len(data) == head

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        """Arguments by name; an indexed dynamic value stays as its 32-byte hash."""
        values: dict[str, Any] = {}
        for param, decoder, topic in zip(
            self.indexed,
            self.topic_decoders,
            topics if self.anonymous else topics[1:],
            strict=True,
        ):
            values[param["name"]] = topic if decoder is None else decoder(topic)
        if self.data_decoders or not self.data_types:
            if len(data) < 32 * len(self.data_decoders):
                raise ValueError(f"{self.name}: data shorter than its static arguments")
            decoded: Sequence[Any] = [
                decoder(data, 32 * i) for i, decoder in enumerate(self.data_decoders)
            ]
        else:
            decoded = abi_decode(list(self.data_types), data)
        values.update(_named(self.data_params, decoded))
        return {p["name"]: values[p["name"]] for p in self.params}


@dataclass(frozen=True, slots=True)
class ErrorCodec:
    name: str
    selector: bytes
    params: tuple[AbiEntry, ...]
    types: tuple[str, ...]

    @classmethod
    def from_abi(cls, entry: AbiEntry) -> ErrorCodec:
        params = tuple(entry.get("inputs", ()))
        return cls(
            name=entry["name"],
            selector=keccak256(signature(entry).encode())[:4],
            params=params,
            types=tuple(abi_type(p) for p in params),
        )

    def decode(self, data: bytes) -> dict[str, Any]:
        """Arguments by name of revert ``data`` (selector included)."""
        return _named(self.params, abi_decode(list(self.types), data[4:]))


#: Solidity's built-in revert payloads.
ERROR_STRING = ErrorCodec.from_abi(
    {"type": "error", "name": "Error", "inputs": [{"name": "reason", "type": "string"}]}
)
PANIC = ErrorCodec.from_abi(
    {"type": "error", "name": "Panic", "inputs": [{"name": "code", "type": "uint256"}]}
)


class ContractAbi:
    """The functions, events and custom errors of one ABI, indexed for decoding."""

    def __init__(self, abi: Sequence[AbiEntry]) -> None:
        self.entries = tuple(abi)
        self.functions: dict[str, FunctionCodec] = {}
        self.events: dict[str, EventCodec] = {}
        self.events_by_topic: dict[bytes, EventCodec] = {}
        #: anonymous events, recognised by their shape (``EventCodec.fits``)
        self.anonymous_events: list[EventCodec] = []
        self.errors: dict[bytes, ErrorCodec] = {}
        self.constructor_types: tuple[str, ...] = ()
        for entry in abi:
            kind = entry.get("type")
            if kind == "function":
                codec = FunctionCodec.from_abi(entry)
                self.functions.setdefault(codec.name, codec)
                self.functions[signature(entry)] = codec
            elif kind == "event":
                event = EventCodec.from_abi(entry)
                self.events[event.name] = event
                if event.anonymous:
                    self.anonymous_events.append(event)
                else:
                    self.events_by_topic[event.topic0] = event
            elif kind == "error":
                error = ErrorCodec.from_abi(entry)
                self.errors[error.selector] = error
            elif kind == "constructor":
                self.constructor_types = tuple(abi_type(p) for p in entry.get("inputs", ()))

    def event_of(self, topics: Sequence[bytes], data: bytes) -> EventCodec | None:
        """The event a log of this contract is: by its signature topic when the shape fits,
        else the anonymous event of its shape (an anonymous event's first topic is a value,
        which may equal another event's signature)."""
        if topics:
            named = self.events_by_topic.get(topics[0])
            if named is not None and named.fits(topics, data):
                return named
        return next((e for e in self.anonymous_events if e.fits(topics, data)), None)

    def function(self, name: str) -> FunctionCodec:
        try:
            return self.functions[name]
        except KeyError:
            raise KeyError(f"no function {name} in this ABI") from None

    def encode_constructor(self, args: Sequence[Any]) -> bytes:
        return abi_encode(list(self.constructor_types), list(args)) if args else b""
