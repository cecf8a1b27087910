"""Printable certificates: a wrapped document as a PDF in its familiar form layout, with
a QR code of its public verification link and the facts of its anchoring in small type.

An outside format: it reads the wrapped document (``certificates``) and the anchoring
facts it is given, and never the chain (no ``ledger`` import). Fonts come from Debian
packages (:mod:`adapters.printing.fonts`).
"""

from adapters.printing.errors import (
    PrintedCertificateGiven,
    PrintingFontsMissing,
    UnprintableDocument,
)
from adapters.printing.fonts import DEBIAN_FONTS, CertificateFonts, installed_fonts
from adapters.printing.link_qr import LinkQrCode, link_qr_code
from adapters.printing.printed_link import is_pdf, printed_target_hash
from adapters.printing.render import PRINTABLE_TYPES, AnchoringFacts, render_certificate

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
