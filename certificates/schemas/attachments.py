"""Attached files (invoice, packing list, bill of lading; PDF or image), bound into a
document by their SHA-256 and CID.

An optional ``attachments`` field of every document type: absent in every document made
before it (those keep their hashes and verify as before). Each entry is a field of the
document like any other, salted and hashed into the target hash, so changing a file's
digest or location changes the document; the file itself lives in the content store
(``cid``: for a confidential document, the CID of the file's sealed envelope). The node
fills ``size``, ``sha256`` and ``cid`` from the bytes it is given (docs/documents.md).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import Field, StringConstraints

from certificates.schemas.base import StrictModel

__all__ = [
    "ATTACHMENT_KINDS",
    "ATTACHMENT_MEDIA_TYPES",
    "MAX_ATTACHMENTS",
    "Attachment",
    "Attachments",
]

#: what an attached file is
ATTACHMENT_KINDS: Final = ("invoice", "packing-list", "bill-of-lading", "certificate", "other")
#: the file formats docex accepts, as their magic bytes say (certificates.attachments)
ATTACHMENT_MEDIA_TYPES: Final = ("application/pdf", "image/png", "image/jpeg")
MAX_ATTACHMENTS: Final = 20

#: a file name as people read it: no path, no control characters
FileName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f/\\]+$"),
]
#: a CIDv0 (``Qm…``, base58) or CIDv1 in base32 (``b…``): sha2-256 multihash
ContentId = Annotated[
    str,
    StringConstraints(pattern=r"^(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{50,100})$"),
]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class Attachment(StrictModel):
    """One attached file: what it is, and the digest and address that bind it."""

    name: FileName
    """The file's name, as the issuer gave it (e.g. ``invoice-INV-2024-0042.pdf``)."""
    kind: Literal["invoice", "packing-list", "bill-of-lading", "certificate", "other"]
    media_type: Literal["application/pdf", "image/png", "image/jpeg"]
    """The file's format, as its first bytes show it."""
    size: Annotated[int, Field(ge=1, le=1 << 40)]
    """Bytes of the file."""
    sha256: Sha256Hex
    """SHA-256 of the file's bytes, lower-case hex."""
    cid: ContentId
    """Where the content store holds it (the sealed envelope's CID when confidential)."""


Attachments = Annotated[list[Attachment], Field(min_length=1, max_length=MAX_ATTACHMENTS)]
