"""The import or export permit (``permit/1``): holder, goods, validity and conditions,
signed for the issuing ministry."""

from __future__ import annotations

from adapters.languages import Messages
from adapters.printing.printed_fields import PrintedFields
from adapters.printing.sheet import Box, CertificateSheet, SheetHeading


def permit_heading(fields: PrintedFields, t: Messages) -> SheetHeading:
    kind = fields.value("/kind")
    return SheetHeading(
        title=t(f"print.permit.title.{kind}")
        if kind in ("import", "export")
        else t("print.permit.title"),
        subtitle=fields.authority("/issuingMinistry"),
        lines=(
            t("print.permit.number", number=fields.text("/permitNumber")),
            t(
                "print.permit.issuedIn",
                country=fields.text("/issuingMinistry/country"),
                date=fields.text("/issueDate"),
            ),
        ),
    )


def draw_permit(sheet: CertificateSheet, fields: PrintedFields, signer: str, t: Messages) -> None:
    addressees = fields.value("/addresseeCountries")
    sent_to = (
        ", ".join(addressees)
        if isinstance(addressees, list)
        else fields.text("/addresseeCountries", t("print.permit.none"))
    )
    sheet.boxes(
        Box(t("print.permit.box1"), fields.party("/holder"), weight=1.4),
        Box(
            t("print.permit.box2"),
            "\n".join(
                (
                    t("print.permit.from", date=fields.text("/validity/validFrom")),
                    t("print.permit.until", date=fields.text("/validity/validUntil")),
                    t("print.permit.kind", kind=fields.text("/kind")),
                    t("print.permit.sentTo", countries=sent_to),
                )
            ),
        ),
    )
    rows = [
        [
            str(index + 1),
            fields.text(f"/goods/{index}/hsCode"),
            fields.text(f"/goods/{index}/description"),
            fields.measure(f"/goods/{index}/quantity"),
        ]
        for index in range(fields.count("/goods"))
    ]
    if not rows and fields.is_concealed("/goods"):
        rows = [["", "", fields.concealed_mark, ""]]
    headings = [
        t("print.permit.no"),
        t("print.hsCode"),
        t("print.permit.description"),
        t("print.permit.quantity"),
    ]
    sheet.item_table(headings, rows, (0.5, 1.1, 4.6, 1.6))
    conditions = fields.lines("/conditions")
    sheet.boxes(
        Box(
            t("print.permit.box4"),
            "\n".join(f"{n}. {text}" for n, text in enumerate(conditions, 1))
            or t("print.permit.noConditions"),
        )
    )
    sheet.boxes(
        Box(
            t("print.permit.box5"),
            "\n".join(
                (
                    fields.authority("/issuingMinistry"),
                    t("print.dateOfIssue", date=fields.text("/issueDate")),
                    t("print.permit.signed", signer=signer),
                )
            ),
        )
    )
