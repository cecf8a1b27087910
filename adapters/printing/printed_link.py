"""Reading a printed certificate back: the verification link its PDF carries.

:func:`render_certificate` writes the link into the PDF's document information
(``/Subject`` and ``/Keywords``) and as the QR code's link annotation, both uncompressed,
so a byte search finds it without a PDF library (the verifier page does the same in
JavaScript). A PDF without it (another producer's, or a scan) gives None.
"""

from __future__ import annotations

import re
from typing import Final

PDF_MAGIC: Final = b"%PDF-"
_LINK_TARGET: Final = re.compile(rb"/v/(0x[0-9a-fA-F]{64})(?![0-9a-fA-F])")


def is_pdf(content: bytes) -> bool:
    """Whether ``content`` starts as a PDF file does."""
    return content[:1024].lstrip().startswith(PDF_MAGIC)


def printed_target_hash(pdf: bytes) -> str | None:
    """The target hash (``0x`` + 64 hex, lower case) of the ``/v/{target hash}`` link a
    printed certificate carries, or None."""
    found = _LINK_TARGET.search(pdf)
    return found.group(1).decode().lower() if found else None
