"""OpenAttestation v2 hashing, as OA's own library computes it (``2.0/digest.js``, ``merkle``).

- Every leaf of ``data`` is flattened to a dotted key (``issuers.0.name``; empty objects
  and arrays are leaves), and hashed as keccak256 of ``JSON.stringify({key: value})``.
- The target hash is keccak256 of ``JSON.stringify`` of the sorted list of those hashes
  (hex text) together with the obfuscated hashes of ``privacy.obfuscatedData``.
- The Merkle root is reached from the target hash by hashing it with each proof element,
  the pair sorted as bytes first (keccak256(min ‖ max)).

This is not docex's own scheme (ADR 0001: path-bound, domain-separated field hashes and
leaves); it is reproduced here only to check documents other systems issued.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable

from certificates.canonical import canonical_number
from certificates.json_types import JsonValue
from certificates.keccak import keccak256

_HEX_HASH = re.compile(r"^[0-9a-fA-F]{64}$")


class NotDigestable(ValueError):
    """Data OA's own library cannot digest either (it throws): the reason is the message."""


def flatten(data: JsonValue) -> list[tuple[str, JsonValue]]:
    """The leaves of ``data`` keyed as OA's ``flatten`` (flatley, '.' as the delimiter)."""
    leaves: list[tuple[str, JsonValue]] = []
    _flatten_into(data, "", leaves)
    return leaves


def _flatten_into(value: JsonValue, prefix: str, leaves: list[tuple[str, JsonValue]]) -> None:
    members: Iterable[tuple[str, JsonValue]]
    if isinstance(value, dict):
        members = value.items()
    elif isinstance(value, list):
        members = ((str(index), member) for index, member in enumerate(value))
    else:  # pragma: no cover - callers pass containers
        return
    for key, member in members:
        if "." in key:
            # OA's flatten runs a filter that throws on such keys: no digest exists.
            raise NotDigestable(f"the key {key!r} contains '.', which OpenAttestation forbids")
        dotted = f"{prefix}.{key}" if prefix else key
        if isinstance(member, (dict, list)) and member:
            _flatten_into(member, dotted, leaves)
        else:
            leaves.append((dotted, member))


def js_stringify(value: JsonValue) -> str:
    """``JSON.stringify`` of a JSON value (compact; numbers as ECMAScript prints them)."""
    if isinstance(value, float) and not isinstance(value, bool):
        return _js_number_text(value)
    if isinstance(value, dict):
        members = ",".join(f"{js_stringify(key)}:{js_stringify(m)}" for key, m in value.items())
        return "{" + members + "}"
    if isinstance(value, list):
        return "[" + ",".join(js_stringify(member) for member in value) + "]"
    # str, int, bool, None: Python's compact, non-ASCII-preserving form is JavaScript's.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _js_number_text(number: float) -> str:
    # ECMAScript's Number::toString is RFC 8785's number form; JSON.stringify(NaN) is null.
    return canonical_number(number) if math.isfinite(number) else "null"


def leaf_hash(key: str, value: JsonValue) -> str:
    """keccak256(JSON.stringify({key: value})) as 64 lower-case hex digits."""
    return keccak256(js_stringify({key: value}).encode("utf-8")).hex()


def digest_document(data: JsonValue, obfuscated: Iterable[str]) -> str:
    """The target hash OA computes for visible ``data`` and the obfuscated hashes."""
    hashes = [*obfuscated, *(leaf_hash(key, value) for key, value in flatten(data))]
    ordered: list[JsonValue] = [*sorted(hashes)]
    return keccak256(js_stringify(ordered).encode("utf-8")).hex()


def is_hex_hash(value: JsonValue) -> bool:
    return isinstance(value, str) and _HEX_HASH.fullmatch(value) is not None


def combine(first: bytes, second: bytes) -> bytes:
    """OA's ``combineHashBuffers``: keccak256 of the two hashes sorted as bytes."""
    low, high = sorted((first, second))
    return keccak256(low + high)


def intermediate_hashes(target_hash: bytes, proof: Iterable[bytes]) -> list[bytes]:
    """The target hash, each node on the way up and the root (OA revokes any of them)."""
    path = [target_hash]
    for sibling in proof:
        path.append(combine(path[-1], sibling))
    return path


def root_from_proof(target_hash: bytes, proof: Iterable[bytes]) -> bytes:
    """OA's ``checkProof`` walk: the root the proof leads to from the target hash."""
    return intermediate_hashes(target_hash, proof)[-1]
