"""Types of certificates/_speedups.c (the C fast paths of disclosure.py, keccak.py and
strict_json.py)."""

from collections.abc import Callable, Mapping

from certificates.json_types import JsonValue

def keccak256(data: bytes, /) -> bytes: ...
def iter_fields(data: JsonValue, /) -> list[tuple[str, JsonValue]] | None: ...
def pool_target(fields: list[tuple[str, JsonValue]], pool: bytes, /) -> bytes | None: ...
def salted_field_hashes(
    fields: list[tuple[str, JsonValue]],
    salts: Mapping[str, bytes],
    concealed: Mapping[str, bytes],
    /,
) -> list[bytes] | None: ...
def plain_json(value: object, max_depth: int, text_is_fine: Callable[[str], bool], /) -> bool: ...
