"""Certificate of origin, type ``coo/2``: ``coo/1`` plus what ATIGA Form D and the
UN/CEFACT certificate of origin ask for that ``coo/1`` cannot say (docs/standards.md).

Added to ``coo/1``:

- per item, ``originCountry`` (Form D box 11, "produced in"; UN/CEFACT
  ``tradeProduct.originCountry``) and optional ``packages`` (box 7, number and kind of
  packages, kind as a UN/ECE Recommendation 21 code);
- ``transport.modeCode`` (UN/ECE Recommendation 19), optional;
- ``consignee``, optional: the party goods are consigned to (box 2) when it is not the
  importer;
- ``thirdPartyOperator``: the invoicing company and its country, required when
  ``thirdPartyInvoicing`` is true (box 7 / box 13);
- the remaining box 13 marks: ``exhibition``, ``deMinimis``, ``accumulation``,
  ``partialCumulation`` (default ``false``).

``coo/1`` is unchanged and stays valid for ever; a new module, not an edit.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from certificates.schemas.attachments import Attachments
from certificates.schemas.base import DocumentModel, Omittable, StrictModel
from certificates.schemas.coo import Invoice, OriginCriterion, importing_not_issuing
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
    Name,
    Party,
    Port,
    Text,
    Weight,
    distinct_item_numbers,
)

__all__ = ["CertificateOfOriginV2", "CooItemV2", "Packages", "ThirdPartyOperator", "TransportV2"]

#: UN/ECE Recommendation 21 code for the kind of package (``CT`` carton, ``BG`` bag, ...).
PackageKindCode = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{2}$")]
#: UN/ECE Recommendation 19 mode of transport (1 sea, 2 rail, 3 road, 4 air, ...).
TransportModeCode = Annotated[str, StringConstraints(pattern=r"^[0-9]$")]


class TransportV2(StrictModel):
    """Means of transport and route, as far as known (Form D box 3)."""

    departure_date: IsoDate
    vessel_or_flight: Label
    """Vessel name and voyage, flight number, or vehicle registration."""
    mode_code: Omittable[TransportModeCode] = None
    """UN/ECE Recommendation 19: 1 sea, 2 rail, 3 road, 4 air, 5 mail, 8 inland water."""
    port_of_loading: Port
    port_of_discharge: Port


class Packages(StrictModel):
    """Number and kind of packages (Form D box 7)."""

    count: Annotated[int, Field(ge=1, le=9_999_999)]
    kind_code: PackageKindCode
    """UN/ECE Recommendation 21, e.g. ``CT`` carton, ``BG`` bag, ``PK`` package."""


class CooItemV2(StrictModel):
    """One line of goods."""

    item_number: ItemNumber
    hs_code: HsCode
    description: Description
    marks_and_packages: Omittable[Description] = None
    """Marks and numbers on packages."""
    packages: Omittable[Packages] = None
    quantity: Measure
    gross_weight: Omittable[Weight] = None
    origin_criterion: OriginCriterion
    """As the agreement spells it, e.g. ``WO``, ``PE``, ``CTH``, ``RVC 40%``."""
    origin_country: CountryCode
    """Where the goods were produced (Form D box 11)."""
    fob_value: MonetaryAmount
    invoice: Invoice


class ThirdPartyOperator(StrictModel):
    """The company in another country that invoices the goods (third-party invoicing)."""

    name: Name
    country: CountryCode


class CertificateOfOriginV2(DocumentModel):
    """A certificate of origin issued by the exporting country's authority (``coo/2``)."""

    TYPE_ID: ClassVar[str] = "coo/2"

    document_type: Literal["coo/2"]
    certificate_number: DocumentNumber
    fta_form: Label
    """The agreement's form, e.g. ``ATIGA Form D``, ``AKFTA Form AK``."""
    issuing_authority: Authority
    exporter: Party
    producer: Omittable[Party] = None
    importer: Party
    consignee: Omittable[Party] = None
    """The party goods are consigned to (box 2), when it is not the importer."""
    transport: TransportV2
    items: Annotated[
        list[CooItemV2], Field(min_length=1, max_length=500), AfterValidator(distinct_item_numbers)
    ]
    importing_country: CountryCode
    issue_date: IsoDate
    remarks: Omittable[Text] = None
    attachments: Omittable[Attachments] = None
    """Attached files (invoice, packing list, ...), bound by SHA-256 and CID."""
    back_to_back: bool = False
    """Issued by an intermediate party on the strength of an original certificate."""
    third_party_invoicing: bool = False
    """Invoiced by a company in a third country (named in ``thirdPartyOperator``)."""
    third_party_operator: Omittable[ThirdPartyOperator] = None
    issued_retroactively: bool = False
    """Issued after shipment."""
    exhibition: bool = False
    """Goods sent to an exhibition and sold there."""
    de_minimis: bool = False
    """Origin conferred under the de minimis rule."""
    accumulation: bool = False
    """Origin conferred by (full) cumulation with materials of other member states."""
    partial_cumulation: bool = False
    """Partial cumulation: materials of other member states below the RVC threshold."""

    _not_the_issuing_country = field_validator("importing_country")(importing_not_issuing)

    @model_validator(mode="after")
    def _operator_iff_third_party_invoicing(self) -> Self:
        if self.third_party_invoicing and self.third_party_operator is None:
            raise PydanticCustomError(
                "operator_required",
                "thirdPartyOperator is required when thirdPartyInvoicing is true",
            )
        if not self.third_party_invoicing and self.third_party_operator is not None:
            raise PydanticCustomError(
                "operator_without_invoicing",
                "thirdPartyOperator is given but thirdPartyInvoicing is false",
            )
        return self

    def document_number(self) -> str:
        return self.certificate_number

    def issuer_country(self) -> str:
        return self.issuing_authority.country

    def addressee_countries(self) -> tuple[str, ...]:
        return (self.importing_country,)

    def issued_on(self) -> date:
        return self.issue_date
