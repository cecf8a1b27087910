"""Attached files: what their first bytes say they are, and the ``attachments`` check.

Pure: the node reads the files (content store, envelopes) and hands their bytes here.
A document binds each file by SHA-256 (``certificates.schemas.attachments``); the check
compares the bytes found with that digest, one verdict for all of a document's files:

- ``attachments-intact`` (valid): every file was found and hashes to its digest;
- ``attachment-changed`` (invalid): a file was found but its bytes differ (named by index);
- ``attachment-missing`` (invalid): a file could not be found where the document says;
- ``attachment-sealed`` (skipped): a confidential file this verifier is not a recipient of.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final

from certificates.check_codes import CheckCode
from certificates.errors import Invalid, TooLarge
from certificates.json_types import JsonValue
from certificates.verdict import CheckResult

ATTACHMENTS: Final = "attachments"

#: magic bytes -> media type (the formats ATIGA and customs systems exchange as files)
_MAGIC: Final = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


class InvalidAttachment(Invalid):
    """An attached file docex cannot take: not base64, not the format it claims, ..."""

    code = "invalid-attachment"


class AttachmentTooLarge(TooLarge):
    """An attached file, or all of a request's files together, over the node's limit."""

    code = "attachment-too-large"


def sniff_media_type(content: bytes) -> str | None:
    """The media type the file's magic bytes show (PDF, PNG, JPEG), or None."""
    for magic, media_type in _MAGIC:
        if content.startswith(magic):
            return media_type
    return None


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class Found(Enum):
    """What a verifier could not read of an attachment (bytes otherwise)."""

    MISSING = "missing"
    SEALED = "sealed"
    #: the stored blocks or envelope no longer verify: the content was changed in place
    CORRUPTED = "corrupted"


@dataclass(frozen=True, slots=True)
class DeclaredAttachment:
    """An attachment as the document declares it (the fields the check needs)."""

    name: str
    sha256: str
    cid: str

    @classmethod
    def all_of(cls, data: JsonValue) -> list[DeclaredAttachment]:
        """The attachments a document's visible data declares (none when absent or concealed)."""
        entries = data.get("attachments") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            return []
        declared = []
        for entry in entries:
            if isinstance(entry, dict):
                name, digest, cid = entry.get("name"), entry.get("sha256"), entry.get("cid")
                if isinstance(name, str) and isinstance(digest, str) and isinstance(cid, str):
                    declared.append(cls(name, digest, cid))
        return declared


def check_attachments(
    declared: Sequence[DeclaredAttachment], found: Sequence[bytes | Found]
) -> CheckResult:
    """The ``attachments`` check: each declared file's bytes (or why they are not there)."""
    altered = [
        index
        for index, (entry, content) in enumerate(zip(declared, found, strict=True))
        if content is Found.CORRUPTED
        or (isinstance(content, bytes) and sha256_hex(content) != entry.sha256)
    ]
    missing = [index for index, content in enumerate(found) if content is Found.MISSING]
    sealed = [index for index, content in enumerate(found) if content is Found.SEALED]

    def named(indexes: list[int]) -> str:
        return ", ".join(f"{declared[i].name} (#{i})" for i in indexes)

    outcomes = (
        ("altered", altered, CheckResult.invalid, CheckCode.ATTACHMENT_CHANGED,
         "attached file(s) changed since issue"),
        ("missing", missing, CheckResult.invalid, CheckCode.ATTACHMENT_MISSING,
         "attached file(s) not found where the document says"),
        ("sealed", sealed, CheckResult.skipped, CheckCode.ATTACHMENT_SEALED,
         "attached file(s) sealed for other recipients"),
    )  # fmt: skip
    for key, indexes, outcome, code, words in outcomes:
        if indexes:
            found_as: list[JsonValue] = list(indexes)
            return outcome(ATTACHMENTS, code, f"{words}: {named(indexes)}", **{key: found_as})
    return CheckResult.valid(
        ATTACHMENTS,
        CheckCode.ATTACHMENTS_INTACT,
        f"{len(declared)} attached file(s) found, each as issued",
        count=len(declared),
    )
