"""The certificate of origin (``coo/1``) as its familiar form: the boxes of an ATIGA
Form D / AKFTA Form AK, numbered as on the paper form, with the certification box filled
by the issuing authority's electronic signature instead of a stamp.
"""

from __future__ import annotations

from adapters.printing.printed_fields import PrintedFields
from adapters.printing.sheet import Box, CertificateSheet, SheetHeading

_ITEM_HEADINGS = (
    "5. Item",
    "6. Marks and numbers, number and kind of packages",
    "7. Description of goods (HS code)",
    "8. Origin criterion",
    "9. Quantity, gross weight and FOB value",
    "10. Invoice number and date",
)
_ITEM_WEIGHTS = (0.6, 2.0, 3.4, 1.1, 1.9, 1.7)


def _mark(fields: PrintedFields, pointer: str) -> str:
    return "[x]" if fields.value(pointer) is True else "[ ]"


def coo_heading(fields: PrintedFields) -> SheetHeading:
    return SheetHeading(
        title="CERTIFICATE OF ORIGIN",
        subtitle=fields.text("/ftaForm"),
        lines=(
            f"Reference No. {fields.text('/certificateNumber')}",
            f"Issued in {fields.text('/issuingAuthority/country')}, "
            f"importing country {fields.text('/importingCountry')}",
            f"Issue date {fields.text('/issueDate')}",
        ),
    )


def _item_row(fields: PrintedFields, index: int) -> list[str]:
    item = f"/items/{index}"
    if fields.value(item) is None:
        return [str(index + 1), fields.text(item), "", "", "", ""]
    quantity = [
        fields.measure(f"{item}/quantity"),
        fields.measure(f"{item}/grossWeight"),
        f"FOB {fields.money(f'{item}/fobValue')}",
    ]
    return [
        fields.text(f"{item}/itemNumber"),
        fields.text(f"{item}/marksAndPackages"),
        f"{fields.text(f'{item}/description')}\nHS {fields.text(f'{item}/hsCode')}",
        fields.text(f"{item}/originCriterion"),
        "\n".join(part for part in quantity if part),
        f"{fields.text(f'{item}/invoice/number')}\n{fields.text(f'{item}/invoice/date')}",
    ]


def draw_coo(sheet: CertificateSheet, fields: PrintedFields, signer: str) -> None:
    transport = "\n".join(
        (
            f"Departure date: {fields.text('/transport/departureDate')}",
            f"Vessel / flight: {fields.text('/transport/vesselOrFlight')}",
            f"Port of loading: {fields.port('/transport/portOfLoading')}",
            f"Port of discharge: {fields.port('/transport/portOfDischarge')}",
        )
    )
    exporter, consignee = fields.party("/exporter"), fields.party("/importer")
    official_use = "\n".join(
        (
            f"{_mark(fields, '/backToBack')} Back-to-back (movement certificate)",
            f"{_mark(fields, '/thirdPartyInvoicing')} Third-party invoicing",
            f"{_mark(fields, '/issuedRetroactively')} Issued retroactively",
        )
    )
    sheet.boxes(
        Box("1. Goods consigned from (exporter's name, address, country)", exporter),
        Box("2. Goods consigned to (consignee's name, address, country)", consignee),
    )
    sheet.boxes(
        Box("3. Means of transport and route (as far as known)", transport),
        Box("4. For official use", official_use),
    )
    producer = fields.party("/producer")
    if producer:
        sheet.boxes(Box("Producer (name, address, country)", producer))
    rows = [_item_row(fields, index) for index in range(fields.count("/items"))]
    if not rows and fields.is_concealed("/items"):
        rows = [["", "", "[concealed]", "", "", ""]]
    sheet.item_table(_ITEM_HEADINGS, rows, _ITEM_WEIGHTS)
    remarks = fields.text("/remarks")
    if remarks:
        sheet.boxes(Box("Remarks", remarks))
    authority = fields.authority("/issuingAuthority")
    sheet.boxes(
        Box(
            "11. Importing country",
            f"{fields.text('/importingCountry')}\nForm: {fields.text('/ftaForm')}",
            weight=0.7,
        ),
        Box(
            "12. Certification by the issuing authority",
            "It is hereby certified, on the basis of control carried out, that the "
            "declaration by the exporter is correct.\n"
            f"{authority}\n"
            f"Date of issue: {fields.text('/issueDate')}\n"
            f"Signed electronically (EIP-712) by {signer}; no stamp or handwritten "
            "signature: scan the QR code to verify this certificate against the chain.",
            weight=1.3,
        ),
    )
