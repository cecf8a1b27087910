"""The customs declaration (``declaration/1``) in a plain layout: office, declarant,
items and the documents it relies on."""

from __future__ import annotations

from adapters.printing.printed_fields import PrintedFields
from adapters.printing.sheet import Box, CertificateSheet, SheetHeading


def declaration_heading(fields: PrintedFields) -> SheetHeading:
    kind = fields.text("/kind")
    return SheetHeading(
        title="CUSTOMS DECLARATION",
        subtitle=f"{kind.capitalize()} declaration" if kind else "",
        lines=(
            f"Declaration No. {fields.text('/declarationNumber')}",
            f"Lodged in {fields.text('/customsOffice/country')} on {fields.text('/issueDate')}",
        ),
    )


def draw_declaration(sheet: CertificateSheet, fields: PrintedFields, signer: str) -> None:
    office = (
        f"{fields.text('/customsOffice/name')}\nCode: {fields.text('/customsOffice/code')}\n"
        f"Country: {fields.text('/customsOffice/country')}"
    )
    sheet.boxes(
        Box("1. Declarant (name, address, country)", fields.party("/declarant"), weight=1.4),
        Box("2. Customs office", office),
    )
    rows = []
    for index in range(fields.count("/items")):
        item = f"/items/{index}"
        rows.append(
            [
                fields.text(f"{item}/itemNumber"),
                fields.text(f"{item}/hsCode"),
                fields.text(f"{item}/description"),
                fields.measure(f"{item}/quantity"),
                fields.money(f"{item}/customsValue"),
                fields.text(f"{item}/originCountry"),
            ]
        )
    sheet.item_table(
        ("3. Item", "HS code", "Description", "Quantity", "Customs value", "Origin"),
        rows,
        (0.6, 1.1, 3.4, 1.3, 1.4, 0.8),
    )
    references = []
    for index in range(fields.count("/references")):
        reference = f"/references/{index}"
        references.append(
            [
                fields.text(f"{reference}/documentType"),
                fields.text(f"{reference}/documentNumber"),
                fields.text(f"{reference}/issuingCountry"),
                fields.text(f"{reference}/targetHash"),
            ]
        )
    if references:
        sheet.item_table(
            ("4. Document type", "Number", "Issued in", "Target hash"),
            references,
            (1.0, 1.6, 0.8, 4.2),
        )
    sheet.boxes(
        Box(
            "5. Lodged",
            f"Date: {fields.text('/issueDate')}\nSigned electronically (EIP-712) by {signer}.",
        )
    )
