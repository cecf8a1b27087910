"""Encode calls and decode results, events and custom errors from a contract's JSON ABI.

Hand-rolled over eth-abi (not web3 contract objects) because the indexer decodes every
log and the transaction manager encodes every call: this path does no RPC and no
per-call ABI lookups.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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

    @classmethod
    def from_abi(cls, entry: AbiEntry) -> EventCodec:
        params = tuple(entry.get("inputs", ()))
        data_params = tuple(p for p in params if not p.get("indexed"))
        return cls(
            name=entry["name"],
            topic0=keccak256(signature(entry).encode()),
            params=params,
            indexed=tuple(p for p in params if p.get("indexed")),
            data_params=data_params,
            data_types=tuple(abi_type(p) for p in data_params),
        )

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        """Arguments by name; an indexed dynamic value stays as its 32-byte hash."""
        values: dict[str, Any] = {}
        for param, topic in zip(self.indexed, topics[1:], strict=True):
            kind = abi_type(param)
            if kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("("):
                values[param["name"]] = topic
            else:
                values[param["name"]] = abi_decode([kind], topic)[0]
        decoded = abi_decode(list(self.data_types), data) if self.data_types else ()
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
                self.events_by_topic[event.topic0] = event
            elif kind == "error":
                error = ErrorCodec.from_abi(entry)
                self.errors[error.selector] = error
            elif kind == "constructor":
                self.constructor_types = tuple(abi_type(p) for p in entry.get("inputs", ()))

    def function(self, name: str) -> FunctionCodec:
        try:
            return self.functions[name]
        except KeyError:
            raise KeyError(f"no function {name} in this ABI") from None

    def encode_constructor(self, args: Sequence[Any]) -> bytes:
        return abi_encode(list(self.constructor_types), list(args)) if args else b""
