"""Import or export permit / licence issued by a ministry, type ``permit/1``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from certificates.schemas.attachments import Attachments
from certificates.schemas.base import DocumentModel, Omittable, StrictModel
from certificates.schemas.fields import (
    Authority,
    CountryList,
    Description,
    DocumentNumber,
    HsCode,
    IsoDate,
    Measure,
    Party,
    Text,
)

__all__ = ["Permit", "PermitGoods", "Validity"]


class PermitGoods(StrictModel):
    """Goods the permit covers, up to the quantity given."""

    hs_code: HsCode
    description: Description
    quantity: Measure


class Validity(StrictModel):
    """The permit is valid from the first to the last day, both included."""

    valid_from: IsoDate
    valid_until: IsoDate

    @field_validator("valid_until")
    @classmethod
    def _not_before_valid_from(cls, until: date, info: ValidationInfo) -> date:
        start = info.data.get("valid_from")
        if start is not None and until < start:
            raise PydanticCustomError(
                "validity_order", "validUntil must not be earlier than validFrom"
            )
        return until


class Permit(DocumentModel):
    """A permit or licence to import or export the goods listed."""

    TYPE_ID: ClassVar[str] = "permit/1"

    document_type: Literal["permit/1"]
    permit_number: DocumentNumber
    kind: Literal["import", "export"]
    issuing_ministry: Authority
    holder: Party
    goods: Annotated[list[PermitGoods], Field(min_length=1, max_length=200)]
    validity: Validity
    conditions: Annotated[list[Text], Field(max_length=50)] = Field(default_factory=list)
    """Conditions attached to the permit, one per entry (may be empty)."""
    issue_date: IsoDate
    addressee_countries_: Omittable[CountryList] = Field(default=None, alias="addresseeCountries")
    """Foreign administrations the permit is sent to (e.g. the importing country's
    customs for an export permit)."""
    attachments: Omittable[Attachments] = None
    """Attached files (invoice, packing list, ...), bound by SHA-256 and CID."""

    def document_number(self) -> str:
        return self.permit_number

    def issuer_country(self) -> str:
        return self.issuing_ministry.country

    def addressee_countries(self) -> tuple[str, ...]:
        return tuple(sorted(self.addressee_countries_ or ()))

    def issued_on(self) -> date:
        return self.issue_date

    def valid_until(self) -> date | None:
        return self.validity.valid_until
