"""Errors of the printable certificate: a document it cannot lay out, fonts it lacks."""

from __future__ import annotations

from certificates.errors import DocexError, InvalidInput


class UnprintableDocument(InvalidInput):
    """Not a wrapped document of a type docex can print (``coo/1``, ``permit/1``,
    ``declaration/1``)."""

    code = "unprintable-document"


class PrintingFontsMissing(DocexError):
    """A font the certificate embeds is not installed (``make setup`` installs it)."""

    code = "printing-fonts-missing"


class PrintedCertificateGiven(InvalidInput):
    """A PDF (a printed certificate) where a wrapped document was expected: it is
    verified by its QR code or target hash, not as a file."""

    code = "printed-certificate"
