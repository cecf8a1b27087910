"""The import or export permit (``permit/1``): holder, goods, validity and conditions,
signed for the issuing ministry."""

from __future__ import annotations

from adapters.printing.printed_fields import PrintedFields
from adapters.printing.sheet import Box, CertificateSheet, SheetHeading


def permit_heading(fields: PrintedFields) -> SheetHeading:
    kind = fields.text("/kind").upper()
    return SheetHeading(
        title=f"{kind} PERMIT" if kind and kind != "[CONCEALED]" else "PERMIT",
        subtitle=fields.authority("/issuingMinistry"),
        lines=(
            f"Permit No. {fields.text('/permitNumber')}",
            f"Issued in {fields.text('/issuingMinistry/country')} on {fields.text('/issueDate')}",
        ),
    )


def draw_permit(sheet: CertificateSheet, fields: PrintedFields, signer: str) -> None:
    addressees = fields.value("/addresseeCountries")
    sent_to = (
        ", ".join(addressees)
        if isinstance(addressees, list)
        else fields.text("/addresseeCountries", "none")
    )
    sheet.boxes(
        Box("1. Permit holder (name, address, country)", fields.party("/holder"), weight=1.4),
        Box(
            "2. Validity",
            f"From: {fields.text('/validity/validFrom')}\n"
            f"Until: {fields.text('/validity/validUntil')} (included)\n"
            f"Kind: {fields.text('/kind')}\nSent to: {sent_to}",
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
        rows = [["", "", "[concealed]", ""]]
    headings = ("3. No.", "HS code", "Description of goods", "Quantity allowed")
    sheet.item_table(headings, rows, (0.5, 1.1, 4.6, 1.6))
    conditions = fields.lines("/conditions")
    sheet.boxes(
        Box(
            "4. Conditions",
            "\n".join(f"{n}. {text}" for n, text in enumerate(conditions, 1)) or "None.",
        )
    )
    sheet.boxes(
        Box(
            "5. Issued by",
            f"{fields.authority('/issuingMinistry')}\n"
            f"Date of issue: {fields.text('/issueDate')}\n"
            f"Signed electronically (EIP-712) by {signer}; scan the QR code to verify this "
            "permit against the chain.",
        )
    )
