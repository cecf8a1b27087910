"""Customs declaration (import or export), type ``declaration/1``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field

from certificates.schemas.attachments import Attachments
from certificates.schemas.base import DocumentModel, Omittable, StrictModel
from certificates.schemas.fields import (
    CountryCode,
    CountryList,
    CustomsOfficeCode,
    Description,
    DocumentNumber,
    DocumentTypeId,
    HsCode,
    IsoDate,
    ItemNumber,
    Measure,
    MonetaryAmount,
    Name,
    Party,
    TargetHash,
    distinct_item_numbers,
)

__all__ = ["CustomsOffice", "Declaration", "DeclarationItem", "DocumentReference"]


class CustomsOffice(StrictModel):
    """The office the declaration is lodged with."""

    code: CustomsOfficeCode
    name: Name
    country: CountryCode


class DeclarationItem(StrictModel):
    item_number: ItemNumber
    hs_code: HsCode
    description: Description
    quantity: Measure
    customs_value: MonetaryAmount
    origin_country: CountryCode


class DocumentReference(StrictModel):
    """A certificate, permit or other document the declaration relies on."""

    document_type: DocumentTypeId
    """Its versioned type id, e.g. ``coo/1``."""
    document_number: DocumentNumber
    issuing_country: CountryCode
    target_hash: Omittable[TargetHash] = None
    """The referenced document's target hash, when known: pins the exact document."""


class Declaration(DocumentModel):
    """A goods declaration lodged with customs."""

    TYPE_ID: ClassVar[str] = "declaration/1"

    document_type: Literal["declaration/1"]
    declaration_number: DocumentNumber
    kind: Literal["import", "export"]
    customs_office: CustomsOffice
    declarant: Party
    """The declarant or customs agent lodging the declaration."""
    items: Annotated[
        list[DeclarationItem],
        Field(min_length=1, max_length=999),
        AfterValidator(distinct_item_numbers),
    ]
    references: Annotated[list[DocumentReference], Field(max_length=100)] = Field(
        default_factory=list
    )
    """Certificates and permits the declaration relies on (may be empty)."""
    issue_date: IsoDate
    addressee_countries_: Omittable[CountryList] = Field(default=None, alias="addresseeCountries")
    """Foreign administrations the declaration is shared with, if any."""
    attachments: Omittable[Attachments] = None
    """Attached files (invoice, packing list, ...), bound by SHA-256 and CID."""

    def document_number(self) -> str:
        return self.declaration_number

    def issuer_country(self) -> str:
        return self.customs_office.country

    def addressee_countries(self) -> tuple[str, ...]:
        return tuple(sorted(self.addressee_countries_ or ()))

    def issued_on(self) -> date:
        return self.issue_date
