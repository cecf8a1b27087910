"""Types of certificates/_fieldhash.c (the C fast path of disclosure.py and keccak.py)."""

from collections.abc import Mapping

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
