"""The QR code of a certificate: its public verification link, kept small for phones.

A link such as ``http://127.0.0.1:8000/v/0x<64 hex>`` (~90 bytes) encodes in byte mode
at error correction level M (15 % of the symbol restorable: a fold, a stamp, a smudge)
as a version 5 or 6 symbol, 37 or 41 modules a side: printed 34 mm wide that is about
0.8 mm a module, which phone cameras read at arm's length. The level is fixed at M
(segno's ``boost_error`` would raise it when it fits, changing the look for nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import segno

#: a QR code this large or larger is hard for phones to read from paper; links are short
MAX_VERSION: Final = 10
#: light modules to leave around the symbol (the standard's quiet zone)
QUIET_ZONE_MODULES: Final = 4


@dataclass(frozen=True, slots=True)
class LinkQrCode:
    """The QR symbol of one link: version, error level and its dark modules."""

    link: str
    version: int
    error_level: str
    #: rows of the symbol, top to bottom, each module True when dark (no quiet zone)
    rows: tuple[tuple[bool, ...], ...]

    @property
    def modules_per_side(self) -> int:
        return len(self.rows)


def link_qr_code(link: str) -> LinkQrCode:
    """The level-M QR code of ``link`` (ValueError when the link is implausibly long)."""
    symbol = segno.make_qr(link, error="m", boost_error=False)
    version = int(symbol.version)
    if version > MAX_VERSION:
        raise ValueError(
            f"a {len(link)}-character link needs QR version {version}: too dense for "
            "phone cameras; shorten the node's public URL"
        )
    rows = tuple(tuple(bool(module) for module in row) for row in symbol.matrix)
    return LinkQrCode(link=link, version=version, error_level="M", rows=rows)
