"""``render_certificate``: a wrapped document, the facts of its anchoring and its public
link in, the bytes of a printable PDF out.

The form follows the document type (:mod:`coo_form`, :mod:`permit_form`,
:mod:`declaration_form`); every page carries the QR code of the link and, in small type,
the target hash, the batch root, the anchoring transaction and block and the signer,
so a reader can check the paper against the chain with any Ethereum client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC
from typing import Any, Final

from adapters.languages import DEFAULT_LANGUAGE, Messages
from adapters.printing.anchoring import AnchoringFacts
from adapters.printing.coo_form import coo_heading, draw_coo
from adapters.printing.declaration_form import declaration_heading, draw_declaration
from adapters.printing.errors import UnprintableDocument
from adapters.printing.fonts import DEBIAN_FONTS, CertificateFonts, installed_fonts
from adapters.printing.link_qr import link_qr_code
from adapters.printing.permit_form import draw_permit, permit_heading
from adapters.printing.printed_fields import PrintedFields
from adapters.printing.sheet import CertificateSheet, SheetHeading
from certificates.errors import InvalidWrappedDocument
from certificates.hashes import to_hex
from certificates.wrapped import WrappedDocument

# fontTools names every table it drops while subsetting (DejaVu's TSI* hinting sources,
# useless in a PDF) as a warning: noise on every render
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

#: concealed fields listed in the footer before "and N more"
_LISTED_CONCEALED: Final = 6


@dataclass(frozen=True, slots=True)
class _DocumentForm:
    heading: Callable[[PrintedFields, Messages], SheetHeading]
    draw: Callable[[CertificateSheet, PrintedFields, str, Messages], None]


_FORMS: Final[Mapping[str, _DocumentForm]] = {
    "coo/1": _DocumentForm(coo_heading, draw_coo),
    "permit/1": _DocumentForm(permit_heading, draw_permit),
    "declaration/1": _DocumentForm(declaration_heading, draw_declaration),
}

PRINTABLE_TYPES: Final = tuple(_FORMS)


def _footer_lines(
    wrapped: WrappedDocument, anchoring: AnchoringFacts, link: str, t: Messages
) -> list[str]:
    anchor = wrapped.batch.anchor
    signature = wrapped.signature
    when = anchoring.anchored_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    def label(key: str) -> str:
        return t(f"print.footer.{key}").ljust(13) + " "

    lines = [
        f"{label('verify')}{link}",
        f"{label('targetHash')}{to_hex(wrapped.target_hash)}   ({anchor.document_type})",
        f"{label('batchRoot')}{to_hex(anchor.root)}   "
        f"({t('print.footer.documents', count=anchor.document_count)})",
        f"{label('anchoring')}{anchoring.tx_hash}   "
        f"{t('print.footer.block', block=anchoring.block_number)}   {when}",
        f"{label('signer')}{signature.signer} (EIP-712)   "
        f"{t('print.footer.chainId', chain=signature.domain.chain_id)}"
        f"   {t('print.footer.registry', registry=signature.domain.verifying_contract)}",
    ]
    concealed = sorted(wrapped.salted.concealed)
    if concealed:
        listed = ", ".join(concealed[:_LISTED_CONCEALED])
        more = len(concealed) - _LISTED_CONCEALED
        lines.append(
            f"{label('concealed')}{listed}"
            + (f" {t('print.footer.more', count=more)}" if more > 0 else "")
        )
    return lines


def render_certificate(
    wrapped_json: Mapping[str, Any],
    anchoring: AnchoringFacts,
    link: str,
    fonts: CertificateFonts = DEBIAN_FONTS,
    language: str = DEFAULT_LANGUAGE,
) -> bytes:
    """The PDF of ``wrapped_json`` (a ``docex-wrapped/1`` document) with a QR code of
        ``link``. The same inputs give the same bytes (the PDF's dates are the anchoring
        time). :class:`UnprintableDocument` for anything that is not a wrapped document of a
        known type; :class:`PrintingFontsMissing` when the fonts are not installed. docex's own
    words (labels, box titles, footer) are in ``language`` (``en``, ``vi``, ``ko``); the
    document's field values are printed as issued."""
    try:
        wrapped = WrappedDocument.from_json(dict(wrapped_json))
    except InvalidWrappedDocument as error:
        raise UnprintableDocument(f"not a wrapped document: {error}", path=error.path) from error
    form = _FORMS.get(wrapped.document_type)
    if form is None:
        raise UnprintableDocument(
            f"no printed form for document type {wrapped.document_type!r}; "
            f"printable: {', '.join(PRINTABLE_TYPES)}"
        )
    t = Messages(language)
    fields = PrintedFields(
        data=wrapped.salted.data,
        concealed=frozenset(wrapped.salted.concealed),
        concealed_mark=t("print.concealed"),
    )
    heading = replace(
        form.heading(fields, t), scan_label=t("print.scan"), page_label=t("print.page")
    )
    sheet = CertificateSheet(
        heading=heading,
        qr_code=link_qr_code(link),
        footer_lines=_footer_lines(wrapped, anchoring, link, t),
        fonts=installed_fonts(fonts),
        created=anchoring.anchored_at.astimezone(UTC),
    )
    sheet.add_page()
    form.draw(sheet, fields, wrapped.signature.signer, t)
    return sheet.document_bytes()
