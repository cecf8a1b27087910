"""Request bodies read as bytes, size-limited before they are read in full, parsed strictly.

FastAPI's own JSON body parsing is never used: py-evm raises the recursion limit at
import, after which ``json.loads`` of a deeply nested body can overflow the C stack and
kill the process. :func:`certificates.parse_strict_json` measures the nesting first.
"""

from __future__ import annotations

from fastapi import Request

from certificates import parse_strict_json
from certificates.errors import InputTooLarge, InvalidInput
from certificates.json_types import JsonValue
from node.errors import UnsupportedMediaType

JSON_MEDIA_TYPES = ("application/json",)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def is_json(content_type: str) -> bool:
    return content_type in JSON_MEDIA_TYPES or content_type.endswith("+json")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise InvalidInput("Content-Length is not a number") from None
        if length > limit:
            raise InputTooLarge(f"the body of {length} bytes is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InputTooLarge(f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int) -> JsonValue:
    """A strict JSON body (``application/json``), at most ``limit`` bytes."""
    content_type = media_type(request)
    if not is_json(content_type):
        raise UnsupportedMediaType(
            f"send the body as application/json, not {content_type or 'no content type'}"
        )
    return parse_strict_json(await read_body(request, limit), max_bytes=limit)


async def read_json_with_files(request: Request, limit: int, files_limit: int) -> JsonValue:
    """:func:`read_json` for a body that may also carry attached files as base64 (issuing,
    ADR 0061): up to ``limit`` bytes plus the base64 of ``files_limit`` bytes, but a body
    over ``limit`` that names no ``attachments`` is refused before it is parsed."""
    content_type = media_type(request)
    if not is_json(content_type):
        raise UnsupportedMediaType(
            f"send the body as application/json, not {content_type or 'no content type'}"
        )
    ceiling = limit + 4 * (files_limit // 3 + 1)
    body = await read_body(request, ceiling)
    if len(body) > limit and b'"attachments"' not in body:
        raise InputTooLarge(f"the body of {len(body)} bytes is larger than {limit} bytes")
    return parse_strict_json(body, max_bytes=ceiling)
