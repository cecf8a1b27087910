"""Salted field hashes and selective disclosure (ADR 0001).

Every leaf of a document's JSON tree (a field) is hashed with its JSON Pointer path and
a fresh 128-bit salt; the target hash commits to the sorted set of field hashes. A
holder conceals a field by dropping its value and salt and keeping its field hash: the
target hash is unchanged, and without the salt the value cannot be guessed.

Concealing removes a member from its object; an array element is replaced by ``null``
so that later elements keep their paths. Such placeholders (and objects or arrays
emptied by concealment) carry no salt and are accepted only where a concealed field
lies at or below them.
"""

from __future__ import annotations

import copy
import secrets
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from json.encoder import encode_basestring as _encode_string

from certificates.canonical import NotCanonicalisable, canonical_string, canonicalize
from certificates.errors import InvalidInput
from certificates.json_pointer import escape_token, is_within, split
from certificates.json_types import JsonObject, JsonValue
from certificates.keccak import keccak256, keccak256_each
from certificates.native import speedups as _native

SALT_SIZE = 16
FIELD_PREFIX = b"\x02"
TARGET_PREFIX = b"\x03"
#: Fields a holder may not conceal: a verifier needs them to know what it is looking at.
UNCONCEALABLE = frozenset({"/documentType"})

RandomBytes = Callable[[int], bytes]


class DisclosureError(InvalidInput):
    """A conceal request or a salted document whose fields do not line up."""

    code = "invalid-disclosure"


def iter_fields(data: JsonValue, path: str = "") -> list[tuple[str, JsonValue]]:
    """Every field (leaf) of ``data`` with its JSON Pointer, depth first in document order.

    Leaves are scalars and empty objects or arrays. (Hot path: the C walk of
    certificates/_speedups.c where it applies, else one recursive walk that appends to a
    list, several times faster than nested generators.)
    """
    if _native is not None and not path:
        walked = _native.iter_fields(data)
        if walked is not None:
            return walked
    return python_iter_fields(data, path)


def python_iter_fields(data: JsonValue, path: str = "") -> list[tuple[str, JsonValue]]:
    """:func:`iter_fields` in Python alone (the reference the C walk is tested against)."""
    fields: list[tuple[str, JsonValue]] = []
    if (type(data) is dict or type(data) is list) and data:
        _collect_fields(data, path, fields)
    else:
        fields.append((path, data))
    return fields


def _collect_fields(
    container: dict[str, JsonValue] | list[JsonValue],
    path: str,
    fields: list[tuple[str, JsonValue]],
) -> None:
    items = container.items() if type(container) is dict else enumerate(container)
    for key, value in items:
        token = escape_token(key) if type(key) is str and ("~" in key or "/" in key) else key
        member = f"{path}/{token}"
        kind = type(value)
        if (kind is dict or kind is list) and value:
            _collect_fields(value, member, fields)  # type: ignore[arg-type]
        else:
            fields.append((member, value))


def field_paths(data: JsonValue) -> list[str]:
    """The paths of :func:`iter_fields`, in the same order (rebuilding a salts mapping)."""
    paths: list[str] = []
    if (type(data) is dict or type(data) is list) and data:
        _collect_paths(data, "", paths)
    else:
        paths.append("")
    return paths


def _collect_paths(
    container: dict[str, JsonValue] | list[JsonValue], path: str, paths: list[str]
) -> None:
    items = container.items() if type(container) is dict else enumerate(container)
    for key, value in items:
        token = escape_token(key) if type(key) is str and ("~" in key or "/" in key) else key
        kind = type(value)
        if (kind is dict or kind is list) and value:
            _collect_paths(value, f"{path}/{token}", paths)  # type: ignore[arg-type]
        else:
            paths.append(f"{path}/{token}")


def field_hash(path: str, salt: bytes, value: JsonValue) -> bytes:
    """keccak256(0x02 ‖ salt ‖ JCS(path) ‖ JCS(value))."""
    return keccak256(_field_message(path, value, salt))


# The hot path of wrap and verify is one message per field (_field_message: a string
# value's JCS is one C call; a path's is memoised, since the same paths recur in every
# document of a type), all hashed with one call.
_PATH_JSON: dict[str, bytes] = {}
_PATH_JSON_LIMIT = 1 << 16


def _path_json(path: str) -> bytes:
    """JCS(path) as UTF-8, memoised (the cache is emptied when it reaches its limit)."""
    encoded = _PATH_JSON.get(path)
    if encoded is None:
        try:
            encoded = canonical_string(path).encode("utf-8")
        except UnicodeEncodeError:
            raise NotCanonicalisable("text contains a lone surrogate", path=path or "/") from None
        if len(_PATH_JSON) >= _PATH_JSON_LIMIT:
            _PATH_JSON.clear()
        _PATH_JSON[path] = encoded
    return encoded


def _value_json(path: str, value: JsonValue) -> bytes:
    """JCS(value) as UTF-8; a lone surrogate is a typed error naming the field."""
    if type(value) is not str:
        return canonicalize(value)
    try:
        return _encode_string(value).encode("utf-8")
    except UnicodeEncodeError:
        raise NotCanonicalisable("text contains a lone surrogate", path=path or "/") from None


def salt_fields(
    fields: list[tuple[str, JsonValue]], random_bytes: RandomBytes
) -> tuple[bytes, bytes]:
    """Fresh salts for ``fields`` (a document's, as :func:`iter_fields` lists them; one
    call to ``random_bytes``), concatenated in field order, and the target hash they give."""
    size = SALT_SIZE * len(fields)
    pool = bytes(random_bytes(size))
    if len(pool) != size:
        raise DisclosureError("the random source returned too few bytes")
    if _native is not None:
        target = _native.pool_target(fields, pool)
        if target is not None:
            return pool, target
    return pool, python_pool_target(fields, pool)


def python_pool_target(fields: list[tuple[str, JsonValue]], pool: bytes) -> bytes:
    """The target hash of ``fields`` salted in order from ``pool``, in Python alone (the
    reference of certificates/_speedups.c's ``pool_target``)."""
    messages = [
        _field_message(path, value, salt)
        for (path, value), salt in zip(
            fields, _salt_splitter(len(fields)).unpack(pool), strict=True
        )
    ]
    return target_hash(keccak256_each(messages))


def _field_message(path: str, value: JsonValue, salt: bytes) -> bytes:
    """What a field's hash is taken of: 0x02 ‖ salt ‖ JCS(path) ‖ JCS(value)."""
    if type(value) is str:
        try:
            encoded = _encode_string(value).encode("utf-8")
        except UnicodeEncodeError:
            encoded = _value_json(path, value)  # raises, naming the field
    else:
        encoded = canonicalize(value)
    return b"".join((FIELD_PREFIX, salt, _PATH_JSON.get(path) or _path_json(path), encoded))


def target_hash(field_hashes: Iterable[bytes]) -> bytes:
    """keccak256(0x03 ‖ the field hashes in ascending order)."""
    return keccak256(TARGET_PREFIX + b"".join(sorted(field_hashes)))


def split_salts(paths: Sequence[str], pool: bytes) -> dict[str, bytes]:
    """The salt of each field from the salts concatenated in field order."""
    return dict(zip(paths, _salt_splitter(len(paths)).unpack(pool), strict=True))


@lru_cache(maxsize=1024)
def _salt_splitter(count: int) -> struct.Struct:
    """Cuts ``count`` salts apart in one call (a slice per salt costs more)."""
    return struct.Struct(f"{SALT_SIZE}s" * count)


@dataclass(frozen=True, slots=True)
class SaltedDocument:
    """A document's visible data, the salts of its visible fields and its concealed hashes."""

    data: JsonObject
    salts: Mapping[str, bytes]
    concealed: Mapping[str, bytes]

    @classmethod
    def salt(
        cls, data: JsonObject, random_bytes: RandomBytes = secrets.token_bytes
    ) -> SaltedDocument:
        """Give every field of ``data`` its own fresh salt (one call to ``random_bytes``)."""
        return cls.salt_with_target(data, random_bytes)[0]

    @classmethod
    def salt_with_target(
        cls, data: JsonObject, random_bytes: RandomBytes = secrets.token_bytes
    ) -> tuple[SaltedDocument, bytes]:
        """Salt every field and compute the target hash in the same walk (the issue path)."""
        fields = iter_fields(data)
        pool, target = salt_fields(fields, random_bytes)
        paths = [path for path, _ in fields]
        return cls(data=data, salts=split_salts(paths, pool), concealed={}), target

    def field_hashes(self) -> list[bytes]:
        """Hashes of all fields, visible (recomputed) and concealed (as given).

        Raises :class:`DisclosureError` when the visible fields, the salts and the
        concealed paths do not line up exactly (an unsalted value, a stray salt, a field
        both shown and concealed): such a document cannot be checked.
        """
        if _native is not None:
            hashes = _native.salted_field_hashes(iter_fields(self.data), self.salts, self.concealed)
            if hashes is not None:
                hashes.extend(self.concealed.values())
                return hashes
        return self.python_field_hashes()

    def python_field_hashes(self) -> list[bytes]:
        """:meth:`field_hashes` in Python alone: the reference of the C fast path, and the
        code that tells a placeholder from an error and names the field."""
        salts = self.salts
        concealed = self.concealed
        messages: list[bytes] = []
        append = messages.append
        # a walk never yields a path twice, so counting the salts used finds a stray one
        used = 0
        for path, value in python_iter_fields(self.data):
            salt = salts.get(path)
            if salt is None:
                if self._is_placeholder(path, value):
                    continue
                raise DisclosureError("field has no salt", path=path or "/")
            if len(salt) != SALT_SIZE:
                raise DisclosureError(f"salt must be {SALT_SIZE} bytes", path=path or "/")
            if concealed and path in concealed:
                raise DisclosureError("field is both shown and concealed", path=path or "/")
            append(_field_message(path, value, salt))
            used += 1
        if used != len(salts):
            seen = {path for path, _ in iter_fields(self.data)}
            stray = sorted(set(salts) - seen)[0]
            raise DisclosureError("salt for a field the document does not have", path=stray)
        hashes = keccak256_each(messages)
        hashes.extend(concealed.values())
        return hashes

    def target_hash(self) -> bytes:
        return target_hash(self.field_hashes())

    def conceal(self, paths: Iterable[str]) -> SaltedDocument:
        """A copy with the fields at (or below) each of ``paths`` concealed."""
        data = copy.deepcopy(self.data)
        salts = dict(self.salts)
        concealed = dict(self.concealed)
        for path in paths:
            if any(is_within(fixed, path) for fixed in UNCONCEALABLE):
                raise DisclosureError("this field cannot be concealed", path=path or "/")
            tokens = split(path)
            target = _resolve(data, tokens, path)
            for leaf_path, value in iter_fields(target, path):
                salt = salts.pop(leaf_path, None)
                if salt is None:  # already concealed, or a placeholder
                    continue
                concealed[leaf_path] = field_hash(leaf_path, salt, value)
            _remove(data, tokens, path)
        return SaltedDocument(data=data, salts=salts, concealed=concealed)

    def _is_placeholder(self, path: str, value: JsonValue) -> bool:
        if value not in (None, {}, []):
            return False
        return any(is_within(hidden, path) for hidden in self.concealed)


def _resolve(data: JsonValue, tokens: list[str], path: str) -> JsonValue:
    node = data
    for token in tokens:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise DisclosureError("no such field", path=path)
    return node


def _remove(data: JsonObject, tokens: list[str], path: str) -> None:
    if not tokens:
        raise DisclosureError("the whole document cannot be concealed", path="/")
    parent = _resolve(data, tokens[:-1], path)
    last = tokens[-1]
    if isinstance(parent, dict):
        del parent[last]
    elif isinstance(parent, list):
        parent[int(last)] = None
