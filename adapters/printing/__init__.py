"""Printable certificates: a wrapped document as a PDF in its familiar form layout, with
a QR code of its public verification link and the facts of its anchoring in small type.

An outside format: it reads the wrapped document (``certificates``) and the anchoring
facts it is given, and never the chain (no ``ledger`` import). Fonts come from Debian
packages (:mod:`adapters.printing.fonts`).

The renderer and its PDF library load on first use (PEP 562): a node that verifies and
issues, and the printed-link checks the verification route makes, do not pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.printing.anchoring import AnchoringFacts
from adapters.printing.errors import (
    PrintedCertificateGiven,
    PrintingFontsMissing,
    UnprintableDocument,
)
from adapters.printing.fonts import DEBIAN_FONTS, CertificateFonts, installed_fonts
from adapters.printing.link_qr import LinkQrCode, link_qr_code
from adapters.printing.printed_link import is_pdf, printed_target_hash
from certificates.lazy_names import lazy_names

if TYPE_CHECKING:
    from adapters.printing.render import PRINTABLE_TYPES, render_certificate

__getattr__ = lazy_names(
    __name__,
    {
        "PRINTABLE_TYPES": "adapters.printing.render",
        "render_certificate": "adapters.printing.render",
    },
)

__all__ = [
    "DEBIAN_FONTS",
    "PRINTABLE_TYPES",
    "AnchoringFacts",
    "CertificateFonts",
    "LinkQrCode",
    "PrintedCertificateGiven",
    "PrintingFontsMissing",
    "UnprintableDocument",
    "installed_fonts",
    "is_pdf",
    "link_qr_code",
    "printed_target_hash",
    "render_certificate",
]
