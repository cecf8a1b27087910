"""The printed sheet every document type shares: A4, a title block with the verification
QR code on every page, form boxes, item tables, and the anchoring facts in small type in
the footer of every page (so that any one page can be checked on its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from fpdf import FPDF, FontFace
from fpdf.enums import TableCellFillMode, XPos, YPos

from adapters.printing.fonts import CertificateFonts
from adapters.printing.link_qr import QUIET_ZONE_MODULES, LinkQrCode

MARGIN: Final = 12.0
PAGE_WIDTH: Final = 210.0
CONTENT_WIDTH: Final = PAGE_WIDTH - 2 * MARGIN
#: the QR symbol's side on paper, quiet zone included (mm)
QR_SIZE: Final = 36.0
#: height of the footer that prints the anchoring facts (mm)
FOOTER_HEIGHT: Final = 27.0

_LABEL_STYLE: Final = FontFace(family="text", emphasis="B", size_pt=6.5, fill_color=(232, 236, 242))
_INK: Final = (20, 20, 20)


@dataclass(frozen=True, slots=True)
class Box:
    """One box of a form: its printed label (``1. Goods consigned from``), its content and
    its share of the row's width."""

    label: str
    text: str
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class SheetHeading:
    """What the title block of every page says."""

    title: str
    subtitle: str
    #: short lines under the title: reference number, issuing country, ...
    lines: tuple[str, ...]
    #: under the QR code, in the certificate's language
    scan_label: str = "Scan to verify"
    #: the page number line, ``{page}`` and ``{pages}`` filled in
    page_label: str = "Page {page} of {pages}"


class CertificateSheet(FPDF):
    """An A4 sheet with docex's title block, QR code and anchoring footer."""

    def __init__(
        self,
        *,
        heading: SheetHeading,
        qr_code: LinkQrCode,
        footer_lines: Sequence[str],
        fonts: CertificateFonts,
        created: datetime,
    ) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._heading = heading
        self._qr_code = qr_code
        self._footer_lines = tuple(footer_lines)
        self.add_font("text", "", fonts.text)
        self.add_font("text", "B", fonts.text_bold)
        self.add_font("mono", "", fonts.mono)
        self.add_font("fallback", "", fonts.fallback)
        self.add_font("fallback", "B", fonts.fallback_bold)
        # DejaVu Sans for the Vietnamese letters DejaVu Sans Mono lacks (footer labels),
        # then Nanum Gothic for Hangul
        self.set_fallback_fonts(["text", "fallback"])
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=FOOTER_HEIGHT)
        # a fixed date (the anchoring time) makes the same document print the same bytes
        self.set_creation_date(created)
        self.set_creator("docex")
        self.set_title(f"{heading.title} {heading.lines[0] if heading.lines else ''}".strip())
        # the verification link, readable without the QR code: a verifier page given this
        # PDF finds it in the document information (the content streams are compressed)
        self.set_subject(qr_code.link)
        self.set_keywords(f"docex-verify {qr_code.link}")
        self.set_text_color(*_INK)
        self.set_draw_color(60, 60, 60)
        self.set_line_width(0.25)

    # --- every page --------------------------------------------------------------------

    def header(self) -> None:
        top = MARGIN
        self._draw_qr_code(PAGE_WIDTH - MARGIN - QR_SIZE, top - 2)
        text_width = CONTENT_WIDTH - QR_SIZE - 4
        self.set_xy(MARGIN, top)
        self.set_font("text", "B", 16)
        self.multi_cell(text_width, 7, self._heading.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("text", "", 9.5)
        self.multi_cell(
            text_width, 4.6, self._heading.subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        self.ln(1)
        self.set_font("text", "", 8.5)
        for line in self._heading.lines:
            self.multi_cell(text_width, 4.2, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("text", "", 6.5)
        self.set_xy(PAGE_WIDTH - MARGIN - QR_SIZE, top - 2 + QR_SIZE - 1)
        self.cell(QR_SIZE, 3, self._heading.scan_label, align="C")
        self.set_xy(MARGIN, max(self.get_y() + 4, top + QR_SIZE + 4))

    def footer(self) -> None:
        self.set_y(-FOOTER_HEIGHT + 3)
        self.line(MARGIN, self.get_y(), PAGE_WIDTH - MARGIN, self.get_y())
        self.ln(1)
        self.set_font("mono", "", 6.3)
        for line in self._footer_lines:
            self.cell(CONTENT_WIDTH, 2.9, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("text", "", 6.5)
        page_line = self._heading.page_label.replace("{page}", str(self.page_no()))
        self.cell(
            CONTENT_WIDTH, 3, page_line.replace("{pages}", "{nb}"), align="R", new_x=XPos.LMARGIN
        )

    def _draw_qr_code(self, x: float, y: float) -> None:
        side = self._qr_code.modules_per_side + 2 * QUIET_ZONE_MODULES
        module = QR_SIZE / side
        # on screen, a click on the QR code opens the link
        self.link(x, y, QR_SIZE, QR_SIZE, self._qr_code.link)
        self.set_fill_color(0, 0, 0)
        for row_index, row in enumerate(self._qr_code.rows):
            top = y + (row_index + QUIET_ZONE_MODULES) * module
            column = 0
            # one rectangle per horizontal run of dark modules: fewer, seamless shapes
            while column < len(row):
                if not row[column]:
                    column += 1
                    continue
                start = column
                while column < len(row) and row[column]:
                    column += 1
                self.rect(
                    x + (start + QUIET_ZONE_MODULES) * module,
                    top,
                    (column - start) * module,
                    module,
                    style="F",
                )

    # --- content -----------------------------------------------------------------------

    def section(self, title: str) -> None:
        """A heading above a group of boxes or a table."""
        self.ln(2)
        self.set_font("text", "B", 8.5)
        self.cell(CONTENT_WIDTH, 5, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def boxes(self, *row: Box) -> None:
        """A row of form boxes side by side: a shaded label above each content."""
        self.set_font("text", "", 8.5)
        with self.table(
            col_widths=[box.weight for box in row],
            width=CONTENT_WIDTH,
            headings_style=_LABEL_STYLE,
            line_height=4.2,
            padding=(1.0, 1.5),
            text_align="LEFT",
            v_align="TOP",
        ) as table:
            labels = table.row()
            for box in row:
                labels.cell(box.label)
            contents = table.row()
            for box in row:
                contents.cell(box.text or " ")

    def item_table(
        self, headings: Sequence[str], rows: Sequence[Sequence[str]], weights: Sequence[float]
    ) -> None:
        """A table of goods; its headings repeat on every page it runs onto."""
        self.set_font("text", "", 7.5)
        with self.table(
            col_widths=list(weights),
            width=CONTENT_WIDTH,
            headings_style=_LABEL_STYLE,
            line_height=3.6,
            padding=(1.0, 1.2),
            text_align="LEFT",
            v_align="TOP",
            cell_fill_mode=TableCellFillMode.NONE,
        ) as table:
            heading_row = table.row()
            for heading in headings:
                heading_row.cell(heading)
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(value or " ")

    def paragraph(self, text: str, size: float = 8.0) -> None:
        self.set_font("text", "", size)
        self.multi_cell(CONTENT_WIDTH, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def document_bytes(self) -> bytes:
        return bytes(self.output())
