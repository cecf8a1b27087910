"""Bitstring Status List v1.0: the entries a credential carries and the list credentials.

A list is a bitstring of at least 16 KiB (131,072 entries, as the specification requires
for herd privacy), GZIP-compressed and multibase base64url-encoded (``u`` prefix, no
padding). Bit 0 is the most significant bit of the first byte. One list per purpose:
``revocation`` (for ever) and ``suspension`` (may be lifted).
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final, Literal

from adapters.formats.errors import InvalidCredential
from adapters.formats.vc.jws import b64url, b64url_decode
from certificates.json_types import JsonObject

MIN_BITS: Final = 16 * 1024 * 8
MAX_BITS: Final = 1 << 27  # 16 MiB of bitstring: far more documents than a list should hold
VC_V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"

StatusPurpose = Literal["revocation", "suspension"]


def encode_status_list(set_indexes: Iterable[int], *, length: int = MIN_BITS) -> str:
    """``encodedList`` with the given indexes set (revoked or suspended)."""
    if not MIN_BITS <= length <= MAX_BITS or length % 8:
        raise ValueError(f"a status list has a multiple of 8 bits, {MIN_BITS} to {MAX_BITS}")
    bits = bytearray(length // 8)
    for index in set_indexes:
        if not 0 <= index < length:
            raise ValueError(f"status index {index} is outside the list (0 to {length - 1})")
        bits[index // 8] |= 0x80 >> (index % 8)
    return "u" + b64url(gzip.compress(bytes(bits), mtime=0))


def decode_status_list(encoded: str) -> bytes:
    """The bitstring of an ``encodedList`` (bounded: a hostile list cannot inflate forever)."""
    if not encoded.startswith("u"):
        raise InvalidCredential('encodedList must be multibase base64url (start with "u")')
    try:
        compressed = b64url_decode(encoded[1:])
        with gzip.GzipFile(fileobj=io.BytesIO(compressed)) as stream:
            bits = stream.read(MAX_BITS // 8 + 1)
    except (ValueError, OSError, EOFError) as exc:
        raise InvalidCredential(f"encodedList is not a GZIP-compressed bitstring: {exc}") from None
    if len(bits) > MAX_BITS // 8:
        raise InvalidCredential("encodedList expands beyond the largest list docex reads")
    if len(bits) * 8 < MIN_BITS:
        raise InvalidCredential(f"a status list has at least {MIN_BITS} entries")
    return bits


def status_bit(bits: bytes, index: int) -> bool:
    if not 0 <= index < len(bits) * 8:
        raise InvalidCredential(f"status index {index} is outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_entry(list_url: str, index: int, purpose: StatusPurpose) -> JsonObject:
    """A ``BitstringStatusListEntry`` pointing at bit ``index`` of the list at ``list_url``."""
    if index < 0:
        raise ValueError("a status index is >= 0")
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list_credential(
    *,
    list_url: str,
    issuer: str,
    purpose: StatusPurpose,
    set_indexes: Iterable[int],
    valid_from: datetime,
    length: int = MIN_BITS,
) -> JsonObject:
    """The unsecured ``BitstringStatusListCredential`` (secure it with ``secure_credential``)."""
    return {
        "@context": [VC_V2_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": timestamp(valid_from),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_status_list(set_indexes, length=length),
        },
    }


def timestamp(moment: datetime) -> str:
    """An XML Schema dateTime in UTC, to the second (``2024-03-01T00:00:00Z``)."""
    if moment.tzinfo is None:
        raise ValueError("a credential time needs a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
