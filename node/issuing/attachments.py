"""Attached files sent with a document to issue (``POST /v1/documents``): taken from the
request, checked, bound into the document, and stored once the request is accepted.

A document to issue may carry ``attachments``: each entry ``{"name", "kind",
"mediaType"?, "content"}`` with ``content`` the file in base64. The node decodes it,
checks its magic bytes (PDF, PNG, JPEG; a declared ``mediaType`` must agree), applies
the size limits (per file and per request: 413 ``attachment-too-large``), computes its
SHA-256, seals it for the issuer and the addressees when the request is confidential,
and replaces ``content`` by ``size``, ``sha256`` and ``cid`` (the CID of what the store
will hold: the file, or its envelope) before the document is validated and signed.
Nothing is stored until every document of the request is accepted.

A sealed file's envelope takes its randomness from an HMAC of the node's key over the
request's Idempotency-Key and the file, so that a retry of the same request seals to the
same bytes (same CID, same document, the first answer replayed); without a key it is random.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from adapters import ContentError, ContentStore, ImportLayout, import_bytes
from certificates import Recipient, seal
from certificates.attachments import (
    AttachmentTooLarge,
    InvalidAttachment,
    sha256_hex,
    sniff_media_type,
)
from certificates.json_types import JsonObject, JsonValue

_ACCEPTED_KEYS: Final = {"name", "kind", "mediaType", "content"}
_COMPUTED_KEYS: Final = ("size", "sha256", "cid")


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    per_file: int
    per_request: int


@dataclass(frozen=True, slots=True)
class StagedAttachment:
    """What the store will hold for one file: the file itself, or its envelope."""

    cid: str
    content: bytes


def envelope_binding(sha256: str) -> tuple[str, bytes]:
    """The (document id, hash) a file's envelope is bound to: the file's own digest."""
    return f"attachment:{sha256}", bytes.fromhex(sha256)


def _randomness(secret: bytes | None, label: bytes) -> Callable[[int], bytes]:
    """Envelope randomness: an HMAC stream under ``secret`` and ``label``, or random."""
    if secret is None:
        return secrets.token_bytes
    counter = 0

    def take(size: int) -> bytes:
        nonlocal counter
        out = b""
        while len(out) < size:
            counter += 1
            out += hmac.new(secret, label + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        return out[:size]

    return take


def _decoded(entry: JsonObject, path: str) -> bytes:
    content = entry.get("content")
    if not isinstance(content, str):
        raise InvalidAttachment("an attachment needs its file as base64 in content", path=path)
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidAttachment(
            "content is not base64 (RFC 4648, with padding)", path=path
        ) from None


def take_attachments(
    values: Sequence[JsonValue],
    limits: AttachmentLimits,
    *,
    recipients_of: Callable[[JsonObject], Sequence[Recipient]] | None,
    sealing_secret: bytes | None,
    layout: ImportLayout,
    many: bool,
) -> tuple[list[JsonValue], list[StagedAttachment]]:
    """The documents with their attachments bound (content replaced by size, sha256 and
    cid), and what to store; ``recipients_of`` seals each file (confidential requests)."""
    bound: list[JsonValue] = []
    staged: list[StagedAttachment] = []
    total = 0
    for index, value in enumerate(values):
        entries = value.get("attachments") if isinstance(value, dict) else None
        if not isinstance(value, dict) or not isinstance(entries, list):
            bound.append(value)
            continue
        prefix = f"/{index}" if many else ""
        declared: list[JsonValue] = []
        for position, entry in enumerate(entries):
            path = f"{prefix}/attachments/{position}"
            if not isinstance(entry, dict):
                raise InvalidAttachment("an attachment is a JSON object", path=path)
            given = [key for key in _COMPUTED_KEYS if key in entry]
            if given:
                raise InvalidAttachment(
                    f"send the file as content; the node computes {', '.join(given)}", path=path
                )
            stray = sorted(set(entry) - _ACCEPTED_KEYS)
            if stray:
                raise InvalidAttachment(
                    f"unknown attachment field(s) {', '.join(stray)}: an attachment has "
                    "name, kind, mediaType and content",
                    path=path,
                )
            content = _decoded(entry, f"{path}/content")
            if len(content) > limits.per_file:
                raise AttachmentTooLarge(
                    f"attachment of {len(content)} bytes; the limit is {limits.per_file} "
                    "bytes per file",
                    path=f"{path}/content",
                )
            total += len(content)
            if total > limits.per_request:
                raise AttachmentTooLarge(
                    f"the attachments of this request exceed {limits.per_request} bytes",
                    path=f"{path}/content",
                )
            sniffed = sniff_media_type(content)
            if sniffed is None:
                raise InvalidAttachment(
                    "the file is not a PDF, PNG or JPEG (its first bytes are none of these)",
                    path=f"{path}/content",
                )
            claimed = entry.get("mediaType", sniffed)
            if claimed != sniffed:
                raise InvalidAttachment(
                    f"mediaType says {str(claimed)[:40]!r} but the file is {sniffed}",
                    path=f"{path}/mediaType",
                )
            digest = sha256_hex(content)
            stored = content
            if recipients_of is not None:
                document_id, binding = envelope_binding(digest)
                label = json.dumps([index, position, digest]).encode()
                envelope = seal(
                    content,
                    document_id=document_id,
                    target_hash=binding,
                    recipients=recipients_of(value),
                    random_bytes=_randomness(sealing_secret, label),
                )
                stored = json.dumps(envelope.to_json(), separators=(",", ":")).encode()
            cid = str(import_bytes(stored, layout).cid)
            staged.append(StagedAttachment(cid, stored))
            declared.append(
                {
                    **{key: entry[key] for key in ("name", "kind") if key in entry},
                    "mediaType": sniffed,
                    "size": len(content),
                    "sha256": digest,
                    "cid": cid,
                }
            )
        bound.append({**value, "attachments": declared})
    return bound, staged


def store_attachments(store: ContentStore, staged: Sequence[StagedAttachment]) -> None:
    """Put the accepted files (or envelopes) into the store, each under the CID bound."""
    for attachment in staged:
        cid = str(store.put(attachment.content))
        if cid != attachment.cid:
            raise ContentError(
                f"the store gave {cid} for an attachment bound as {attachment.cid}: "
                "the store's import settings differ from docex's"
            )
