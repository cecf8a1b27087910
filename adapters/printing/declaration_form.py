"""The customs declaration (``declaration/1``) in a plain layout: office, declarant,
items and the documents it relies on."""

from __future__ import annotations

from adapters.languages import Messages
from adapters.printing.printed_fields import PrintedFields
from adapters.printing.sheet import Box, CertificateSheet, SheetHeading


def declaration_heading(fields: PrintedFields, t: Messages) -> SheetHeading:
    kind = fields.value("/kind")
    return SheetHeading(
        title=t("print.declaration.title"),
        subtitle=t(f"print.declaration.kind.{kind}") if kind in ("import", "export") else "",
        lines=(
            t("print.declaration.number", number=fields.text("/declarationNumber")),
            t(
                "print.declaration.lodgedIn",
                country=fields.text("/customsOffice/country"),
                date=fields.text("/issueDate"),
            ),
        ),
    )


def draw_declaration(
    sheet: CertificateSheet, fields: PrintedFields, signer: str, t: Messages
) -> None:
    office = "\n".join(
        (
            fields.text("/customsOffice/name"),
            t("print.declaration.code", code=fields.text("/customsOffice/code")),
            t("print.declaration.country", country=fields.text("/customsOffice/country")),
        )
    )
    sheet.boxes(
        Box(t("print.declaration.box1"), fields.party("/declarant"), weight=1.4),
        Box(t("print.declaration.box2"), office),
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
    headings = [
        t("print.declaration.item"),
        t("print.hsCode"),
        t("print.declaration.description"),
        t("print.declaration.quantity"),
        t("print.declaration.value"),
        t("print.declaration.origin"),
    ]
    sheet.item_table(headings, rows, (0.6, 1.1, 3.4, 1.3, 1.4, 0.8))
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
        reference_headings = [
            t("print.declaration.refType"),
            t("print.declaration.refNumber"),
            t("print.declaration.refIssuedIn"),
            t("print.declaration.refTargetHash"),
        ]
        sheet.item_table(reference_headings, references, (1.0, 1.6, 0.8, 4.2))
    sheet.boxes(
        Box(
            t("print.declaration.box5"),
            t("print.declaration.date", date=fields.text("/issueDate"))
            + "\n"
            + t("print.declaration.signed", signer=signer),
        )
    )
