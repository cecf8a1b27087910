"""The certificate of origin (``coo/1``) as its familiar form: the boxes of an ATIGA
Form D / AKFTA Form AK, numbered as on the paper form, with the certification box filled
by the issuing authority's electronic signature instead of a stamp.
"""

from __future__ import annotations

from adapters.languages import Messages
from adapters.printing.printed_fields import PrintedFields
from adapters.printing.sheet import Box, CertificateSheet, SheetHeading

_ITEM_HEADINGS = (
    "print.coo.item5",
    "print.coo.item6",
    "print.coo.item7",
    "print.coo.item8",
    "print.coo.item9",
    "print.coo.item10",
)
_ITEM_WEIGHTS = (0.6, 2.0, 3.4, 1.1, 1.9, 1.7)


def _mark(fields: PrintedFields, pointer: str) -> str:
    return "[x]" if fields.value(pointer) is True else "[ ]"


def coo_heading(fields: PrintedFields, t: Messages) -> SheetHeading:
    return SheetHeading(
        title=t("print.coo.title"),
        subtitle=fields.text("/ftaForm"),
        lines=(
            t("print.coo.reference", number=fields.text("/certificateNumber")),
            t(
                "print.coo.issuedIn",
                country=fields.text("/issuingAuthority/country"),
                importing=fields.text("/importingCountry"),
            ),
            t("print.coo.issueDate", date=fields.text("/issueDate")),
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


def draw_coo(sheet: CertificateSheet, fields: PrintedFields, signer: str, t: Messages) -> None:
    transport = "\n".join(
        (
            t("print.coo.departure", value=fields.text("/transport/departureDate")),
            t("print.coo.vessel", value=fields.text("/transport/vesselOrFlight")),
            t("print.coo.loading", value=fields.port("/transport/portOfLoading")),
            t("print.coo.discharge", value=fields.port("/transport/portOfDischarge")),
        )
    )
    exporter, consignee = fields.party("/exporter"), fields.party("/importer")
    official_use = "\n".join(
        (
            f"{_mark(fields, '/backToBack')} {t('print.coo.backToBack')}",
            f"{_mark(fields, '/thirdPartyInvoicing')} {t('print.coo.thirdParty')}",
            f"{_mark(fields, '/issuedRetroactively')} {t('print.coo.retroactive')}",
        )
    )
    sheet.boxes(Box(t("print.coo.box1"), exporter), Box(t("print.coo.box2"), consignee))
    sheet.boxes(Box(t("print.coo.box3"), transport), Box(t("print.coo.box4"), official_use))
    producer = fields.party("/producer")
    if producer:
        sheet.boxes(Box(t("print.coo.producer"), producer))
    rows = [_item_row(fields, index) for index in range(fields.count("/items"))]
    if not rows and fields.is_concealed("/items"):
        rows = [["", "", fields.concealed_mark, "", "", ""]]
    sheet.item_table([t(key) for key in _ITEM_HEADINGS], rows, _ITEM_WEIGHTS)
    remarks = fields.text("/remarks")
    if remarks:
        sheet.boxes(Box(t("print.coo.remarks"), remarks))
    authority = fields.authority("/issuingAuthority")
    sheet.boxes(
        Box(
            t("print.coo.box11"),
            f"{fields.text('/importingCountry')}\n"
            + t("print.coo.form", form=fields.text("/ftaForm")),
            weight=0.7,
        ),
        Box(
            t("print.coo.box12"),
            "\n".join(
                (
                    t("print.coo.certified"),
                    authority,
                    t("print.dateOfIssue", date=fields.text("/issueDate")),
                    t("print.coo.signed", signer=signer),
                )
            ),
            weight=1.3,
        ),
    )
