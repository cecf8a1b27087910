"""Certificate of origin, type ``coo/1`` (e.g. ATIGA Form D, AKFTA Form AK)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from certificates.schemas.attachments import Attachments
from certificates.schemas.base import DocumentModel, Omittable, StrictModel
from certificates.schemas.fields import (
    Authority,
    CountryCode,
    Description,
    DocumentNumber,
    HsCode,
    IsoDate,
    ItemNumber,
    Label,
    Measure,
    MonetaryAmount,
    Party,
    Port,
    Text,
    Weight,
    distinct_item_numbers,
)

__all__ = ["CertificateOfOrigin", "CooItem", "Invoice", "OriginCriterion", "Transport"]

#: As the agreement spells it, e.g. ``WO``, ``PE``, ``CTH``, ``RVC 40%``.
OriginCriterion = Annotated[
    str,
    StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Z0-9][A-Za-z0-9 .%()/+-]*$"),
]


class Transport(StrictModel):
    """Means of transport and route, as far as known (Form D box 3)."""

    departure_date: IsoDate
    vessel_or_flight: Label
    """Vessel name and voyage, flight number, or vehicle registration."""
    port_of_loading: Port
    port_of_discharge: Port


class Invoice(StrictModel):
    number: DocumentNumber
    date: IsoDate


class CooItem(StrictModel):
    """One line of goods."""

    item_number: ItemNumber
    hs_code: HsCode
    description: Description
    marks_and_packages: Omittable[Description] = None
    """Marks and numbers on packages; number and kind of packages."""
    quantity: Measure
    gross_weight: Omittable[Weight] = None
    origin_criterion: OriginCriterion
    """As the agreement spells it, e.g. ``WO``, ``PE``, ``CTH``, ``RVC 40%``."""
    fob_value: MonetaryAmount
    invoice: Invoice


def importing_not_issuing(country: str, info: ValidationInfo) -> str:
    """A certificate of origin's importing country differs from its issuing country."""
    authority = info.data.get("issuing_authority")
    if authority is not None and authority.country == country:
        raise PydanticCustomError(
            "same_country", "the importing country must differ from the issuing country"
        )
    return country


class CertificateOfOrigin(DocumentModel):
    """A certificate of origin issued by the exporting country's authority."""

    TYPE_ID: ClassVar[str] = "coo/1"

    document_type: Literal["coo/1"]
    certificate_number: DocumentNumber
    fta_form: Label
    """The agreement's form, e.g. ``ATIGA Form D``, ``AKFTA Form AK``."""
    issuing_authority: Authority
    exporter: Party
    producer: Omittable[Party] = None
    importer: Party
    """Importer / consignee."""
    transport: Transport
    items: Annotated[
        list[CooItem], Field(min_length=1, max_length=500), AfterValidator(distinct_item_numbers)
    ]
    importing_country: CountryCode
    issue_date: IsoDate
    remarks: Omittable[Text] = None
    attachments: Omittable[Attachments] = None
    """Attached files (invoice, packing list, ...), bound by SHA-256 and CID."""
    back_to_back: bool = False
    """Issued by an intermediate party on the strength of an original certificate."""
    third_party_invoicing: bool = False
    """Invoiced by a company in a third country."""
    issued_retroactively: bool = False
    """Issued after shipment."""

    _not_the_issuing_country = field_validator("importing_country")(importing_not_issuing)

    def document_number(self) -> str:
        return self.certificate_number

    def issuer_country(self) -> str:
        return self.issuing_authority.country

    def addressee_countries(self) -> tuple[str, ...]:
        return (self.importing_country,)

    def issued_on(self) -> date:
        return self.issue_date
